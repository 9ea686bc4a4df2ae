"""Roles against pages with sign-in configured (AppTest `at.user`): what each role is routed to, what every
page refuses, and that no page leaks another agency's rows to an agency user or any agency row to the public."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import dataclasses

import duckdb
import pytest
import streamlit
from streamlit.testing.v1 import AppTest

from dashboard import pages_table
from tests.conftest import audit_events
from tests.test_app import APP, chart_data

ROOT = Path(APP).parent
PEOPLE = {"state_admin": "admin@state.example", "state_analyst": "analyst@state.example",
          "state_viewer": "viewer@state.example", "agency_submitter": "submitter@fairstead.example",
          "public": None}
OWN = {"AG0042", "AG0101"}
EVERYONE = {"overview", "integration", "regions", "certification", "retention", "billing", "definitions"}
ROUTED = {  # written out by hand: the contract, not a copy of dashboard.pages_table
    "state_admin": EVERYONE | {"organizations", "agency", "upload", "submissions", "sql", "audit"},
    "state_analyst": EVERYONE | {"organizations", "agency", "submissions", "sql"},
    "state_viewer": EVERYONE | {"organizations", "agency", "submissions"},
    "agency_submitter": EVERYONE | {"agency", "upload", "submissions"},
    "public": EVERYONE,
}
ALL_PAGES = sorted(ROUTED["state_admin"])
AGENCY_ID = re.compile(r"\bAG\d{4}\b")


@pytest.fixture(scope="module")
def signed_in(demo_warehouse, tmp_path_factory):
    """A private copy of the demo warehouse served with an OIDC provider configured in a real secrets.toml."""
    from streamlit import config
    from streamlit.runtime.secrets import secrets_singleton

    work = tmp_path_factory.mktemp("signed-in")
    db = work / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, db)
    (work / "published").mkdir()
    shutil.copyfile(demo_warehouse.parent / "published" / "warehouse.duckdb", work / "published" / "warehouse.duckdb")
    secrets = work / "secrets.toml"
    secrets.write_text('[auth]\nredirect_uri = "http://127.0.0.1:8501/oauth2callback"\n'
                       'cookie_secret = "a-test-cookie-secret-of-some-length"\nclient_id = "dashboard"\n'
                       'client_secret = "secret"\n'
                       'server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"\n')
    before = config.get_option("secrets.files")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PEER_DB", str(db))
        mp.setenv("PEER_SNAPSHOT", str(work / "published" / "warehouse.duckdb"))
        mp.delenv("PEER_AS_OF", raising=False)
        config.set_option("secrets.files", [str(secrets)])
        secrets_singleton._reset()
        try:
            yield db
        finally:
            config.set_option("secrets.files", before)
            secrets_singleton._reset()


def _user(role: str) -> dict:
    email = PEOPLE[role]
    return ({"is_logged_in": True, "email": email, "email_verified": True, "sub": f"sub-{role}"} if email
            else {"is_logged_in": False})


def navigation_spy(monkeypatch) -> list[dict[str, list[tuple]]]:
    """What app.py hands st.navigation on each run: {section: [(script, title, icon, url path)]}."""
    calls = []
    real = streamlit.navigation

    def spy(pages, **kwargs):
        calls.append({section: [(str(Path(p._page).relative_to(ROOT)), p.title, p.icon, p.url_path) for p in entries]
                      for section, entries in pages.items()})
        return real(pages, **kwargs)

    monkeypatch.setattr(streamlit, "navigation", spy)
    return calls


def table_for(role: str) -> dict[str, list[tuple]]:
    """The page table filtered by role, as the navigation should show it (the default page at the root)."""
    return {section: [(p.script, p.title, p.icon, "" if p.default else p.url_path) for p in entries]
            for section, entries in pages_table.sections(role).items()}


def app_as(role: str, page: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.user = _user(role)
    at.query_params.update(params)
    at.run()
    if page:
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def page_alone(role: str, page: str, **params: str) -> AppTest:
    """The page's own script after identifying the user, without app.py's navigation: what require() does
    for someone who reaches the page some other way."""
    at = AppTest.from_string("import runpy\nfrom dashboard import auth, filters\nviewer = auth.identify()\n"
                             "filters.sidebar(None if viewer.is_state else viewer.agencies)\n"
                             f"runpy.run_path({str(ROOT / 'pages' / (page + '.py'))!r}, run_name='__main__')\n",
                             default_timeout=90)
    at.user = _user(role)
    at.query_params.update(params)
    return at.run()


def shown_text(at: AppTest) -> str:
    """Everything the page put on screen as text: tables, chart data, markdown, metrics, captions, alerts."""
    parts = [str(frame.value.to_dict("records")) for frame in at.dataframe
             if "example" not in frame.value.columns]  # data dictionaries: an id's format is not agency data
    parts += [str(chart_data(c).to_dicts()) for c in at.get("vega_lite_chart")]
    for kind in ("markdown", "caption", "title", "subheader", "error", "warning", "info", "success", "metric"):
        parts += [str(getattr(e, "value", "")) + str(getattr(e, "label", "")) for e in at.get(kind)]
    return "\n".join(parts)


def other_agency_names() -> set[str]:
    with open(ROOT / "data" / "reference" / "agencies.csv") as fh:
        return {row["name"] for row in csv.DictReader(fh) if row["agency_id"] not in OWN}


@pytest.mark.parametrize("role", PEOPLE)
def test_each_role_is_routed_to_its_pages_only(signed_in, role, monkeypatch):
    calls = navigation_spy(monkeypatch)
    at = app_as(role)
    routed = {Path(info["script_path"]).stem for info in at._registered_pages.values()}
    assert routed == ROUTED[role]
    assert calls[-1] == table_for(role)  # sections, titles, icons and addresses: the table's, for this role
    for page in set(ALL_PAGES) - routed:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"pages/{page}.py")


def test_every_page_file_is_in_the_table_and_guards_itself_by_its_key():
    keys = [p.key for p in pages_table.PAGES]
    assert len(keys) == len(set(keys)) and len({p.url_path for p in pages_table.PAGES}) == len(keys)
    assert {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")} == {p.script for p in pages_table.PAGES}
    for page in pages_table.PAGES:
        guards = re.findall(r"auth\.require\((.*?)\)", (ROOT / page.script).read_text())
        assert guards == [repr(page.key).replace("'", '"')], (page.key, guards)
        assert page.roles <= set(PEOPLE), page.key
    assert [p.key for p in pages_table.PAGES if p.default] == ["overview"]
    assert set(ALL_PAGES) == set(keys)  # the hand-written contract above names every page


def test_router_navigation_and_guard_follow_the_one_table(signed_in, monkeypatch):
    """Change the table alone: the navigation, the routes and the page guard all follow it."""
    changed = []
    for page in pages_table.PAGES:
        if page.key == "sql":  # opened to state viewers too, in a section and with a title of its own
            changed.append(dataclasses.replace(page, title="Workbench under test", section="Testing",
                                               icon=":material/science:", roles=page.roles | {"state_viewer"}))
        elif page.key != "definitions":  # dropped from the table altogether (no other page links to it)
            changed.append(page)
    monkeypatch.setattr(pages_table, "PAGES", tuple(changed))
    calls = navigation_spy(monkeypatch)

    at = app_as("state_viewer")
    routed = {Path(info["script_path"]).stem for info in at._registered_pages.values()}
    assert routed == ROUTED["state_viewer"] - {"definitions"} | {"sql"}
    assert calls[-1]["Testing"] == [("pages/sql.py", "Workbench under test", ":material/science:", "sql")]
    assert "Reference" not in calls[-1]  # a section left with no page is not shown
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/definitions.py")
    at.switch_page("pages/sql.py").run()
    assert not at.exception and at.title[0].value == "SQL workbench"

    alone = page_alone("state_viewer", "sql")  # the guard opens it too
    assert not [e.value for e in alone.error if "not available to your role" in e.value] and alone.title
    refused = page_alone("state_admin", "definitions")  # and refuses a page the table does not have, to anyone
    assert [e.value for e in refused.error if "not available to your role" in e.value] and not refused.title


@pytest.mark.parametrize("role", PEOPLE)
def test_every_allowed_page_renders_for_the_role(signed_in, role):
    for page in sorted(ROUTED[role]):
        at = app_as(role, page, **({"agency": "AG0101"} if page == "agency" else {}))
        assert at.title, f"{page} shows no title for {role}"
        assert not [e.value for e in at.error if "not available to your role" in e.value], (role, page)


@pytest.mark.parametrize("role", PEOPLE)
def test_every_forbidden_page_refuses_without_data_and_is_audited(signed_in, role):
    forbidden = sorted(set(ALL_PAGES) - ROUTED[role])
    for page in forbidden:
        at = page_alone(role, page, agency="AG0003")
        assert not at.exception, at.exception
        assert [e.value for e in at.error if "not available to your role" in e.value], (role, page)
        assert not at.dataframe and not at.get("vega_lite_chart") and not at.title, (role, page)
        assert "Shelmore" not in shown_text(at)
    denied = {(target, actor_role) for _, actor_role, target, _ in audit_events(signed_in, "access_denied")}
    assert {(page, role) for page in forbidden} <= denied


def test_allowed_page_alone_still_renders(signed_in):
    """The refusal above is the role's, not a side effect of running a page without app.py."""
    at = page_alone("state_viewer", "organizations")
    assert not at.exception and at.title[0].value == "Organizations" and at.dataframe


@pytest.mark.parametrize("page", sorted(ROUTED["agency_submitter"]))
def test_agency_user_sees_no_other_agency_on_any_page(signed_in, page):
    at = app_as("agency_submitter", page, **({"agency": "AG0101"} if page == "agency" else {}))
    text = shown_text(at)
    assert set(AGENCY_ID.findall(text)) <= OWN
    assert not [name for name in other_agency_names() if name in text]


@pytest.mark.parametrize("page", sorted(ROUTED["public"]))
def test_public_sees_no_agency_at_all(signed_in, page):
    at = app_as("public", page)
    text = shown_text(at)
    assert not AGENCY_ID.findall(text)
    assert not [name for name in other_agency_names() if name in text]


def test_agency_id_in_the_address_never_widens_access(signed_in):
    at = app_as("agency_submitter", "agency", agency="AG0003")
    assert [e.value for e in at.error if "only your own agencies" in e.value and "AG0003" not in e.value]
    assert not at.dataframe and not at.get("vega_lite_chart") and not at.get("metric")
    assert "Shelmore" not in shown_text(at)
    assert ("agency AG0003", "agency_submitter") in {(t, r) for _, r, t, _ in audit_events(signed_in, "access_denied")}

    own = app_as("agency_submitter", "agency", agency="AG0101")
    assert own.title[0].value == "Fairstead Behavioral Health"

    state = app_as("state_viewer", "agency", agency="AG0003")
    assert state.title[0].value == "Shelmore Behavioral Health"  # the same link works for state staff


def test_another_agencys_submission_is_refused(signed_in):
    con = duckdb.connect(str(signed_in.parent / "published" / "warehouse.duckdb"), read_only=True)
    theirs, mine = (con.execute("select min(submission_id) from submissions where agency_id = ?", [a]).fetchall()[0][0]
                    for a in ("AG0003", "AG0101"))
    con.close()
    at = app_as("agency_submitter", "submissions", submission=str(theirs))
    assert [e.value for e in at.error if f"#{theirs}" in e.value]
    assert not at.dataframe and not at.get("download_button")
    assert "AG0003" not in shown_text(at).replace(f"#{theirs}", "")
    own = app_as("agency_submitter", "submissions", submission=str(mine))
    assert own.subheader[0].value.startswith(f"Submission #{mine}: AG0101")


def test_agency_user_uploads_only_for_own_agencies(signed_in):
    at = app_as("agency_submitter", "upload")
    assert set(at.selectbox(key="up_agency").options) == {"AG0042 · Nordale Peer Support Collective",
                                                          "AG0101 · Fairstead Behavioral Health"}
    admin = app_as("state_admin", "upload")
    assert len(admin.selectbox(key="up_agency").options) > 100


def test_signed_out_visitor_is_offered_sign_in_and_sees_public_figures(signed_in):
    at = app_as("public")
    assert [b.label for b in at.sidebar.button] == ["Sign in"]
    assert any("suppressed" in c.value for c in at.caption)
    assert not at.warning or all("Demo mode" not in w.value for w in at.warning)


def test_signed_in_person_without_a_role_is_public(signed_in):
    at = AppTest.from_file(APP, default_timeout=90)
    at.user = {"is_logged_in": True, "email": "stranger@example.com", "email_verified": True, "sub": "stranger"}
    at.run()
    routed = {Path(info["script_path"]).stem for info in at._registered_pages.values()}
    assert routed == ROUTED["public"]
    assert any("no role on this dashboard" in c.value for c in at.sidebar.caption)
    assert ("stranger@example.com", "public", None, None)[:2] in [r[:2] for r in audit_events(signed_in, "sign_in")]


def test_sign_in_is_audited_once_per_session(signed_in):
    before = len(audit_events(signed_in, "sign_in"))
    at = app_as("state_analyst")
    at.run()  # a rerun in the same session is not a new sign-in
    rows = audit_events(signed_in, "sign_in")
    assert len(rows) == before + 1
    assert rows[-1][:2] == ("analyst@state.example", "state_analyst")


def test_row_level_downloads_are_for_analysts_administrators_and_the_agencys_own_users(signed_in):
    con = duckdb.connect(str(signed_in.parent / "published" / "warehouse.duckdb"), read_only=True)
    mine = con.execute("select min(submission_id) from submissions where agency_id = 'AG0101' and status = "
                       "'accepted'").fetchall()[0][0]
    con.close()

    def downloads(at: AppTest) -> set[str]:
        return {b.proto.label for b in at.get("download_button")}

    for role, allowed in (("state_viewer", False), ("state_analyst", True), ("state_admin", True)):
        cert = app_as(role, "certification")
        assert ("Download expiring-certifications (CSV)" in downloads(cert)) is allowed, role
        assert allowed or any("row-level data are for state analysts" in c.value for c in cert.caption)
        history = app_as(role, "submissions", submission=str(mine))
        assert any(label.startswith("Download findings-") or label.startswith("Download history-")
                   for label in downloads(history))  # the submission's own record stays downloadable
    # the agency's own users download their own rows (the only rows their pages hold)
    own = app_as("agency_submitter", "certification")
    assert "Download expiring-certifications (CSV)" in downloads(own)
