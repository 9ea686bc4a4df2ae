"""Loading: supersede, no-op resubmission, rejection writes nothing, one writer, snapshot, migrations."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import duckdb
import pytest

from pipelines import loading, warehouse
from pipelines.contracts import REFERENCE, REPORTS
from pipelines.ingest import ingest
from tests.conftest import FIXTURES, clean_rows, csv_bytes

TABLES = [*REPORTS, *REFERENCE]


def content_checksum(con) -> dict[str, tuple]:
    """Row count and an order-independent hash of every fact and reference table."""
    return {t: tuple(con.execute(f"select count(*), coalesce(sum(hash(x)), 0) from {t} x").fetchall()[0])
            for t in TABLES}


def _ingest(con, kind, rows, name=None, **kw):
    return ingest(con, name or f"{kind}.csv", csv_bytes(rows), **kw)


def test_a_published_load_has_refreshed_the_materialized_kpis(con):
    assert con.execute("select count(*) from kpi_scorecard").fetchall()[0][0] == 0
    _ingest(con, "headcount", clean_rows("headcount"))
    fte, ratio = con.execute("select peer_fte, peer_to_clinician_ratio from kpi_scorecard where level = 'agency' "
                             "and entity_id = 'AG0001' and quarter = '2026-Q1'").fetchall()[0]
    assert fte == 4.5 and ratio == pytest.approx(4.5 / 9.5)  # PEER_RECOVERY_SUD 4.5 FTE; clinicians 9.5


def test_accepted_file_becomes_one_submission_per_group_with_its_rows(con):
    outcome = _ingest(con, "headcount", clean_rows("headcount"), submitted_by="ana@agency.example")
    assert outcome.status == "loaded"
    sub = con.execute("select agency_id, quarter, report, rows, status, submitted_by, superseded_by "
                      "from submissions").fetchall()
    assert sub == [("AG0001", "2026-Q1", "headcount", 3, "accepted", "ana@agency.example", None)]
    facts = con.execute("select role, headcount, fte, source_row from headcount order by source_row").fetchall()
    assert facts == [("PEER_RECOVERY_SUD", 5, 4.5, 2), ("PEER_SUPERVISOR", 1, 1.0, 3),
                     ("CLINICAL_LICENSED", 10, 9.5, 4)]


def test_newer_submission_supersedes_and_history_is_kept(con):
    first = _ingest(con, "headcount", clean_rows("headcount"))
    rows = clean_rows("headcount")
    rows[1][3], rows[1][4], rows[1][5] = "7", "4", "6.0"
    second = _ingest(con, "headcount", rows, name="headcount-corrected.csv")
    assert second.status == "loaded" and second.load.superseded_ids == first.load.submission_ids
    assert con.execute("select submission_id, superseded_by from submissions order by 1").fetchall() == [
        (first.load.submission_ids[0], second.load.submission_ids[0]), (second.load.submission_ids[0], None)]
    assert con.execute("select sum(headcount), count(distinct submission_id) from headcount").fetchall() == [(18, 1)]


def test_identical_resubmission_is_a_no_op(con):
    _ingest(con, "billing", clean_rows("billing"))
    before = content_checksum(con), con.execute("select count(*) from submissions").fetchall()
    again = _ingest(con, "billing", clean_rows("billing"), name="renamed.csv")
    assert again.status == "unchanged"
    assert (content_checksum(con), con.execute("select count(*) from submissions").fetchall()) == before


def test_header_only_file_records_nothing_to_report(con):
    outcome = ingest(con, "billing.csv", csv_bytes(clean_rows("billing")[:1]), agency="AG0002", quarter="2026-Q1")
    assert outcome.status == "loaded"
    assert con.execute("select agency_id, quarter, report, rows, status from submissions").fetchall() == [
        ("AG0002", "2026-Q1", "billing", 0, "accepted")]
    assert con.execute("select count(*) from billing").fetchall() == [(0,)]


def test_multi_group_backfill_makes_one_submission_per_agency_quarter(con):
    rows = clean_rows("retention")
    extra = [r[:] for r in rows[1:]]
    for r in extra:
        r[0] = "AG0002"
    later = [r[:] for r in rows[1:2]]
    later[0][1], later[0][4] = "2026-Q2", "2026-05-05"
    outcome = _ingest(con, "retention", rows + extra + later)
    assert outcome.status == "loaded" and len(outcome.load.submission_ids) == 3
    assert con.execute("select agency_id, quarter, rows from submissions order by 1, 2").fetchall() == [
        ("AG0001", "2026-Q1", 2), ("AG0001", "2026-Q2", 1), ("AG0002", "2026-Q1", 2)]
    assert con.execute("select count(*) from retention").fetchall() == [(5,)]


@pytest.mark.parametrize("kind,data", [
    ("unreadable", b"\x00\x01binary" * 20),
    ("missing column", csv_bytes([r[:5] for r in clean_rows("headcount")])),
    ("bad values", csv_bytes([*clean_rows("headcount")[:1], ["AG0001", "2026-Q1", "PEER", "-1", "x", "1", "0",
                                                            "", "GRANT"]])),
    ("duplicate rows", csv_bytes(clean_rows("headcount") + clean_rows("headcount")[1:2])),
    ("unknown agency", csv_bytes([r if i == 0 else ["AG0999", *r[1:]] for i, r in
                                  enumerate(clean_rows("headcount"))])),
    ("wrong encoding", b"agency_id,quarter\n\x81\x8d\x8f\n"),
])
def test_every_rejection_leaves_the_warehouse_unchanged(con, kind, data):
    _ingest(con, "headcount", clean_rows("headcount"))
    con.execute("update headcount set fte = fte")  # no-op write; the checksum must see only real changes
    before = content_checksum(con)
    outcome = ingest(con, "upload.csv", data)
    assert outcome.status == "rejected"
    assert content_checksum(con) == before
    status, errors = con.execute("select status, error_count from submissions order by submission_id desc "
                                 "limit 1").fetchall()[0]
    assert status == "rejected" and errors >= 1
    stored = con.execute("select count(*) from submission_findings f join submissions s using (submission_id) "
                         "where s.status = 'rejected'").fetchall()[0][0]
    assert stored == errors


def test_failure_in_the_middle_of_a_load_writes_nothing(con, monkeypatch):
    _ingest(con, "headcount", clean_rows("headcount"))
    before = content_checksum(con), con.execute("select * from submissions order by 1").fetchall()
    real_insert = loading._insert_facts

    def insert_then_fail(connection, kind, typed):
        real_insert(connection, kind, typed)  # facts and the superseding submission are written...
        raise OSError("disk full")           # ...then the load dies before commit

    monkeypatch.setattr(loading, "_insert_facts", insert_then_fail)
    rows = clean_rows("headcount")
    rows[1][3] = "6"
    with pytest.raises(OSError):
        _ingest(con, "headcount", rows, name="second.csv")
    assert (content_checksum(con), con.execute("select * from submissions order by 1").fetchall()) == before


def test_second_writer_process_gets_warehouse_busy(con, env, write):
    """The test process holds the file read-write; another process's ingest must fail fast with exit 2."""
    path = write("h.csv", clean_rows("headcount"))
    proc = subprocess.run([sys.executable, "-m", "pipelines", "ingest", str(path)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert "Warehouse busy" in proc.stderr
    assert con.execute("select count(*) from submissions").fetchall() == [(0,)]


def _version_1_warehouse(path):
    """A warehouse file as the first schema version wrote it, with one accepted submission."""
    old = duckdb.connect(str(path))
    old.execute(textwrap.dedent("""
        create table schema_version (version integer, applied_at timestamp default current_timestamp);
        insert into schema_version (version) values (1);
        create sequence submission_seq start 1;
        create table submissions (submission_id bigint primary key default nextval('submission_seq'),
          agency_id varchar, quarter varchar, report varchar not null, file_name varchar, sha256 varchar not null,
          rows bigint not null, status varchar not null, submitted_by varchar,
          submitted_at timestamp not null default current_timestamp, superseded_by bigint);
        insert into submissions (agency_id, quarter, report, file_name, sha256, rows, status)
          values ('AG0001', '2025-Q4', 'billing', 'old.csv', 'abc', 4, 'accepted');
    """))
    old.close()
    return path


def test_init_upgrades_an_older_schema(env):
    con = warehouse.connect(_version_1_warehouse(env / "old.duckdb"))
    assert warehouse.init(con) == 1
    assert warehouse.schema_version(con) == warehouse.SCHEMA_VERSION
    assert con.execute("select file_name, error_count, warning_count from submissions").fetchall() == [
        ("old.csv", 0, 0)]
    assert warehouse.init(con) == warehouse.SCHEMA_VERSION  # idempotent
    con.close()


def _cli_ingest(path, monkeypatch):
    monkeypatch.setenv("PEER_REFERENCE", str(FIXTURES / "reference"))
    return subprocess.run([sys.executable, "-m", "pipelines", "ingest", str(path)], capture_output=True, text=True,
                          timeout=180)


def test_ingest_into_an_older_warehouse_upgrades_it_first(env, write, monkeypatch):
    _version_1_warehouse(env / "warehouse.duckdb")
    proc = _cli_ingest(write("h.csv", clean_rows("headcount")), monkeypatch)
    assert proc.returncode == 0, proc.stderr
    assert f"Upgraded the warehouse from schema version 1 to {warehouse.SCHEMA_VERSION}" in proc.stderr
    con = duckdb.connect(str(env / "warehouse.duckdb"), read_only=True)
    assert con.execute("select max(version) from schema_version").fetchall() == [(warehouse.SCHEMA_VERSION,)]
    assert con.execute("select file_name, status from submissions order by submission_id").fetchall() == [
        ("old.csv", "accepted"), ("h.csv", "accepted")]
    assert con.execute("select sum(headcount) from headcount").fetchall() == [(16,)]


def test_a_warehouse_from_a_newer_version_is_left_alone(con, env, write, monkeypatch):
    con.execute("insert into schema_version (version) values (?)", [warehouse.SCHEMA_VERSION + 1])
    before = (content_checksum(con), con.execute("select count(*) from submissions").fetchall())
    con.close()
    proc = _cli_ingest(write("h.csv", clean_rows("headcount")), monkeypatch)
    assert proc.returncode == 2 and "newer than this version's" in proc.stderr and "Traceback" not in proc.stderr
    again = warehouse.connect(env / "warehouse.duckdb")
    with pytest.raises(warehouse.WarehouseTooNew):
        warehouse.init(again)
    assert (content_checksum(again), again.execute("select count(*) from submissions").fetchall()) == before
    again.close()


def test_snapshot_is_published_and_readable_by_another_process(con, env):
    _ingest(con, "headcount", clean_rows("headcount"))
    snap = env / "published" / "warehouse.duckdb"
    code = ("import duckdb,sys; c=duckdb.connect(sys.argv[1], read_only=True); "
            "print(c.execute('select sum(headcount) from headcount').fetchall()[0][0])")
    proc = subprocess.run([sys.executable, "-c", code, str(snap)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "16"


def test_two_uploads_at_once_from_two_threads_both_land_whole(con):
    """Threads of one process (the dashboard's case) share the connection through cursors."""
    import threading

    billing = clean_rows("billing")
    retention = clean_rows("retention")
    outcomes, errors = {}, []

    def upload(kind, rows):
        cur = con.cursor()
        try:
            outcomes[kind] = _ingest(cur, kind, rows, publish=False).status
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            cur.close()

    threads = [threading.Thread(target=upload, args=a) for a in (("billing", billing), ("retention", retention))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [] and outcomes == {"billing": "loaded", "retention": "loaded"}
    assert con.execute("select report, rows from submissions order by report").fetchall() == [
        ("billing", 2), ("retention", 2)]
    assert con.execute("select (select count(*) from billing), (select count(*) from retention)").fetchall() == [
        (2, 2)]
