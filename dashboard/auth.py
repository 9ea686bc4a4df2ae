"""Who is looking: sign-in through the OIDC provider in secrets.toml (st.login), or demo mode without one.

The Viewer (pipelines.access) is worked out once per run in app.py, from the sign-in alone; pages call
require() for it, which refuses a page the role does not open even when the address names it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import streamlit as st

from dashboard import data
from pipelines import access, audit, settings
from pipelines.access import PUBLIC, STATE_ROLES, Viewer

EVERYONE = frozenset({*STATE_ROLES, "agency_submitter", "public"})
PAGE_ROLES: dict[str, frozenset[str]] = {
    "overview": EVERYONE, "integration": EVERYONE, "regions": EVERYONE, "certification": EVERYONE, "retention": EVERYONE,
    "billing": EVERYONE, "definitions": EVERYONE,
    "organizations": STATE_ROLES,
    "agency": STATE_ROLES | {"agency_submitter"},
    "submissions": STATE_ROLES | {"agency_submitter"},
    "upload": frozenset({"state_admin", "agency_submitter"}),
    "sql": frozenset({"state_analyst", "state_admin"}),
    "audit": frozenset({"state_admin"}),
}
DEMO_DEFAULT = "admin@state.example"
SIGNED_OUT = ""
_KEY, _SIGNED_IN_KEY, _UNVERIFIED_KEY = "viewer", "audited_sign_in", "email_unverified"
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
    else:  # demo mode: the switcher names a user_roles principal
        principal = st.session_state.setdefault("demo_principal", DEMO_DEFAULT)
        found = access.lookup(data.connection(), principal) if principal else PUBLIC
    if found.principal and st.session_state.get(_SIGNED_IN_KEY) != found.principal:
        st.session_state[_SIGNED_IN_KEY] = found.principal
        audit.record(None, found.actor, found.role, "sign_in", None,
                     "demo mode role switch" if demo() else f"OIDC sign-in ({st.user.get('iss') or 'provider'})"
                     + ("; its email claim is not verified and was not used" if st.session_state.get(
                         _UNVERIFIED_KEY) else ""))
    st.session_state[_KEY] = found
    return found


def current() -> Viewer:
    """The viewer app.py identified for this run; a page reached without app.py sees the public."""
    return st.session_state.get(_KEY) or PUBLIC


def allowed(page: str, viewer: Viewer | None = None) -> bool:
    return (viewer or current()).role in PAGE_ROLES[page]


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
            if st.session_state.get("demo_principal", DEMO_DEFAULT) not in people:
                st.session_state["demo_principal"] = next(iter(people))
            st.selectbox("View the dashboard as", list(people), format_func=people.get, key="demo_principal",
                         help="Demo mode only: each person in the user_roles table, so you can see what each "
                              "role sees. With sign-in configured, the role comes from the person's account.")
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
