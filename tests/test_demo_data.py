"""The synthetic demo data: deterministic, committed as generated, valid, realistic, and telling its stories.

Every check reads the generated CSV files (the same files `python -m pipelines.demo` commits to data/), loaded
in manifest order with later files for an (agency, quarter, report) superseding earlier ones.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines import demo, settings
from pipelines.contracts import AGENCY_ID_PATTERN, PEER_ROLES, REFERENCE, REPORTS

PEER_ROLE_LIST = "(" + ", ".join(f"'{r}'" for r in PEER_ROLES) + ")"
STORIES = {
    "lapse_region": "R3",
    "denial_spike_agency": "AG0101",
    "no_billing_rco": "AG0076",
    "late_submitter": "AG0067",
    "late_quarters": ["2026-Q2", "2026-Q3"],
    "missing_submitter": "AG0082",
    "missing_quarters": ["2026-Q2", "2026-Q3"],
    "resubmitting_agency": "AG0003",
    "resubmitted_quarter": "2026-Q2",
    "new_agencies": ["AG0065", "AG0075", "AG0107"],
    "closed_agency": "AG0073",
}


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for sub in ("reference", "sample") for p in sorted((root / sub).rglob("*.csv"))}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return out, demo.generate(out)


def _report_of(file: str) -> str:
    name = Path(file).stem
    return name.split("_")[2] if file.startswith("agency/") else name


@pytest.fixture(scope="module")
def db(generated):
    """DuckDB holding the reference tables and the current rows of every report (superseding applied)."""
    out, _ = generated
    con = duckdb.connect()
    for name, contract in REFERENCE.items():
        types = {c.name: c.sql_type for c in contract.columns}
        con.execute(f"create table {name} as select * from read_csv(?, header = true, columns = ?, nullstr = '')",
                    [str(out / "reference" / f"{name}.csv"), types])
    manifest = pl.read_csv(out / "sample" / "manifest.csv")
    for kind, contract in REPORTS.items():
        types = {c.name: c.sql_type for c in contract.columns}
        parts = []
        for load, file in enumerate(manifest["file"]):
            if _report_of(file) == kind:
                path = str(out / "sample" / file)
                parts.append(f"select *, {load} as load from read_csv('{path}', header = true, "
                             f"columns = {types!r}, nullstr = '')")
        con.execute(f"create table raw_{kind} as " + " union all ".join(parts))
        con.execute(f"""create table {kind} as select * exclude (load) from raw_{kind}
                        qualify load = max(load) over (partition by agency_id, quarter)""")
    con.execute("""create table quarters as select quarter, min(q_start) q_start, min(q_end) q_end,
                   row_number() over (order by quarter) as qn from (
                   select quarter, make_date(left(quarter, 4)::int, 3 * right(quarter, 1)::int - 2, 1) q_start,
                   (q_start + interval 3 month - interval 1 day)::date q_end from headcount) group by quarter""")
    return con


def _one(con, sql: str):
    return con.execute(sql).fetchall()[0][0]


def _none(con, sql: str) -> None:
    rows = con.execute(sql).fetchall()
    assert rows == [], f"{len(rows)} violating rows, e.g. {rows[:3]}"


# ---------------------------------------------------------------------------------------------------- files

def test_generation_is_deterministic(generated, tmp_path):
    out, first = generated
    second = demo.generate(tmp_path)
    assert _files(out) == _files(tmp_path)
    assert first["stories"] == second["stories"] and first["rows"] == second["rows"]


def test_committed_data_matches_a_fresh_generation(generated):
    out, _ = generated
    fresh = _files(out)
    committed = {f"reference/{p.name}": p.read_bytes() for p in sorted(settings.REFERENCE_DIR.glob("*.csv"))}
    committed |= {f"sample/{p.relative_to(settings.SAMPLE_DIR).as_posix()}": p.read_bytes()
                  for p in sorted(settings.SAMPLE_DIR.rglob("*.csv")) if "rejected" not in p.parts}
    stale = sorted(k for k in fresh.keys() | committed.keys() if fresh.get(k) != committed.get(k))
    assert not stale, f"data/ differs from the generator ({stale[:5]}...): run `python -m pipelines.demo`"


def test_headers_are_the_contract_columns(generated):
    out, result = generated
    for name, contract in REFERENCE.items():
        header = (out / "reference" / f"{name}.csv").read_text().splitlines()[0]
        assert header == ",".join(contract.names), name
    for file in result["files"]:
        header = (out / "sample" / file).read_text().splitlines()[0]
        assert header == ",".join(REPORTS[_report_of(file)].names), file


def test_layout_and_manifest(generated):
    out, result = generated
    sample = out / "sample"
    listed = pl.read_csv(sample / "manifest.csv")
    assert listed.columns == ["file", "submitted_by", "submitted_at"]
    on_disk = {p.relative_to(sample).as_posix() for p in sample.rglob("*.csv")} - {"manifest.csv"}
    assert set(listed["file"]) == on_disk and listed.height == len(on_disk)
    bulk = [f for f in listed["file"] if not f.startswith("agency/")]
    assert len(bulk) == 48 + 6 and len(on_disk) - len(bulk) <= 12  # 4 reports x 12 quarters, 6 assessments
    stamps = [dt.datetime.fromisoformat(s) for s in listed["submitted_at"]]
    assert stamps == sorted(stamps), "manifest is in load order"
    assert max(stamps).date() < dt.date.fromisoformat(demo.DEMO_AS_OF)
    for file, stamp in zip(listed["file"], stamps):
        quarter = re.search(r"\d{4}-Q[1-4]", file).group(0)
        days = (stamp.date() - demo.quarter_end(quarter)).days
        if file.startswith("agency/") and "resubmitted" not in file:
            assert 45 <= days <= 70, file
        elif not file.startswith("agency/"):
            assert 10 <= days <= 25, file
    resub = f"agency/{STORIES['resubmitting_agency']}_{STORIES['resubmitted_quarter']}_billing_resubmitted.csv"
    assert listed["file"].to_list().index(resub) > listed["file"].to_list().index("2026-Q2/billing.csv")
    size = sum(p.stat().st_size for p in sample.rglob("*"))
    assert size < 5 * 1024 * 1024


def test_reference_content(db):
    regions = db.execute("select population, pct_rural from regions").fetchall()
    assert len(regions) == 5 and all(1_300_000 <= p <= 2_500_000 for p, _ in regions)
    assert sum(r > 60 for _, r in regions) == 1
    assert 110 <= _one(db, "select count(*) from agencies") <= 130
    assert 35 <= _one(db, "select count(distinct local_authority) from agencies") <= 45
    assert _one(db, f"select count(*) from agencies where not regexp_matches(agency_id, '{AGENCY_ID_PATTERN}')") == 0
    assert _one(db, "select count(*) from agencies where active_to is not null") == 1
    assert _one(db, "select count(*) from agencies where active_from > '2015-01-01'") in (2, 3)
    assert _one(db, "select bool_and(serves_children) from agencies where agency_type in ('FAMILY_RUN', 'YOUTH_ORG')")
    assert _one(db, "select avg(medicaid_enrolled::int) from agencies") > 0.8
    assert _one(db, "select count(*) from credentials where canonical_role = 'PEER_RECOVERY_SUD'") >= 3
    assert _one(db, "select count(*) from credentials where credential_code = 'NONE'") == 0
    assert _one(db, "select effective_to from billing_codes where hcpcs = 'H2015'") == dt.date(2024, 12, 31)
    assert _one(db, "select effective_from from billing_codes where hcpcs = 'H2016'") == dt.date(2025, 1, 1)
    assert _one(db, "select count(*) from billing_codes where modifier is null") == 3
    assert _one(db, "select direction from targets where component = 'supervision_coverage'") == "lower"
    assert _one(db, "select count(*) from integration_practices where applies_to = 'SERVES_CHILDREN'") == 1
    assert _one(db, "select value from policy where setting = 'demo_as_of'") == demo.DEMO_AS_OF


# ---------------------------------------------------------------------------------------------------- row rules

def test_headcount_rows_follow_the_rules(db):
    _none(db, "select * from headcount where least(headcount, headcount_fulltime, vacancies) < 0 or fte < 0")
    _none(db, "select * from headcount where headcount_fulltime > headcount or fte > headcount")
    _none(db, "select agency_id, quarter, role from headcount group by all having count(*) > 1")
    _none(db, "select * from headcount where (role = 'PEER_SUPERVISOR') = (trained_peer_supervisors is null)")
    _none(db, "select * from headcount where trained_peer_supervisors > headcount")


def test_certification_rows_follow_the_rules(db):
    _none(db, """select * from certification c join quarters using (quarter)
                 where status = 'CERTIFIED_ACTIVE' and not expiration_date >= q_end""")
    _none(db, "select * from certification where expiration_date <= issue_date")
    _none(db, """select * from certification where credential_code <> 'NONE'
                 and credential_code not in (select credential_code from credentials)""")
    _none(db, """select * from certification where (credential_code = 'NONE')
                 <> (status in ('IN_TRAINING', 'NOT_REQUIRED'))""")
    _none(db, """select * from certification where (status in ('IN_TRAINING', 'NOT_REQUIRED'))
                 <> (issue_date is null and expiration_date is null)""")
    _none(db, "select agency_id, quarter, peer_id from certification group by all having count(*) > 1")
    _none(db, f"select * from certification where role not in {PEER_ROLE_LIST}")
    _none(db, "select peer_id from certification group by all having count(distinct agency_id) > 1")
    _none(db, "select * from certification where not regexp_matches(peer_id, '^P\\d{6}$')")


def test_billing_rows_follow_the_rules(db):
    _none(db, """select * from billing b join quarters using (quarter) where not exists (
                   select 1 from billing_codes c where c.hcpcs = b.hcpcs
                   and coalesce(c.modifier, '') = coalesce(b.modifier, '')
                   and c.effective_from <= q_start and coalesce(c.effective_to, q_end) >= q_end)""")
    _none(db, "select * from billing where claims_paid + claims_denied > claims_submitted")
    _none(db, "select * from billing where units_paid + units_denied > units_billed")
    _none(db, "select * from billing where least(amount_billed, amount_paid) < 0 or units_billed <= 0")
    _none(db, "select * from billing where unique_beneficiaries > units_billed or unique_beneficiaries < 1")
    _none(db, """select agency_id, quarter, payer_type, payer_id, hcpcs, modifier from billing
                 group by all having count(*) > 1""")
    _none(db, "select * from billing join agencies using (agency_id) where not medicaid_enrolled")
    _none(db, """select * from billing join agencies using (agency_id) join billing_codes c using (hcpcs)
                 where coalesce(c.modifier, '') = coalesce(billing.modifier, '')
                 and c.service_kind in ('family', 'youth') and not serves_children""")
    _none(db, "select * from billing where hcpcs = 'H2015' and quarter >= '2025-Q1'")
    _none(db, "select * from billing where hcpcs = 'H2016' and quarter < '2025-Q1'")


def test_retention_rows_follow_the_rules(db):
    _none(db, """select * from retention join quarters using (quarter)
                 where event_date not between q_start and q_end or hire_date > event_date""")
    _none(db, """select * from retention where (event = 'SEPARATION')
                 <> (separation_type is not null and separation_reason is not null)""")
    _none(db, "select * from retention where event <> 'SEPARATION' and (separation_type is not null "
              "or separation_reason is not null)")
    _none(db, "select * from retention where event = 'HIRE' and hire_date <> event_date")


def test_agencies_report_only_while_active(db):
    for kind in REPORTS:
        _none(db, f"""select distinct agency_id, quarter from {kind} join agencies using (agency_id)
                      join quarters using (quarter)
                      where active_from > q_start or coalesce(active_to, q_end) < q_end""")


# ---------------------------------------------------------------------------------------------------- cross-report

def test_headcount_matches_certification_by_role(db):
    _none(db, f"""
        with h as (select agency_id, quarter, role, headcount from headcount where role in {PEER_ROLE_LIST}),
             c as (select agency_id, quarter, role, count(*) n from certification group by all)
        select * from h full join c using (agency_id, quarter, role)
        where coalesce(headcount, 0) <> coalesce(n, 0)""")


def test_headcount_balances_with_hires_and_separations(db):
    _none(db, f"""
        with h as (select agency_id, qn, sum(headcount) hc from headcount join quarters using (quarter)
                   where role in {PEER_ROLE_LIST} group by all),
             e as (select agency_id, qn, count(*) filter (event = 'HIRE') hires,
                          count(*) filter (event = 'SEPARATION') seps
                   from retention join quarters using (quarter) group by all)
        select h.agency_id, h.qn, prev.hc, h.hc, hires, seps from h join h prev
          on prev.agency_id = h.agency_id and prev.qn = h.qn - 1
        left join e on e.agency_id = h.agency_id and e.qn = h.qn
        where h.hc <> prev.hc + coalesce(hires, 0) - coalesce(seps, 0)""")


def test_billing_agencies_have_billable_peers_and_plausible_volume(db):
    _none(db, """select distinct agency_id, quarter from billing where not exists (
                   select 1 from certification c where c.agency_id = billing.agency_id and c.quarter = billing.quarter
                   and c.status in ('CERTIFIED_ACTIVE', 'PROVISIONAL'))""")
    per_fte = db.execute(f"""
        with u as (select agency_id, quarter, sum(units_billed) units from billing group by all),
             f as (select agency_id, quarter, sum(fte) fte from headcount where role in {PEER_ROLE_LIST} group by all)
        select max(units / fte) from u join f using (agency_id, quarter)""").fetchall()[0][0]
    assert per_fte < 1400


def test_retention_peers_appear_in_certification(db):
    # a hired peer is on the books at the end of the quarter of hire (unless the agency missed that report)
    _none(db, """select r.* from retention r where event = 'HIRE'
                  and exists (select 1 from certification c where c.agency_id = r.agency_id and c.quarter = r.quarter)
                  and not exists (select 1 from certification c
                                  where c.peer_id = r.peer_id and c.quarter = r.quarter)""")


# ---------------------------------------------------------------------------------------------------- ranges

def test_certification_status_mix_is_realistic(db):
    mix = db.sql("""
        select quarter, 100 * avg((status = 'CERTIFIED_ACTIVE')::int) active,
               100 * avg((status in ('IN_TRAINING', 'PROVISIONAL'))::int) training,
               100 * avg((status = 'EXPIRED_GRACE')::int) grace, 100 * avg((status = 'LAPSED')::int) lapsed,
               100 * avg((status in ('SUSPENDED', 'REVOKED'))::int) suspended
        from certification group by 1 order by 1""").pl()
    assert mix.height == 12
    assert mix["active"].is_between(70, 85).all(), mix
    assert mix["training"].mean() >= 5 and mix["training"].mean() <= 10, mix
    assert mix["grace"].mean() >= 3 and mix["grace"].mean() <= 8, mix
    # outside the lapsing region's story (2024-Q1 to 2025-Q3) lapses stay at 2-6% statewide
    assert mix["lapsed"].gather([0, 8, 9, 10, 11]).is_between(2, 6).all() and mix["lapsed"].max() <= 9, mix
    assert mix["suspended"].mean() < 0.5, mix


def test_peer_fte_per_100k_by_region(db):
    fte = db.sql(f"""
        select region_id, quarter, 1e5 * sum(fte) / any_value(population) per_100k, any_value(pct_rural) rural
        from headcount join agencies using (agency_id) join regions using (region_id)
        where role in {PEER_ROLE_LIST} group by all""").pl()
    assert fte["per_100k"].is_between(5, 25).all(), fte
    by_region = fte.group_by("region_id").agg(pl.col("per_100k").mean(), pl.col("rural").first())
    assert by_region.sort("per_100k")["rural"][0] > 60, "the rural region has the fewest peers per person"


def test_agencies_with_peers_and_billing_by_type(db):
    share = dict(db.execute("""
        select agency_type, avg((agency_id in (select agency_id from certification))::int)
        from agencies group by 1""").fetchall())
    for t in ("SUD_TREATMENT", "RCO", "PEER_RUN"):
        assert share[t] >= 0.8, (t, share[t])
    assert 0.6 <= share["CMHC"] <= 0.8
    for t in ("HOSPITAL_ED", "JAIL_REENTRY"):
        assert 0.3 <= share[t] <= 0.5, (t, share[t])
    no_bill = _one(db, """select avg((agency_id not in (select agency_id from billing))::int) from agencies
                          where agency_type in ('RCO', 'PEER_RUN')
                          and agency_id in (select agency_id from certification)""")
    assert 0.3 <= no_bill <= 0.5


def test_billing_is_realistic(db):
    rates = dict(db.execute("""
        select service_kind, sum(amount_paid) / sum(units_paid) from billing join billing_codes c using (hcpcs)
        where coalesce(c.modifier, '') = coalesce(billing.modifier, '') group by 1""").fetchall())
    assert 11 <= rates["individual"] <= 27 and 2.5 <= rates["group"] <= 7
    denial = db.execute("""select quarter, 100 * sum(units_denied) / sum(units_paid + units_denied) from billing
                           group by 1""").fetchall()
    assert all(4 <= d <= 15 for _, d in denial), denial
    # billing FTE ~ the agency's peer FTE x the share of its peers who may bill (active or provisional)
    per_billing_fte = _one(db, f"""
        with c as (select agency_id, quarter, avg((status in ('CERTIFIED_ACTIVE', 'PROVISIONAL'))::int) billable
                   from certification group by all),
             f as (select agency_id, quarter, sum(fte) fte from headcount where role in {PEER_ROLE_LIST} group by all),
             u as (select agency_id, quarter, sum(units_billed) units from billing group by all)
        select sum(units) / sum(fte * billable)
        from u join f using (agency_id, quarter) join c using (agency_id, quarter)
        """)
    assert 500 <= per_billing_fte <= 1200


def test_workforce_turnover_wages_and_retention(db):
    turnover = db.execute(f"""
        with s as (select left(quarter, 4) yr, count(*) seps from retention where event = 'SEPARATION' group by 1),
             h as (select left(quarter, 4) yr, sum(headcount) / count(distinct quarter) avg_hc from headcount
                   where role in {PEER_ROLE_LIST} group by 1)
        select yr, 100 * seps / avg_hc from s join h using (yr) where yr in ('2024', '2025')""").fetchall()
    assert all(15 <= t <= 50 for _, t in turnover), turnover
    ft = _one(db, "select 100 * sum(headcount_fulltime) / sum(headcount) from headcount "
                  f"where role in {PEER_ROLE_LIST}")
    assert 55 <= ft <= 70
    bands = db.execute("select hourly_wage_band, count(*) from retention where event = 'HIRE' group by 1 "
                       "order by 2 desc").fetchall()
    assert bands[0][0] == "18-20.99"
    reasons = db.execute("select separation_reason, count(*) n from retention where event = 'SEPARATION' "
                         "group by 1 order by 2 desc").fetchall()
    assert reasons[0][0] == "PAY" and reasons[1][0] == "BURNOUT"
    kept = _one(db, """
        with h as (select r.agency_id, r.peer_id, qn from retention r join quarters using (quarter)
                   where event = 'HIRE' and qn <= 6)
        select 100 * avg((exists (select 1 from certification c join quarters q using (quarter)
                          where c.peer_id = h.peer_id and q.qn = h.qn + 4))::int) from h""")
    assert 55 <= kept <= 75


# ---------------------------------------------------------------------------------------------------- stories

def test_story_ids(generated):
    assert generated[1]["stories"] == STORIES


def test_story_lapses_pile_up_in_one_region_then_clear(db):
    lapsed = dict(db.execute("""
        select quarter, 100 * avg((status = 'LAPSED')::int) from certification join agencies using (agency_id)
        where region_id = ? group by 1 order by 1""", [STORIES["lapse_region"]]).fetchall())
    rising = [lapsed[q] for q in ("2024-Q1", "2024-Q3", "2025-Q1", "2025-Q3")]
    assert rising == sorted(rising) and rising[-1] > 2 * lapsed["2023-Q4"] and rising[-1] > 12, lapsed
    other = db.execute("""select max(v) from (select region_id, 100 * avg((status = 'LAPSED')::int) v
                          from certification join agencies using (agency_id)
                          where region_id <> ? and quarter = '2025-Q3' group by 1)""",
                       [STORIES["lapse_region"]]).fetchall()[0][0]
    assert rising[-1] > 1.5 * other
    assert lapsed["2025-Q4"] < rising[-1] / 3, "renewals resume two quarters after the supervision-training plans"


def test_practices_rows_follow_the_rules(db):
    _none(db, "select agency_id, quarter, practice_code from practices group by all having count(*) > 1")
    _none(db, """select p.agency_id, p.quarter, count(*) from practices p join agencies a using (agency_id)
                 group by all having count(*) <> (select count(*) from integration_practices i
                                                  where i.applies_to = 'ALL' or any_value(a.serves_children))""")
    _none(db, """select * from practices p join agencies a using (agency_id)
                 where p.practice_code = 'FAM_YOUTH_PEERS' and not a.serves_children""")
    _none(db, "select * from practices where (rating_peers is null) <> (peer_respondents_count = 0)")
    _none(db, "select * from practices where least(rating_leadership, rating_peers) < 0 "
              "or greatest(rating_leadership, rating_peers) > 4")
    _none(db, "select * from practices where (action_status = 'NONE') <> (action_owner is null)")
    _none(db, """select * from practices where action_status in ('PLANNED', 'IN_PROGRESS')
                 and (action_due_quarter is null or action_due_quarter < quarter)""")
    _none(db, f"""select p.agency_id, p.quarter, max(p.peer_respondents_count), coalesce(any_value(h.peers), 0)
                  from practices p left join (select agency_id, quarter, sum(headcount) peers from headcount
                                              where role in {PEER_ROLE_LIST} group by all) h using (agency_id, quarter)
                  group by all having max(p.peer_respondents_count) > coalesce(any_value(h.peers), 0)""")
    assert {q for (q,) in db.execute("select distinct quarter from practices").fetchall()} == {
        "2023-Q4", "2024-Q2", "2024-Q4", "2025-Q2", "2025-Q4", "2026-Q2"}
    # plans move PLANNED -> IN_PROGRESS -> DONE from one assessment to the next
    moves = dict(db.execute("""
        with p as (select agency_id, practice_code, quarter, action_status,
                          lag(action_status) over (partition by agency_id, practice_code order by quarter) prev
                   from practices)
        select prev || '>' || action_status, count(*) from p where prev is not null group by 1""").fetchall())
    assert moves["PLANNED>IN_PROGRESS"] > 20 and moves["IN_PROGRESS>DONE"] > 20
    assert moves.get("NONE>DONE", 0) == 0 and moves.get("NONE>IN_PROGRESS", 0) == 0


def test_story_denial_spike_after_the_code_change(db):
    rate = dict(db.execute("""select quarter, 100 * sum(units_denied) / sum(units_paid + units_denied)
                              from billing where agency_id = ? group by 1""",
                           [STORIES["denial_spike_agency"]]).fetchall())
    assert rate["2025-Q1"] > 20 and rate["2025-Q2"] > 20
    assert all(rate[q] < 15 for q in rate if q not in ("2025-Q1", "2025-Q2"))
    codes = dict(db.execute("""select quarter < '2025-Q1', string_agg(distinct hcpcs order by hcpcs) from billing
                               where agency_id = ? and modifier is null group by 1""",
                            [STORIES["denial_spike_agency"]]).fetchall())
    assert codes == {True: "H2015", False: "H2016"}


def test_story_rco_with_peers_but_no_billing(db):
    agency = STORIES["no_billing_rco"]
    assert db.execute("select agency_type, medicaid_enrolled from agencies where agency_id = ?",
                      [agency]).fetchall() == [("RCO", True)]
    assert _one(db, f"select min(n) from (select quarter, count(*) n from certification where agency_id = '{agency}'"
                    " group by 1 having count(*) > 0)") >= 5
    assert _one(db, f"select count(distinct quarter) from certification where agency_id = '{agency}'") == 12
    assert _one(db, f"select count(*) from raw_billing where agency_id = '{agency}'") == 0


def test_story_late_and_missing_submitters(generated, db):
    out, _ = generated
    manifest = pl.read_csv(out / "sample" / "manifest.csv")
    late = manifest.filter(pl.col("file").str.starts_with(f"agency/{STORIES['late_submitter']}_"))
    assert late.height == 9  # four reports for two quarters and one self-assessment
    for kind in REPORTS:
        assert _one(db, f"select count(distinct quarter) from {kind} where agency_id = '{STORIES['late_submitter']}' "
                        "and quarter >= '2026-Q2'") == (1 if kind == "practices" else 2)
    missing = STORIES["missing_submitter"]
    for kind in REPORTS:
        assert _one(db, f"select count(*) from raw_{kind} where agency_id = '{missing}' and quarter >= '2026-Q2'") == 0
    assert _one(db, f"select count(distinct quarter) from certification where agency_id = '{missing}'") == 10
    assert _one(db, f"select active_to from agencies where agency_id = '{missing}'") is None


def test_story_resubmitted_billing_supersedes_the_bulk_rows(db):
    agency, quarter = STORIES["resubmitting_agency"], STORIES["resubmitted_quarter"]
    loads = db.execute("""select load, count(*), sum(units_paid) from raw_billing where agency_id = ? and quarter = ?
                          group by 1 order by 1""", [agency, quarter]).fetchall()
    assert len(loads) == 2
    (_, bulk_rows, bulk_paid), (_, new_rows, new_paid) = loads
    assert new_rows > bulk_rows and new_paid > bulk_paid
    assert _one(db, f"select count(*) from billing where agency_id = '{agency}' and quarter = '{quarter}'") == new_rows


def test_story_new_and_closed_agencies(db):
    for agency in STORIES["new_agencies"]:
        assert _one(db, f"select min(quarter) from headcount where agency_id = '{agency}'") == "2025-Q1"
    closed = STORIES["closed_agency"]
    assert _one(db, f"select max(quarter) from headcount where agency_id = '{closed}'") == "2025-Q2"
    assert _one(db, f"select sum(headcount) from headcount where agency_id = '{closed}' and quarter = '2025-Q2'") == 0
    assert _one(db, f"""select count(*) from retention where agency_id = '{closed}' and event = 'SEPARATION'
                        and separation_reason = 'FUNDING_LOSS' and quarter = '2025-Q2'""") > 0


# ---------------------------------------------------------------------------------------------------- national

def test_national_layout_at_small_scale(tmp_path):
    quarters = demo.last_quarters(6)
    result = demo.generate(tmp_path, states=3, quarters=quarters, seed=11)
    assert result["layout"] == "single" and result["agencies"] == 360 and result["regions"] == 15
    for kind in REPORTS:
        df = pl.read_csv(tmp_path / f"{kind}.csv", infer_schema=False)
        assert df.columns == REPORTS[kind].names and df.height == result["rows"][kind]
        assert df["agency_id"].str.contains(AGENCY_ID_PATTERN).all()
        assert set(df["quarter"]) <= set(quarters)
    cert = pl.read_csv(tmp_path / "certification.csv", infer_schema=False)
    assert cert.group_by("peer_id").agg(pl.col("agency_id").n_unique()).filter(pl.col("agency_id") > 1).height == 0
    agencies = pl.read_csv(tmp_path / "reference" / "agencies.csv", infer_schema=False)
    assert agencies["agency_id"].is_unique().all() and agencies["agency_id"][0] == "AG000001"
    assert set(cert["agency_id"]) <= set(agencies["agency_id"])
