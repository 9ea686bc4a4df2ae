"""Roles: who a signed-in person is to the dashboard, from the state-maintained user_roles table.

A person's role decides which pages they get and what those pages show. Nothing a person sends (an
address, a query parameter) widens it: pages ask the Viewer, never the request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import duckdb

from pipelines import snapshot
from pipelines.contracts import USER_ROLES, VALUE_LABELS

STATE_ROLES = frozenset({"state_admin", "state_analyst", "state_viewer"})
ROLE_LABELS = {role: VALUE_LABELS[role] for role in USER_ROLES}


@dataclass(frozen=True)
class Viewer:
    role: str = "public"
    principal: str | None = None  # the verified email or `sub:<subject>` that matched; None if signed out
    name: str | None = None
    agencies: tuple[str, ...] = ()  # the agencies an agency_submitter reports for

    @property
    def is_state(self) -> bool:
        return self.role in STATE_ROLES

    @property
    def suppressed(self) -> bool:
        """Counts of 1-10 people are hidden from everyone outside the state office."""
        return not self.is_state

    @property
    def may_query(self) -> bool:
        """The SQL workbench and row-level exports."""
        return self.role in ("state_analyst", "state_admin")

    @property
    def may_export_rows(self) -> bool:
        """Downloads of row-level data (a peer per row, original files): analysts and administrators, and an
        agency's own users for the rows they may see, which are only their own agencies'."""
        return self.may_query or self.role == "agency_submitter"

    def sees_agency(self, agency_id: str | None) -> bool:
        """May see this agency's own records (profile, submissions, findings, original files)."""
        return self.is_state or (self.role == "agency_submitter" and agency_id in self.agencies)

    def may_upload_for(self, agency_id: str | None) -> bool:
        return self.role == "state_admin" or (self.role == "agency_submitter" and agency_id in self.agencies)

    @property
    def actor(self) -> str:
        """How the audit trail names this person."""
        return self.principal or "public"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self.role]


PUBLIC = Viewer()


SUBJECT = "sub:"
"""A user_roles principal starting with this names an OIDC subject (`sub:<subject>`); any other principal is
an email, matched only against an email the provider has verified."""


def email_verified(claims: Mapping[str, object]) -> bool:
    """Whether the provider says it verified the email claim (true, or the string "true" some providers send)."""
    flag = claims.get("email_verified")
    return flag is True or (isinstance(flag, str) and flag.strip().lower() == "true")


def proven(claims: Mapping[str, object], trusted: Iterable[str] = ()) -> tuple[str | None, str | None]:
    """What the sign-in proves: (the email, lowercased, when the provider verified it or is declared trusted
    for emails by its provider name or issuer in `trusted`; else None), (`sub:<subject>`, or None)."""
    email, subject = claims.get("email"), claims.get("sub")
    email = email.strip().lower() if isinstance(email, str) and email.strip() else None
    subject = subject.strip() if isinstance(subject, str) and subject.strip() else None
    trusted = {t.strip().lower() for t in trusted if isinstance(t, str) and t.strip()}
    issuers = {str(claims.get(k) or "").strip().lower() for k in ("provider", "iss")} - {""}
    if email and not (email_verified(claims) or issuers & trusted):
        email = None
    return email, (SUBJECT + subject if subject else None)


def _viewer(rows: list[tuple], principal: str) -> Viewer:
    roles = {r[0] for r in rows}
    if len(roles) > 1:  # ambiguous: grant nothing rather than guess
        return Viewer("public", principal, rows[0][2])
    role = roles.pop()
    agencies = tuple(r[1] for r in rows if r[1]) if role == "agency_submitter" else ()
    return Viewer(role, principal, rows[0][2], agencies)


def sign_in(con: duckdb.DuckDBPyConnection, claims: Mapping[str, object], trusted: Iterable[str] = ()) -> Viewer:
    """The Viewer for a signed-in person's claims: their verified email among user_roles' email principals,
    then their subject among its `sub:` principals (exactly, case and all). An unverified email and a subject
    never match an email row. Not listed: public, named by what was proven (for the audit trail)."""
    email, subject = proven(claims, trusted)
    cur = snapshot.cursor(con)
    try:
        if email:
            rows = cur.execute("select role, agency_id, name from user_roles where lower(trim(principal)) = ? "
                               "and not starts_with(lower(trim(principal)), ?) order by agency_id",
                               [email, SUBJECT]).fetchall()
            if rows:
                return _viewer(rows, email)
        if subject:
            rows = cur.execute("select role, agency_id, name from user_roles where starts_with(lower(trim("
                               "principal)), ?) and trim(substr(trim(principal), ?)) = ? order by agency_id",
                               [SUBJECT, len(SUBJECT) + 1, subject[len(SUBJECT):]]).fetchall()
            if rows:
                return _viewer(rows, subject)
    finally:
        cur.close()
    name = claims.get("name")
    return Viewer("public", email or subject or "unknown", name if isinstance(name, str) else None)


def lookup(con: duckdb.DuckDBPyConnection, *principals: str | None) -> Viewer:
    """The Viewer for the first of these principals, as written in user_roles (case-insensitively); public if
    none is. Demo mode's role switcher only: a signed-in person goes through sign_in(), which matches only
    what their provider proved."""
    cur = snapshot.cursor(con)
    try:
        for principal in (i.strip().lower() for i in principals if i and i.strip()):
            rows = cur.execute("select role, agency_id, name from user_roles where lower(trim(principal)) = ? "
                               "order by agency_id", [principal]).fetchall()
            if rows:
                return _viewer(rows, principal)
        return PUBLIC
    finally:
        cur.close()


def problems(con: duckdb.DuckDBPyConnection) -> list[str]:
    """What is wrong with user_roles (people with two roles, submitters without a known agency, principals no
    sign-in can match)."""
    cur = snapshot.cursor(con)
    try:
        return [row[0] for row in cur.execute("""
        select principal || ' has more than one role (' || string_agg(distinct role, ', ' order by role) || '): they get none'
        from user_roles group by principal having count(distinct role) > 1
        union all
        select principal || ' is an agency_submitter with no agency' from user_roles
        where role = 'agency_submitter' and agency_id is null
        union all
        select principal || ' is bound to ' || agency_id || ', which is not in agencies' from user_roles u
        where agency_id is not null and not exists (select 1 from agencies a where a.agency_id = u.agency_id)
        union all
        select distinct principal || ' is neither an email nor sub:<subject>: no sign-in matches it' from user_roles
        where not contains(principal, '@') and not starts_with(lower(trim(principal)), 'sub:')
        union all
        select distinct principal || ' names no subject after sub:' from user_roles
        where starts_with(lower(trim(principal)), 'sub:') and trim(substr(trim(principal), 5)) = ''
        order by 1""").fetchall()]
    finally:
        cur.close()
