"""Real browser, real sign-in: the dashboard served with [auth] pointing at an OpenID provider on loopback
(oidc-provider-mock), two people signed in at once in two browser contexts, each seeing what their role
in user_roles opens, and each sign-in in the audit trail."""

from __future__ import annotations

import contextlib
import re
import secrets
import types

import pytest

from tests.browser import MARKS, served, settled
from tests.conftest import audit_events

pytestmark = MARKS

SUBMITTER = ("sam-submitter", "submitter@fairstead.example", "Sam Patel")
VIEWER = ("ana-viewer", "viewer@state.example", "Ana Ruiz")
UNVERIFIED = ("mallory", "admin@state.example", "Mallory")  # the administrator's address, not verified
PUBLIC_PAGES = {"State overview", "Integration practices", "Regions", "Certification", "Retention", "Medicaid billing",
                "Metric definitions"}
SUBMITTER_PAGES = PUBLIC_PAGES | {"Agency profile", "Upload a report", "Submissions"}
VIEWER_PAGES = PUBLIC_PAGES | {"Organizations", "Agency profile", "Submissions"}


@pytest.fixture(scope="module")
def provider():
    """The OpenID provider on loopback, knowing the people by their subject (claims as a real one gives)."""
    import oidc_provider_mock

    users = [oidc_provider_mock.User(sub=sub, claims={"email": email, "email_verified": sub != UNVERIFIED[0],
                                                      "name": name})
             for sub, email, name in (SUBMITTER, VIEWER, UNVERIFIED)]
    with oidc_provider_mock.run_server_in_thread(user_claims=users) as server:
        yield f"http://127.0.0.1:{server.server_port}"


@pytest.fixture(scope="module")
def app(demo_warehouse, provider, tmp_path_factory):
    """The dashboard with sign-in configured; `stop()` ends the server (the audit file is then free to read)."""
    work = tmp_path_factory.mktemp("e2e-auth")
    secrets_toml = work / "secrets.toml"
    secrets_toml.write_text(f"""[auth]
redirect_uri = "http://127.0.0.1:{{port}}/oauth2callback"
cookie_secret = "{secrets.token_hex(32)}"
client_id = "peer-dashboard-test"
client_secret = "{secrets.token_hex(16)}"
server_metadata_url = "{provider}/.well-known/openid-configuration"
""")
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(served(demo_warehouse, work, secrets=secrets_toml))
        yield types.SimpleNamespace(url=url, op=provider, work=work, stop=stack.close)


def _settle(page) -> None:
    """Wait until the app has drawn its sidebar (Sign in or Sign out) and the script run has finished."""
    page.wait_for_selector('[data-testid="stApp"]')
    page.wait_for_selector('[data-testid="stSidebar"] [data-testid="stButton"]', timeout=60_000)
    settled(page)
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
        '[data-testid="stException"]').first.inner_text()


def _nav(page) -> set[str]:
    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.get_by_role("link").first.wait_for(timeout=30_000)
    return {link.inner_text().strip().split("\n")[-1] for link in nav.get_by_role("link").all()}


def _sign_in(browser, app, who, shots, shown=None):
    from playwright.sync_api import expect

    sub, email, _ = who
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # one context = one identity
    page = context.new_page()
    page.goto(f"{app.url}/definitions")  # a light page: signing in comes back to the overview anyway
    _settle(page)
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(app.op) + "/oauth2/authorize"), timeout=30_000)
    page.get_by_placeholder("sub").fill(sub)
    page.screenshot(path=str(shots / f"{sub}-provider-form.png"))
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile("^" + re.escape(app.url) + "/?$"), timeout=30_000)
    expect(page.locator('[data-testid="stSidebar"]').get_by_text("Signed in as")).to_contain_text(
        shown or email, timeout=30_000)
    _settle(page)
    return context, page


@pytest.fixture(scope="module")
def submitter(browser, app, tmp_path_factory):
    context, page = _sign_in(browser, app, SUBMITTER, tmp_path_factory.mktemp("submitter-sign-in"))
    yield page
    context.close()


@pytest.fixture(scope="module")
def state_viewer(browser, app, tmp_path_factory):
    context, page = _sign_in(browser, app, VIEWER, tmp_path_factory.mktemp("viewer-sign-in"))
    yield page
    context.close()


def test_a_signed_out_visitor_sees_sign_in_and_only_public_pages(browser, app, tmp_path):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(app.url)
        _settle(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        expect(sidebar.get_by_role("button", name="Sign in")).to_be_visible()
        expect(sidebar.get_by_role("button", name="Sign out")).to_have_count(0)
        expect(page.get_by_text("Demo mode")).to_have_count(0)
        assert _nav(page) == PUBLIC_PAGES
        page.screenshot(path=str(tmp_path / "signed-out.png"), full_page=True)
    finally:
        context.close()


def test_the_submitter_signs_in_and_gets_their_pages(submitter, tmp_path):
    from playwright.sync_api import expect

    sidebar = submitter.locator('[data-testid="stSidebar"]')
    signed_in = sidebar.get_by_text("Signed in as")
    expect(signed_in).to_contain_text("submitter@fairstead.example")
    expect(signed_in).to_contain_text("Agency submitter")
    expect(sidebar.get_by_role("button", name="Sign out")).to_be_visible()
    assert _nav(submitter) == SUBMITTER_PAGES
    submitter.screenshot(path=str(tmp_path / "submitter-signed-in.png"), full_page=True)


def test_the_submitter_cannot_open_another_agency_by_its_address(submitter, app, tmp_path):
    from playwright.sync_api import expect

    submitter.goto(f"{app.url}/agency?agency=AG0003")
    _settle(submitter)
    submitter.screenshot(path=str(tmp_path / "submitter-AG0003.png"), full_page=True)
    main = submitter.locator('[data-testid="stMain"]')
    expect(main.locator('[data-testid="stAlertContentError"]').first).to_be_visible()
    assert "Shelmore" not in submitter.content()
    assert "Shelmore" not in submitter.locator("body").inner_text()

    submitter.goto(f"{app.url}/agency?agency=AG0101")
    _settle(submitter)
    expect(submitter.get_by_role("heading", name="Fairstead Behavioral Health")).to_be_visible(timeout=30_000)
    submitter.screenshot(path=str(tmp_path / "submitter-AG0101.png"), full_page=True)


def test_the_submitter_cannot_open_a_page_outside_their_navigation(submitter, app, tmp_path):
    from playwright.sync_api import expect

    submitter.goto(f"{app.url}/sql")
    _settle(submitter)
    submitter.screenshot(path=str(tmp_path / "submitter-sql.png"), full_page=True)
    expect(submitter.get_by_role("heading", name="SQL workbench")).to_have_count(0)
    expect(submitter.locator('[data-testid="stMain"] textarea')).to_have_count(0)  # no query editor either


def test_a_state_viewer_signed_in_at_the_same_time_sees_state_pages(state_viewer, submitter, app, tmp_path):
    from playwright.sync_api import expect

    signed_in = state_viewer.locator('[data-testid="stSidebar"]').get_by_text("Signed in as")
    expect(signed_in).to_contain_text("viewer@state.example")
    expect(signed_in).to_contain_text("State viewer")
    assert _nav(state_viewer) == VIEWER_PAGES
    state_viewer.goto(f"{app.url}/organizations")
    _settle(state_viewer)
    expect(state_viewer.get_by_role("heading", name="Organizations", exact=True)).to_be_visible(timeout=30_000)
    state_viewer.screenshot(path=str(tmp_path / "viewer-organizations.png"), full_page=True)
    submitter.goto(f"{app.url}/definitions")  # the other person is still signed in as themselves
    _settle(submitter)
    expect(submitter.locator('[data-testid="stSidebar"]').get_by_text("Signed in as")).to_contain_text(
        "submitter@fairstead.example")


def test_signing_out_goes_through_the_provider_and_back_signed_out(submitter, state_viewer, app, tmp_path):
    from playwright.sync_api import expect

    submitter.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
    submitter.wait_for_url(re.compile(re.escape(app.op) + "/oauth2/end_session"), timeout=30_000)
    submitter.get_by_role("button", name="End session").click()
    submitter.wait_for_url(re.compile("^" + re.escape(app.url) + "/"), timeout=30_000)
    sidebar = submitter.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_role("button", name="Sign in")).to_be_visible(timeout=30_000)
    _settle(submitter)
    assert _nav(submitter) == PUBLIC_PAGES
    submitter.screenshot(path=str(tmp_path / "submitter-signed-out.png"), full_page=True)
    state_viewer.goto(f"{app.url}/definitions")  # signing one person out leaves the other signed in
    _settle(state_viewer)
    expect(state_viewer.locator('[data-testid="stSidebar"]').get_by_text("Signed in as")).to_contain_text(
        "viewer@state.example")


def test_an_unverified_email_gives_no_role(browser, app, tmp_path):
    """The provider sends the administrator's address with email_verified false: public pages only."""
    from playwright.sync_api import expect

    context, page = _sign_in(browser, app, UNVERIFIED, tmp_path, shown="sub:mallory")
    try:
        sidebar = page.locator('[data-testid="stSidebar"]')
        expect(sidebar.get_by_text("Signed in as")).to_contain_text("Public")
        expect(sidebar.get_by_text("has not verified your email")).to_be_visible()
        assert _nav(page) == PUBLIC_PAGES
        page.goto(f"{app.url}/audit")
        _settle(page)
        expect(page.get_by_role("heading", name="Audit trail")).to_have_count(0)
        page.screenshot(path=str(tmp_path / "unverified.png"), full_page=True)
    finally:
        context.close()


def test_each_sign_in_is_in_the_audit_trail(submitter, state_viewer, app, tmp_path):
    app.stop()  # the server holds the audit file open while it runs
    events = audit_events(app.work / "warehouse.duckdb", "sign_in")
    rows = [(actor, role, detail) for actor, role, _, detail in events]
    signed_in = {(actor, role) for actor, role, _ in rows}
    assert ("submitter@fairstead.example", "agency_submitter") in signed_in, rows
    assert ("viewer@state.example", "state_viewer") in signed_in, rows
    assert ("sub:mallory", "public") in signed_in, rows
    assert ("admin@state.example", "state_admin") not in signed_in, rows
    assert all(detail.startswith("OIDC sign-in") for _, _, detail in rows), rows
