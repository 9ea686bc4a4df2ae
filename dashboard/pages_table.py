"""Every page of the dashboard, once: its title, section, icon, address and the roles it opens to.

app.py builds the navigation from this table (the sections in the order they first appear, each page only for
the roles it lists), and auth.require() / auth.allowed() refuse a page to any role it does not list, or a key it
does not have. Each page's file is pages/<key>.py and calls auth.require("<key>").
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.access import ROLE_LABELS, STATE_ROLES

EVERYONE = frozenset(ROLE_LABELS)
STATE_AND_AGENCY = STATE_ROLES | {"agency_submitter"}


@dataclass(frozen=True)
class Page:
    key: str  # pages/<key>.py, and the name it passes to auth.require()
    title: str
    section: str
    icon: str
    url_path: str  # the address after the app's root (the default page is also served at the root)
    roles: frozenset[str]
    default: bool = False

    @property
    def script(self) -> str:
        return f"pages/{self.key}.py"


PAGES: tuple[Page, ...] = (
    Page("overview", "State overview", "Overview", ":material/dashboard:", "overview", EVERYONE, default=True),
    Page("integration", "Integration practices", "Overview", ":material/handshake:", "integration", EVERYONE),
    Page("regions", "Regions", "Regions and organizations", ":material/map:", "regions", EVERYONE),
    Page("organizations", "Organizations", "Regions and organizations", ":material/apartment:", "organizations",
         STATE_ROLES),
    Page("agency", "Agency profile", "Regions and organizations", ":material/badge:", "agency", STATE_AND_AGENCY),
    Page("certification", "Certification", "Workforce", ":material/workspace_premium:", "certification", EVERYONE),
    Page("retention", "Retention", "Workforce", ":material/group:", "retention", EVERYONE),
    Page("billing", "Medicaid billing", "Financing", ":material/payments:", "billing", EVERYONE),
    Page("upload", "Upload a report", "Data", ":material/upload_file:", "upload",
         frozenset({"state_admin", "agency_submitter"})),
    Page("submissions", "Submissions", "Data", ":material/fact_check:", "submissions", STATE_AND_AGENCY),
    Page("sql", "SQL workbench", "Data", ":material/terminal:", "sql", frozenset({"state_analyst", "state_admin"})),
    Page("definitions", "Metric definitions", "Reference", ":material/menu_book:", "definitions", EVERYONE),
    Page("audit", "Audit trail", "Administration", ":material/policy:", "audit", frozenset({"state_admin"})),
)


def find(key: str) -> Page | None:
    return next((page for page in PAGES if page.key == key), None)


def opens(key: str, role: str) -> bool:
    """Whether the page `key` opens to `role` (no: a key the table does not have)."""
    page = find(key)
    return page is not None and role in page.roles


def sections(role: str) -> dict[str, list[Page]]:
    """The pages `role` may open, by section, in the table's order; a section with none of them is left out."""
    shown: dict[str, list[Page]] = {}
    for page in PAGES:
        if role in page.roles:
            shown.setdefault(page.section, []).append(page)
    return shown
