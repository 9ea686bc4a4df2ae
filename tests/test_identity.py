"""Roles come only from what the sign-in proves: an email the provider verified (or a provider declared
trusted for emails), and the OIDC subject, which matches only `sub:` rows of user_roles, never an email."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import auth
from pipelines import access
from tests.conftest import audit_events
from tests.test_address_bar import PHISH, assert_safe
from tests.test_app import APP

ROWS = [("admin@state.example", "state_admin", None, "Dana"),
        ("sub:Okta|00uABC", "state_analyst", None, "Lee by subject"),
        ("sub: agency-7 ", "agency_submitter", "AG0001", "Sam by subject"),
        ("plainsubject", "state_viewer", None, "Listed the old way")]


@pytest.fixture
def roles(con):
    con.execute("delete from user_roles")
    con.executemany("insert into user_roles values (?, ?, ?, ?)", ROWS)
    return con


def test_a_verified_email_matches(roles):
    found = access.sign_in(roles, {"email": "Admin@State.example", "email_verified": True, "sub": "x"})
    assert (found.role, found.principal) == ("state_admin", "admin@state.example")


@pytest.mark.parametrize("flag", [False, None, "false", "no", 1, "1", "True "])
def test_an_email_the_provider_did_not_verify_grants_nothing(roles, flag):
    claims = {"email": "admin@state.example", "sub": "mallory", **({} if flag is None else {"email_verified": flag})}
    found = access.sign_in(roles, claims)
    if flag == "True ":  # some providers send the string "true"; it is read without case or spaces
        assert found.role == "state_admin"
        return
    assert found.role == "public"
    assert found.principal == "sub:mallory"  # named by what was proven, not by the claimed email
    assert access.proven(claims) == (None, "sub:mallory")


def test_a_provider_declared_trusted_for_emails_needs_no_flag(roles):
    claims = {"email": "admin@state.example", "sub": "x", "iss": "https://login.state.example/",
              "provider": "default"}
    assert access.sign_in(roles, claims).role == "public"
    assert access.sign_in(roles, claims, ["https://login.state.example/"]).role == "state_admin"  # by issuer
    assert access.sign_in(roles, claims, ["DEFAULT"]).role == "state_admin"  # by provider name
    assert access.sign_in(roles, claims, ["https://other.example"]).role == "public"
    assert access.sign_in(roles, {**claims, "email_verified": False}, ["default"]).role == "state_admin"


@pytest.mark.parametrize("subject", ["admin@state.example", "ADMIN@state.example", " admin@state.example"])
def test_a_subject_never_matches_an_email_row(roles, subject):
    found = access.sign_in(roles, {"sub": subject})
    assert found.role == "public" and found.principal == "sub:" + subject.strip()
    found = access.sign_in(roles, {"sub": subject, "email": "someone@else.example", "email_verified": True})
    assert found.role == "public" and found.principal == "someone@else.example"


def test_a_subject_matches_its_sub_row_exactly(roles):
    found = access.sign_in(roles, {"sub": "Okta|00uABC"})
    assert (found.role, found.principal, found.name) == ("state_analyst", "sub:Okta|00uABC", "Lee by subject")
    assert access.sign_in(roles, {"sub": "okta|00uabc"}).role == "public"  # subjects are case-sensitive
    found = access.sign_in(roles, {"sub": "agency-7"})  # spaces around the listed subject are ignored
    assert (found.role, found.agencies) == ("agency_submitter", ("AG0001",))
    assert access.sign_in(roles, {"sub": "plainsubject"}).role == "public"  # a plain principal is an email
    assert access.sign_in(roles, {"sub": "sub:Okta|00uABC"}).role == "public"


def test_an_email_never_matches_a_sub_row(roles):
    found = access.sign_in(roles, {"email": "sub:Okta|00uABC", "email_verified": True, "sub": "z"})
    assert found.role == "public"


def test_the_verified_email_comes_before_the_subject(roles):
    found = access.sign_in(roles, {"email": "admin@state.example", "email_verified": True, "sub": "Okta|00uABC"})
    assert found.role == "state_admin"
    found = access.sign_in(roles, {"email": "admin@state.example", "sub": "Okta|00uABC"})
    assert (found.role, found.principal) == ("state_analyst", "sub:Okta|00uABC")


def test_odd_claims_grant_nothing(roles):
    for claims in ({}, {"sub": ""}, {"sub": 7, "email": ["admin@state.example"], "email_verified": True},
                   {"email": "  ", "email_verified": True}):
        assert access.sign_in(roles, claims).role == "public"


def test_principals_no_sign_in_can_match_are_named(roles):
    roles.execute("insert into user_roles values ('sub:', 'state_viewer', null, null)")
    assert access.problems(roles) == ["plainsubject is neither an email nor sub:<subject>: no sign-in matches it",
                                      "sub: names no subject after sub:"]


def test_demo_mode_still_switches_by_listed_principal(roles):
    assert access.lookup(roles, "sub:okta|00uabc").role == "state_analyst"  # the switcher lists principals
    assert access.lookup(roles, "admin@state.example").role == "state_admin"


# ----------------------------------------------------------------------------------------------------
# Demo mode (no provider): the switcher's choice is carried in the address as demo_as. These come before
# the tests with sign-in configured: the module's `configured` fixture keeps a provider set once it starts.
# ----------------------------------------------------------------------------------------------------

STATE_ADMIN_PAGES = {"overview", "integration", "regions", "organizations", "agency", "certification", "retention",
                     "billing", "upload", "submissions", "sql", "definitions", "audit"}
ANALYST_PAGES = STATE_ADMIN_PAGES - {"upload", "audit"}
PUBLIC_PAGES = {"overview", "integration", "regions", "certification", "retention", "billing", "definitions"}


def demo_visit(params: dict | None = None) -> AppTest:
    """A new browser session (a first visit or a reload) on an address with these query parameters."""
    assert not auth.provider_configured()
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update(params or {})
    at.run()
    assert not at.exception, at.exception
    return at


def switch(at: AppTest, principal: str) -> AppTest:
    at.sidebar.selectbox(key="demo_principal").set_value(principal).run()
    assert not at.exception, at.exception
    return at


def test_the_demo_role_survives_a_reload_and_a_shared_link(demo_env):
    at = demo_visit()
    assert "demo_as" not in at.query_params and routed(at) == STATE_ADMIN_PAGES  # the default, unnamed
    switch(at, "analyst@state.example")
    assert at.query_params["demo_as"] == "analyst@state.example"
    at.switch_page("pages/sql.py").run()  # a page change keeps it in the address
    assert at.query_params["demo_as"] == "analyst@state.example"

    again = demo_visit(dict(at.query_params))  # a reload, or the address sent to a colleague
    assert again.sidebar.selectbox(key="demo_principal").value == "analyst@state.example"
    assert routed(again) == ANALYST_PAGES and not again.sidebar.warning
    assert any("State analyst" in m.value for m in again.markdown if "Demo mode" in m.value)
    assert again.query_params["demo_as"] == "analyst@state.example"

    switch(again, "")  # the signed-out visitor: an empty demo_as
    assert again.query_params["demo_as"] == ""
    public = demo_visit(dict(again.query_params))
    assert public.sidebar.selectbox(key="demo_principal").value == "" and routed(public) == PUBLIC_PAGES

    switch(public, "admin@state.example")  # back to the default: the address names no one again
    assert "demo_as" not in public.query_params
    submitter = demo_visit({"demo_as": "submitter@fairstead.example", "region": "R3"})
    assert routed(submitter) == PUBLIC_PAGES | {"agency", "upload", "submissions"}
    assert dict(submitter.query_params) == {"demo_as": "submitter@fairstead.example", "region": "R3"}


@pytest.mark.parametrize("forged", ["nobody@state.example", "ADMIN@state.example", " analyst@state.example",
                                    "public", PHISH, "x" * 5000, ["analyst@state.example", "viewer@state.example"]])
def test_a_demo_as_naming_no_listed_person_is_ignored(demo_env, forged):
    at = demo_visit({"demo_as": forged, "region": "R3"})
    assert at.sidebar.selectbox(key="demo_principal").value == "admin@state.example"  # the default, as if absent
    assert routed(at) == STATE_ADMIN_PAGES
    notice = " ".join(w.value for w in at.sidebar.warning)
    assert "Ignored the link's 'demo_as'" in notice
    assert_safe(at, *([forged] if isinstance(forged, str) and forged != "public" else []))  # never echoed
    assert "demo_as" not in at.query_params and at.query_params["region"] == "R3"  # dropped from the address
    switch(at, "viewer@state.example")  # a real choice clears the notice
    assert not at.sidebar.warning and at.query_params["demo_as"] == "viewer@state.example"


# ----------------------------------------------------------------------------------------------------
# The dashboard with sign-in configured (AppTest `at.user` stands for the claims Streamlit keeps)
# ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def configured(demo_warehouse, tmp_path_factory):
    """A private demo warehouse served with an OIDC provider in secrets.toml; `trust(issuers)` rewrites the
    [auth] table's trusted_email_providers."""
    from streamlit import config
    from streamlit.runtime.secrets import secrets_singleton

    work = tmp_path_factory.mktemp("identity")
    shutil.copyfile(demo_warehouse, work / "warehouse.duckdb")
    (work / "published").mkdir()
    shutil.copyfile(demo_warehouse.parent / "published" / "warehouse.duckdb", work / "published" / "warehouse.duckdb")
    secrets = work / "secrets.toml"

    def trust(*issuers: str) -> None:
        listed = ", ".join(f'"{i}"' for i in issuers)
        secrets.write_text('[auth]\nredirect_uri = "http://127.0.0.1:8501/oauth2callback"\n'
                           'cookie_secret = "a-test-cookie-secret-of-some-length"\nclient_id = "dashboard"\n'
                           'client_secret = "secret"\n'
                           'server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"\n'
                           f'trusted_email_providers = [{listed}]\n')
        secrets_singleton._reset()

    trust()
    before = config.get_option("secrets.files")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PEER_DB", str(work / "warehouse.duckdb"))
        mp.setenv("PEER_SNAPSHOT", str(work / "published" / "warehouse.duckdb"))
        mp.delenv("PEER_AS_OF", raising=False)
        config.set_option("secrets.files", [str(secrets)])
        try:
            yield trust, work / "warehouse.duckdb"
        finally:
            config.set_option("secrets.files", before)
            secrets_singleton._reset()


def signed_in_as(user: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.user = {"is_logged_in": True, **user}
    at.run()
    assert not at.exception, at.exception
    return at


def routed(at: AppTest) -> set[str]:
    return {Path(info["script_path"]).stem for info in at._registered_pages.values()}


def test_unverified_email_of_an_administrator_opens_public_pages_only(configured):
    _, db = configured
    at = signed_in_as({"email": "admin@state.example", "email_verified": False, "sub": "mallory",
                       "name": "**Admin** [x](http://127.0.0.1:9/)", "iss": "https://idp.example"})
    assert routed(at) == PUBLIC_PAGES
    captions = [c.value for c in at.sidebar.caption]
    assert any("has not verified your email" in c for c in captions), captions
    assert any("sub\\:mallory" in c for c in captions) and not any("](http" in c or "**Admin**" in c
                                                                  for c in captions)
    event = [e for e in audit_events(db, "sign_in") if e[0] == "sub:mallory"]
    assert event and event[-1][1] == "public" and "not verified" in event[-1][3]


def test_verified_email_and_subject_rows_open_their_pages(configured):
    at = signed_in_as({"email": "admin@state.example", "email_verified": True, "sub": "a"})
    assert "audit" in routed(at)
    at = signed_in_as({"email": "nobody@example.org", "email_verified": True, "sub": "admin@state.example"})
    assert "audit" not in routed(at) and "organizations" not in routed(at)


def test_a_trusted_provider_email_counts_without_the_flag(configured):
    trust, _ = configured
    user = {"email": "admin@state.example", "sub": "a", "iss": "https://login.state.example"}
    assert "audit" not in routed(signed_in_as(user))
    trust("https://login.state.example")
    try:
        assert "audit" in routed(signed_in_as(user))
        assert "audit" not in routed(signed_in_as({**user, "iss": "https://elsewhere.example"}))
    finally:
        trust()


@pytest.mark.parametrize("user", [{"email": "nobody@example.org", "email_verified": True, "sub": "n"}, None])
def test_demo_as_is_never_honoured_with_a_provider(configured, user):
    at = AppTest.from_file(APP, default_timeout=90)
    at.user = {"is_logged_in": True, **user} if user else {"is_logged_in": False}
    at.query_params.update({"demo_as": "admin@state.example"})
    at.run()
    assert not at.exception, at.exception
    assert routed(at) == PUBLIC_PAGES
    assert "demo_as" not in at.query_params  # nor kept in the address
    assert not [w for w in at.sidebar.selectbox if w.key == "demo_principal"]
