"""The audit trail: a row for each audited action (who, when, what), kept out of the analysts' snapshot, shown
only to the state administrator, and never changed by the app."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
from streamlit.testing.v1 import AppTest

from pipelines import upload
from pipelines import audit, snapshot
from pipelines.ingest import ingest
from tests.conftest import audit_events, clean_rows, csv_bytes
from tests.test_app import APP

ROOT = Path(APP).parent


def events(con, action: str) -> list[tuple]:
    """(actor, role, target, detail) of one action in the log of the warehouse `con` holds, oldest first."""
    frame = audit.events(con, actions=[action])
    return list(reversed(frame.select("actor", "role", "target", "detail").rows()))


def test_uploads_accepted_rejected_and_replacements_are_audited(con, env):
    rows = clean_rows("headcount")
    first = upload.check(con, "headcount.csv", csv_bytes(rows), agency="AG0001", quarter="2026-Q1",
                         submitted_by="sam@agency.example", role="agency_submitter")
    loaded = upload.submit(first, submitted_by="sam@agency.example", role="agency_submitter")
    (actor, role, target, detail), = events(con, "upload_accepted")
    assert (actor, role, target) == ("sam@agency.example", "agency_submitter", f"#{loaded.submission_ids[0]}")
    assert "headcount · headcount.csv · AG0001 2026-Q1 · 3 rows" in detail

    rows[1][3] = "6"  # a corrected headcount replaces the first file
    second = upload.check(con, "headcount-v2.csv", csv_bytes(rows), agency="AG0001", quarter="2026-Q1",
                          submitted_by="sam@agency.example", role="agency_submitter")
    again = upload.submit(second, submitted_by="sam@agency.example", role="agency_submitter", confirmed=True,
                          acknowledged=True)
    (_, _, target, detail), = events(con, "replacement")
    assert target == f"#{again.submission_ids[0]}" and detail == f"replaces #{loaded.submission_ids[0]}"

    rows[2][2] = "PEER_COACH"  # not a role: rejected at the check, and audited then
    bad = upload.check(con, "headcount-bad.csv", csv_bytes(rows), agency="AG0001", quarter="2026-Q1",
                       submitted_by="sam@agency.example", role="agency_submitter")
    (actor, role, target, detail), = events(con, "upload_rejected")
    assert (actor, target) == ("sam@agency.example", f"#{bad.rejection_id}")
    assert f"{len(bad.report.errors)} errors, 0 warnings" in detail and bad.report.errors
    assert audit.events(con).height == 4  # 2 accepted, 1 replacement, 1 rejected


def test_command_line_loads_are_audited_as_the_operating_system_user(con, env, write):
    path = write("AG0001-headcount.csv", clean_rows("headcount"))
    ingest(con, path, agency="AG0001", quarter="2026-Q1", submitted_by=None)
    (actor, role, _, _), = events(con, "upload_accepted")
    assert role == "cli" and re.fullmatch(r"cli:\S+", actor)


def test_the_demo_history_is_not_audited(demo_warehouse):
    copy = demo_warehouse.with_name("warehouse.audit.duckdb")
    con = duckdb.connect(str(copy), read_only=True) if copy.exists() else None
    if con is not None:
        assert con.execute("select count(*) from audit_log").fetchall() == [(0,)]
        con.close()


def test_the_audit_log_is_not_in_the_snapshot_and_the_app_never_edits_it(con, env):
    audit.record(con, "someone@state.example", "state_admin", "sign_in")
    published = snapshot.publish(con)
    copy = duckdb.connect(str(published), read_only=True)
    try:
        tables = {r[0] for r in copy.execute("select table_name from information_schema.tables").fetchall()}
    finally:
        copy.close()
    assert "submissions" in tables and "audit_log" not in tables
    writers = [f"{p.relative_to(ROOT)}:{n}" for p in [*ROOT.glob("pipelines/*.py"), *ROOT.glob("dashboard/*.py"),
                                                        *ROOT.glob("pages/*.py")]
               for n, line in enumerate(p.read_text().splitlines(), 1)
               if re.search(r"(update|delete from|truncate|drop table)\s+(audit\.)?audit_log", line, re.I)]
    assert writers == []


def test_unknown_actions_are_refused(con, env):
    try:
        audit.record(con, "x", "public", "edited_the_log")
    except ValueError as exc:
        assert "unknown audit action" in str(exc)
    else:
        raise AssertionError("an unknown action was recorded")


def _app(principal: str | None = None, **params: str) -> AppTest:
    """A new demo session; `principal` is picked in the sidebar's switcher, as a reader would."""
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update(params)
    at.run()
    if principal is not None:
        at.sidebar.selectbox(key="demo_principal").set_value(principal).run()
    assert not at.exception, at.exception
    return at


def test_a_new_demo_session_signs_no_one_in(demo_env):
    at = _app()
    at.run()
    at.switch_page("pages/regions.py").run()
    _app(demo_as="analyst@state.example").run()  # a reload or a link naming someone is not a switch either
    assert audit_events(demo_env, "sign_in") == []


def test_a_demo_role_switch_is_one_sign_in(demo_env):
    at = _app("analyst@state.example")
    switched = [("analyst@state.example", "state_analyst", None, "demo mode role switch to State analyst")]
    assert audit_events(demo_env, "sign_in") == switched
    at.run()
    at.switch_page("pages/sql.py").run()
    assert audit_events(demo_env, "sign_in") == switched  # reruns and page changes are not switches
    at.sidebar.selectbox(key="demo_principal").set_value("").run()  # the signed-out visitor signs no one in
    at.sidebar.selectbox(key="demo_principal").set_value("submitter@fairstead.example").run()
    assert audit_events(demo_env, "sign_in") == switched + [
        ("submitter@fairstead.example", "agency_submitter", None, "demo mode role switch to Agency submitter")]


def test_sql_queries_and_demo_sign_ins_are_audited_and_the_admin_sees_them(demo_env):
    at = _app("analyst@state.example")
    at.switch_page("pages/sql.py").run()
    at.text_area(key="sql_text").input("select count(*) as agencies from agencies").run()
    at.button(key="sql_run").click().run()
    assert not at.exception, at.exception
    ran = audit_events(demo_env, "sql_query")
    assert ("analyst@state.example", "state_analyst", "published snapshot",
            "select count(*) as agencies from agencies") in ran
    assert ("analyst@state.example", "state_analyst") in [r[:2] for r in audit_events(demo_env, "sign_in")]

    admin = _app()  # a new session opens as the state administrator
    admin.switch_page("pages/audit.py").run()
    assert not admin.exception, admin.exception
    shown = admin.dataframe[0].value
    assert "select count(*) as agencies from agencies" in shown["detail"].tolist()
    assert set(shown["action"]) == {"Sign-in", "SQL query"}  # actions in words
    signed = shown[shown["action"] == "Sign-in"]
    assert signed["target"].tolist() == [""] and signed["detail"].tolist() == ["demo mode role switch to State analyst"]
    assert not shown.isna().any().any() and "None" not in shown.astype(str).to_numpy()
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", when) for when in shown["occurred_at"])
    assert any(c.value.endswith(": SQL query 1, Sign-in 1") for c in admin.caption)
    width = json.loads(admin.dataframe[0].proto.columns)["action"]["width"]
    # whole at 1280 px, not cut: a width in pixels (not left to the first rows' contents), about 7 px a
    # character in the table's 14 px font, and the cell's padding
    assert isinstance(width, int) and width >= 7 * max(map(len, audit.ACTION_LABELS.values())) + 24
    assert [b for b in admin.get("download_button") if "audit-trail" in b.proto.label]
    assert not [w for w in admin.text_area] and not [b for b in admin.button if "delete" in b.label.lower()]

    admin.multiselect(key="audit_actions").set_value(["sql_query"]).run()
    assert set(admin.dataframe[0].value["action"]) == {"SQL query"}
    assert admin.multiselect(key="audit_actions").format_func("original_download") == "Original file downloaded"


def test_every_action_has_words():
    assert list(audit.ACTION_LABELS) == list(audit.ACTIONS)
    assert all(label and "_" not in label for label in audit.ACTION_LABELS.values())


def test_role_table_problems_are_named(con, env):
    con.execute("delete from user_roles")
    con.execute("insert into user_roles values ('two@state.example', 'state_viewer', null, null), "
                "('two@state.example', 'state_admin', null, null), ('lost@agency.example', 'agency_submitter', "
                "null, null), ('far@agency.example', 'agency_submitter', 'AG9999', null), "
                "('ok@agency.example', 'agency_submitter', 'AG0001', null)")
    from pipelines import access

    assert access.problems(con) == [
        "far@agency.example is bound to AG9999, which is not in agencies",
        "lost@agency.example is an agency_submitter with no agency",
        "two@state.example has more than one role (state_admin, state_viewer): they get none"]
    assert access.lookup(con, "TWO@state.example").role == "public"  # ambiguous: nothing granted
    assert access.lookup(con, "ok@agency.example").agencies == ("AG0001",)
    assert access.lookup(con, None, "ok@agency.example").role == "agency_submitter"  # the subject, when no email


def test_each_warehouse_has_its_own_audit_log(tmp_path, monkeypatch):
    """Two warehouses in one folder (a copy beside the original) open side by side."""
    from pipelines import warehouse

    monkeypatch.delenv("PEER_AUDIT", raising=False)
    first, second = (warehouse.connect(tmp_path / name) for name in ("warehouse.duckdb", "copy.duckdb"))
    try:
        for con in (first, second):
            warehouse.init(con)
        audit.record(first, "a@state.example", "state_admin", "sign_in")
        assert events(first, "sign_in") == [("a@state.example", "state_admin", None, None)]
        assert events(second, "sign_in") == []
    finally:
        first.close()
        second.close()
    assert {p.name for p in tmp_path.glob("*.audit.duckdb")} == {"warehouse.audit.duckdb", "copy.audit.duckdb"}
