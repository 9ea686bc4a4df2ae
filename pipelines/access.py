"""Roles: who a signed-in person is to the dashboard, from the state-maintained user_roles table.

A person's role decides which pages they get and what those pages show. Nothing a person sends (an
address, a query parameter) widens it: pages ask the Viewer, never the request.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipelines.contracts import USER_ROLES

STATE_ROLES = frozenset({"state_admin", "state_analyst", "state_viewer"})
ROLE_LABELS = {"state_admin": "State administrator", "state_analyst": "State analyst",
               "state_viewer": "State viewer", "agency_submitter": "Agency submitter", "public": "Public"}
assert set(ROLE_LABELS) == set(USER_ROLES)


@dataclass(frozen=True)
class Viewer:
    role: str = "public"
    principal: str | None = None  # the email or OIDC subject that matched; None for a signed-out visitor
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


def lookup(con: duckdb.DuckDBPyConnection, *identities: str | None) -> Viewer:
    """The Viewer for the first identity (email, then subject) listed in user_roles; public if none is."""
    cur = con.cursor()
    try:
        for identity in (i.strip().lower() for i in identities if i and i.strip()):
            rows = cur.execute("select role, agency_id, name from user_roles where lower(trim(principal)) = ? "
                               "order by agency_id", [identity]).fetchall()
            if rows:
                roles = {r[0] for r in rows}
                if len(roles) > 1:  # ambiguous: grant nothing rather than guess
                    return Viewer("public", identity, rows[0][2])
                role = roles.pop()
                agencies = tuple(r[1] for r in rows if r[1]) if role == "agency_submitter" else ()
                return Viewer(role, identity, rows[0][2], agencies)
        return PUBLIC
    finally:
        cur.close()


def problems(con: duckdb.DuckDBPyConnection) -> list[str]:
    """What is wrong with user_roles (people with two roles, submitters without a known agency)."""
    return [row[0] for row in con.execute("""
        select principal || ' has more than one role (' || string_agg(distinct role, ', ' order by role) || '): they get none'
        from user_roles group by principal having count(distinct role) > 1
        union all
        select principal || ' is an agency_submitter with no agency' from user_roles
        where role = 'agency_submitter' and agency_id is null
        union all
        select principal || ' is bound to ' || agency_id || ', which is not in agencies' from user_roles u
        where agency_id is not null and not exists (select 1 from agencies a where a.agency_id = u.agency_id)
        order by 1""").fetchall()]
