"""Who is looking: sign-in through the OIDC provider in secrets.toml (st.login), or demo mode without one.

The Viewer (pipelines.access) is worked out once per run in app.py, from the sign-in alone; pages call
require() for it, which refuses a page the role does not open (dashboard.pages_table) even when the address
names it.

Demo mode's choice of person is carried in the address as `demo_as` (the principal as the switcher lists it;
empty for the signed-out visitor; absent for the default), so a reload or a shared link keeps it. A `demo_as`
that names no one in user_roles is ignored, and it is never read when a sign-in provider is configured.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import streamlit as st

from dashboard import data, pages_table
from pipelines import access, audit, settings
from pipelines.access import PUBLIC, Viewer

DEMO_DEFAULT = "admin@state.example"
SIGNED_OUT = ""
DEMO_PARAM = "demo_as"
_KEY, _SIGNED_IN_KEY, _UNVERIFIED_KEY = "viewer", "audited_sign_in", "email_unverified"
_DEMO_KEY, _DEMO_IGNORED = "demo_principal", "demo_as_ignored"
CLAIMS = ("email", "email_verified", "sub", "name", "iss", "provider")


def provider_configured() -> bool:
    """An [auth] section in the secrets.toml Streamlit reads (beside app.py, in .streamlit/ or ~/.streamlit/)."""
    from streamlit.auth_util import get_secrets_auth_section

    return bool(get_secrets_auth_section())


def provider_on_disk(root: Path, named: list[Path] = ()) -> bool:
    """The same question before the server starts (serve.py): an [auth] table in one of the `named` secrets
    files or a secrets.toml in the usual places."""
    for path in (*named, root / ".streamlit/secrets.toml", Path.cwd() / ".streamlit/secrets.toml",
                 Path.home() / ".streamlit/secrets.toml"):
        try:
            if tomllib.loads(path.read_text(encoding="utf-8")).get("auth"):
                return True
        except (OSError, tomllib.TOMLDecodeError):
            continue
    return False


def trusted_email_providers() -> tuple[str, ...]:
    """`trusted_email_providers` in the secrets' [auth] table: provider names (`default` for a single [auth]
    provider, or the NAME of [auth.NAME]) or issuer URLs whose email claim counts even without
    `email_verified: true` (a provider that only ever issues accounts it controls, such as a state tenant)."""
    from streamlit.auth_util import get_secrets_auth_section

    listed = get_secrets_auth_section().get("trusted_email_providers") or ()
    return (listed,) if isinstance(listed, str) else tuple(str(t) for t in listed)


REFUSAL = ("Sign-in is not configured and demo mode is off (PEER_DEMO_MODE=off), so the dashboard will not "
           "open. Configure an OIDC provider in .streamlit/secrets.toml (see .streamlit/secrets.example.toml "
           "and the README, 'Sign-in, roles and privacy'), or set PEER_DEMO_MODE=on to run the demo.")


def demo() -> bool:
    return not provider_configured() and settings.demo_mode()


def refused() -> bool:
    """No sign-in provider and demo mode turned off: the app must not open."""
    return not provider_configured() and not settings.demo_mode()


def identify() -> Viewer:
    """The viewer for this run (app.py calls it once; pages use require())."""
    if provider_configured():
        user = st.user
        if not user.get("is_logged_in"):
            found = PUBLIC
        else:  # only what the provider proved: a verified email, the subject (see access.sign_in)
            claims, trusted = {key: user.get(key) for key in CLAIMS}, trusted_email_providers()
            found = access.sign_in(data.connection(), claims, trusted)
            st.session_state[_UNVERIFIED_KEY] = bool(claims["email"]) and not access.proven(claims, trusted)[0]
        if found.principal and st.session_state.get(_SIGNED_IN_KEY) != found.principal:  # once per session
            st.session_state[_SIGNED_IN_KEY] = found.principal
            audit.record(None, found.actor, found.role, "sign_in", None,
                         f"OIDC sign-in ({user.get('iss') or 'provider'})"
                         + ("; its email claim is not verified and was not used"
                            if st.session_state.get(_UNVERIFIED_KEY) else ""))
        if DEMO_PARAM in st.query_params:  # demo mode's choice means nothing here: not kept in the address
            del st.query_params[DEMO_PARAM]
    else:  # demo mode: the switcher names a user_roles principal
        people = _demo_people()
        principal = _demo_choice(people)
        found = access.lookup(data.connection(), principal) if principal else PUBLIC
        _demo_to_address(principal, _demo_default(people))
    st.session_state[_KEY] = found
    return found


def _demo_default(people: dict[str, str]) -> str:
    """Whom a new demo session views as when its address names no one: the state administrator."""
    return DEMO_DEFAULT if DEMO_DEFAULT in people else next(iter(people))


def _demo_choice(people: dict[str, str]) -> str:
    """The principal demo mode views as: the switcher's choice; in a new session (a reload, a shared link) the
    address's `demo_as` when it is exactly one value naming a listed person, else the default."""
    if _DEMO_KEY not in st.session_state:
        linked = st.query_params.get_all(DEMO_PARAM)
        if linked and (len(linked) != 1 or linked[0] not in people):
            st.session_state[_DEMO_IGNORED] = True  # a notice in fixed words; the value is never shown
            linked = []
        st.session_state[_DEMO_KEY] = linked[0] if linked else _demo_default(people)
    if st.session_state[_DEMO_KEY] not in people:  # no longer in user_roles
        st.session_state[_DEMO_KEY] = _demo_default(people)
    return st.session_state[_DEMO_KEY]


def _demo_to_address(principal: str, default: str) -> None:
    """Keep demo mode's choice in the address, so a reload or a shared link views as the same person
    (Streamlit clears query parameters when the page changes: this runs on every run)."""
    if principal == default:
        if DEMO_PARAM in st.query_params:
            del st.query_params[DEMO_PARAM]
    elif st.query_params.get_all(DEMO_PARAM) != [principal]:
        st.query_params[DEMO_PARAM] = principal


def _demo_switched() -> None:
    """The reader picked another person in demo mode's switcher: audited as a demo sign-in (a new session, a
    reload or a link is not a switch, and switching to the signed-out visitor signs no one in)."""
    st.session_state.pop(_DEMO_IGNORED, None)
    principal = st.session_state.get(_DEMO_KEY)
    if principal:
        found = access.lookup(data.connection(), principal)
        audit.record(None, found.actor, found.role, "sign_in", None, f"demo mode role switch to {found.label}")


def current() -> Viewer:
    """The viewer app.py identified for this run; a page reached without app.py sees the public."""
    return st.session_state.get(_KEY) or PUBLIC


def allowed(page: str, viewer: Viewer | None = None) -> bool:
    """Whether the page (its key in dashboard.pages_table) opens to the viewer's role."""
    return pages_table.opens(page, (viewer or current()).role)


def require(page: str) -> Viewer:
    """Stop the page (after saying why, and noting it in the audit trail) unless the viewer's role opens it."""
    viewer = current()
    if not allowed(page, viewer):
        deny(viewer, page, "This page is not available to your role "
             f"({viewer.label}). {'Sign in with another account, or ' if not demo() else ''}"
             "use the pages in the sidebar.")
    return viewer


def deny(viewer: Viewer, target: str, message: str) -> None:
    audit.record(None, viewer.actor, viewer.role, "access_denied", target, message)
    st.error(message, icon=":material/block:")
    st.stop()


def record(action: str, target: str | None = None, detail: str | None = None) -> None:
    """Add a row to the audit trail for the current viewer."""
    viewer = current()
    audit.record(None, viewer.actor, viewer.role, action, target, detail)


def _demo_people() -> dict[str, str]:
    people = data.query("select lower(trim(principal)) as principal, any_value(role) as role, "
                        "any_value(name) as name from user_roles group by all "
                        "order by list_position(?::varchar[], any_value(role)), 1", [list(access.ROLE_LABELS)])
    labels = {p: f"{access.ROLE_LABELS[r]}: {n or p}" for p, r, n in people.iter_rows()}
    return {**labels, SIGNED_OUT: "Public: signed-out visitor"}


def sidebar(viewer: Viewer) -> None:
    """Who is signed in, and the way to change it: sign in/out, or demo mode's role switcher."""
    from dashboard import widgets

    with st.sidebar:
        if demo():
            people = _demo_people()
            st.selectbox("View the dashboard as", list(people), format_func=people.get, key=_DEMO_KEY,
                         on_change=_demo_switched,
                         help="Demo mode only: each person in the user_roles table, so you can see what each "
                              "role sees. The address keeps the choice, for a reload or a link. With sign-in "
                              "configured, the role comes from the person's account.")
            if st.session_state.get(_DEMO_IGNORED):
                st.warning("Ignored the link's 'demo_as': it names no one in the user_roles table. Showing the "
                           "default person instead.", icon=":material/link_off:")
        elif viewer.principal is None:
            st.caption("You are seeing public figures: small counts are suppressed.")
            if st.button("Sign in", icon=":material/login:", width="stretch"):
                st.login()
        else:
            st.caption(f"Signed in as **{widgets.plain(viewer.name or viewer.principal)}** "
                       f"({widgets.plain(viewer.principal)}) · {viewer.label}"
                       + (f" for {', '.join(viewer.agencies)}" if viewer.agencies else ""))
            if viewer.role == "public":
                st.caption("Your account has no role on this dashboard yet: ask the state office to add you.")
                if st.session_state.get(_UNVERIFIED_KEY):
                    st.caption("Your sign-in provider has not verified your email address, so it cannot give "
                               "you a role: verify it with the provider, or ask the state office to list your "
                               "account by its subject.")
            if st.button("Sign out", icon=":material/logout:", width="stretch"):
                st.logout()


def banner(viewer: Viewer) -> None:
    if demo():
        st.markdown(f":orange-badge[:material/science: Demo mode] No sign-in: you are viewing as "
                    f"**{viewer.label}**" + (f" ({', '.join(viewer.agencies)})" if viewer.agencies else "")
                    + ". Switch role in the sidebar. Turn demo mode off (PEER_DEMO_MODE=off) and configure sign-in "
                    "before loading real data.")
