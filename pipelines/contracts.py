"""Report contracts: the single source of column names, types, allowed values and descriptions.

Templates (data/templates), the data dictionary (docs/data-dictionary.md), the warehouse DDL and the
Great Expectations suites (expectations/) are all generated from the definitions in this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

ROLES = ("PEER_SPECIALIST_MH", "PEER_RECOVERY_SUD", "FAMILY_PEER", "YOUTH_PEER", "FORENSIC_PEER",
         "PEER_SUPERVISOR", "CLINICAL_LICENSED")
PEER_ROLES = ROLES[:5]
"""Roles counted as peer workers (supervisors and clinicians are not)."""
CERT_ROLES = ROLES[:6]
FUNDING = ("MEDICAID_FFS", "MEDICAID_MCO", "SABG", "MHBG", "STATE_GF", "OPIOID_SETTLEMENT", "GRANT", "OTHER")
CERT_STATUSES = ("IN_TRAINING", "PROVISIONAL", "CERTIFIED_ACTIVE", "EXPIRED_GRACE", "LAPSED", "SUSPENDED",
                 "REVOKED", "NOT_REQUIRED")
PAYER_TYPES = ("FFS", "MCO")
EVENTS = ("HIRE", "SEPARATION", "ROLE_CHANGE", "PROMOTION")
EMPLOYMENT_TYPES = ("FT", "PT")
WAGE_BANDS = ("<15", "15-17.99", "18-20.99", "21-24.99", "25+")
SEPARATION_TYPES = ("VOLUNTARY", "INVOLUNTARY", "OTHER")
SEPARATION_REASONS = ("PAY", "BURNOUT", "ROLE_DRIFT", "NO_ADVANCEMENT", "OWN_HEALTH", "RELOCATION", "SCHOOL",
                      "FUNDING_LOSS", "TERMINATED", "OTHER")
AGENCY_TYPES = ("CMHC", "SUD_TREATMENT", "OTP", "RCO", "PEER_RUN", "HOSPITAL_ED", "INPATIENT_PSYCH",
                "JAIL_REENTRY", "FQHC", "FAMILY_RUN", "YOUTH_ORG")
OWNERSHIP = ("public", "nonprofit", "forprofit")
POPULATIONS = ("MH", "SUD", "BOTH", "FAMILY", "YOUTH")
SERVICE_KINDS = ("individual", "group", "family", "youth")
PRACTICE_DOMAINS = ("LEADERSHIP", "POLICY", "STAFF_BUY_IN", "ROLE_CLARITY", "RECRUITMENT_HIRING", "TRAINING",
                    "SUPERVISION", "RETENTION_CAREER", "CULTURE_INCLUSION", "FAMILY_YOUTH")
PRACTICE_APPLIES = ("ALL", "SERVES_CHILDREN")
ACTION_STATUSES = ("NONE", "PLANNED", "IN_PROGRESS", "DONE")
ACTION_OWNERS = ("EXECUTIVE", "PROGRAM_DIRECTOR", "CLINICAL_DIRECTOR", "HR", "PEER_SUPERVISOR", "PEER_STAFF", "OTHER")
TARGET_PILLARS = ("workforce", "practice", "index", "stage", "kpi")
DIRECTIONS = ("higher", "lower")

VALUE_LABELS: dict[str, str] = {
    # roles (the headcount and certification reports; dim_role.sql spells the same words)
    "PEER_SPECIALIST_MH": "Peer specialist (mental health)", "PEER_RECOVERY_SUD": "Peer recovery specialist (SUD)",
    "FAMILY_PEER": "Family peer specialist", "YOUTH_PEER": "Youth peer specialist",
    "FORENSIC_PEER": "Forensic peer specialist", "PEER_SUPERVISOR": "Peer supervisor",
    "CLINICAL_LICENSED": "Licensed clinician",
    # primary funding
    "MEDICAID_FFS": "Medicaid fee-for-service", "MEDICAID_MCO": "Medicaid managed care",
    "SABG": "Substance use block grant", "MHBG": "Mental health block grant", "STATE_GF": "State general fund",
    "OPIOID_SETTLEMENT": "Opioid settlement funds", "GRANT": "Grant", "OTHER": "Other",
    # certification status
    "IN_TRAINING": "In training", "PROVISIONAL": "Provisional", "CERTIFIED_ACTIVE": "Certified (active)",
    "EXPIRED_GRACE": "Expired (grace period)", "LAPSED": "Lapsed", "SUSPENDED": "Suspended", "REVOKED": "Revoked",
    "NOT_REQUIRED": "Not required",
    # billing payer types
    "FFS": "Fee-for-service", "MCO": "Managed care",
    # retention
    "HIRE": "Hire", "SEPARATION": "Separation", "ROLE_CHANGE": "Role change", "PROMOTION": "Promotion",
    "FT": "Full time", "PT": "Part time",
    "<15": "Under $15", "15-17.99": "$15–17.99", "18-20.99": "$18–20.99", "21-24.99": "$21–24.99",
    "25+": "$25 and over",
    "VOLUNTARY": "Voluntary", "INVOLUNTARY": "Involuntary",
    "PAY": "Pay", "BURNOUT": "Burnout", "ROLE_DRIFT": "Role drift", "NO_ADVANCEMENT": "No advancement",
    "OWN_HEALTH": "Own health", "RELOCATION": "Relocation", "SCHOOL": "School", "FUNDING_LOSS": "Funding loss",
    "TERMINATED": "Terminated",
    # agencies
    "CMHC": "Community mental health center", "SUD_TREATMENT": "SUD treatment program",
    "OTP": "Opioid treatment program", "RCO": "Recovery community organization", "PEER_RUN": "Peer-run organization",
    "HOSPITAL_ED": "Hospital emergency department", "INPATIENT_PSYCH": "Inpatient psychiatric unit",
    "JAIL_REENTRY": "Jail or reentry program", "FQHC": "Federally qualified health center",
    "FAMILY_RUN": "Family-run organization", "YOUTH_ORG": "Youth organization",
    "public": "Public", "nonprofit": "Nonprofit", "forprofit": "For-profit",
    # credentials and billing codes
    "MH": "Mental health", "SUD": "Substance use", "BOTH": "Mental health and substance use", "FAMILY": "Family",
    "YOUTH": "Youth", "individual": "Individual", "group": "Group", "family": "Family", "youth": "Youth",
    # practices (kpi_practice_domains.sql spells the same domain words)
    "LEADERSHIP": "Leadership", "POLICY": "Policy", "STAFF_BUY_IN": "Staff buy-in", "ROLE_CLARITY": "Role clarity",
    "RECRUITMENT_HIRING": "Recruitment and hiring", "TRAINING": "Training", "SUPERVISION": "Supervision",
    "RETENTION_CAREER": "Retention and career", "CULTURE_INCLUSION": "Culture and inclusion",
    "FAMILY_YOUTH": "Family and youth", "ALL": "All", "SERVES_CHILDREN": "Agencies serving children",
    "NONE": "No action", "PLANNED": "Planned", "IN_PROGRESS": "In progress", "DONE": "Done",
    "EXECUTIVE": "Executive", "PROGRAM_DIRECTOR": "Program director", "CLINICAL_DIRECTOR": "Clinical director",
    "HR": "Human resources", "PEER_STAFF": "Peer staff",
    # targets
    "workforce": "Workforce pillar", "practice": "Practice pillar", "index": "Pillar weight in the index",
    "stage": "Stage threshold",
    "kpi": "Target shown, not scored", "higher": "Higher", "lower": "Lower",
    # user roles
    "state_admin": "State administrator", "state_analyst": "State analyst", "state_viewer": "State viewer",
    "agency_submitter": "Agency submitter",
}
"""Every allowed value of every contract column (below) in words, as pages, tables and tooltips show it: one
label per code, whichever column holds it (a test checks that every allowed value has one). Files, the warehouse
and CSV downloads keep the codes."""


def label(value: object) -> str:
    """An allowed value in words (VALUE_LABELS); anything else as it is."""
    if value is None:
        return ""
    return VALUE_LABELS.get(value, str(value)) if isinstance(value, str) else str(value)


def plural(count: int, one: str, many: str | None = None) -> str:
    """'1 warning', '2 warnings', '1,234 agencies' (give `many` when it is not `one` + 's')."""
    return f"{count:,} {one if count == 1 else many or one + 's'}"


_IDENTIFIERS = ("agency_id", "region_id", "quarter", "peer_id")


def label_codes(frame: pl.DataFrame) -> pl.DataFrame:
    """Text columns whose every value is an allowed value of a contract, in words (tables and charts show
    these; identifiers stay as they are)."""
    words = []
    for name, dtype in frame.schema.items():
        if dtype != pl.String or name in _IDENTIFIERS:
            continue
        values = frame[name].drop_nulls().unique()
        if values.len() and values.is_in(list(VALUE_LABELS)).all():
            words.append(pl.col(name).replace(VALUE_LABELS))
    return frame.with_columns(words) if words else frame


AGENCY_ID_PATTERN = r"^AG\d{4,6}$"
QUARTER_PATTERN = r"^\d{4}-Q[1-4]$"
PEER_ID_PATTERN = r"^[A-Za-z0-9_-]{4,40}$"
PRACTICE_CODE_PATTERN = r"^[A-Z][A-Z0-9_]{1,39}$"
TEXT_MAX = 64
TEXT_PATTERN = (r"^(?![=+\-@\t\r])(?!#[A-Z][A-Z0-9/_]*[!?]?\Z)"
                r"[^\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufffd]{1,64}\Z")
"""Free text: printable characters only (no control characters, no invisible or bidirectional controls such as a
right-to-left override), at most TEXT_MAX characters, not starting like a spreadsheet formula (= + - @ tab CR)
and not a spreadsheet error such as #REF!, #N/A or #VALUE!."""

SQL_TYPES = {"str": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "date": "DATE", "bool": "BOOLEAN"}


@dataclass(frozen=True)
class Column:
    """One column of a report or reference table."""

    name: str
    type: str  # str | int | float | date | bool
    description: str
    required: bool = True
    allowed: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    unit: str = ""
    example: str = ""

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


def number_text(value: float) -> str:
    """A bound as people read it: 2,000 and 1,000,000,000 rather than 2000 and 1e+09."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class Contract:
    """A table's columns plus its grain (the columns that identify one row within a submission)."""

    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = field(default_factory=tuple)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _id_columns() -> tuple[Column, ...]:
    return (
        Column("agency_id", "str", "State-assigned agency identifier, as in the agencies reference table.",
               pattern=AGENCY_ID_PATTERN, example="AG0001"),
        Column("quarter", "str", "Reporting quarter, written YYYY-Qn.", pattern=QUARTER_PATTERN, example="2026-Q1"),
    )


# Upper bounds are typo catchers (an extra digit, a pasted account number, 1e308), not policy: far above
# what one agency reports in a quarter, low enough that sums stay exact.
_COUNT = {"type": "int", "min": 0, "max": 100_000, "unit": "people"}
_CLAIMS = {**_COUNT, "max": 10_000_000, "unit": "claims"}
_UNITS = {**_COUNT, "max": 10_000_000, "unit": "units"}
_DOLLARS = {"type": "float", "min": 0, "max": 1_000_000_000, "unit": "USD"}
_RATING = {"type": "int", "min": 0, "max": 4, "unit": "rating 0-4"}

REPORTS: dict[str, Contract] = {
    "headcount": Contract(
        "headcount", "Peer headcount",
        "One row per role employed at the agency at quarter end (agency x quarter x role).",
        _id_columns() + (
            Column("role", "str", "Staff role; CLINICAL_LICENSED is the denominator of the peer-to-clinician ratio.",
                   allowed=ROLES, example="PEER_RECOVERY_SUD"),
            Column("headcount", description="People employed in the role at quarter end.", example="6", **_COUNT),
            Column("headcount_fulltime", description="Of headcount, people working full time.", example="4",
                   **_COUNT),
            Column("fte", "float", "Full-time equivalents in the role at quarter end.", min=0, max=100_000,
                   unit="FTE", example="5.0"),
            Column("vacancies", description="Budgeted positions in the role that are unfilled at quarter end.",
                   example="1", **_COUNT),
            Column("trained_peer_supervisors", description=(
                "Supervisors trained in peer supervision; only on PEER_SUPERVISOR rows, empty otherwise."),
                required=False, example="", **_COUNT),
            Column("primary_funding", "str", "Main funding source for the role's positions.", allowed=FUNDING,
                   example="MEDICAID_MCO"),
        ),
        key=("role",),
    ),
    "certification": Contract(
        "certification", "Peer certification",
        "One row per peer worker on staff during the quarter.",
        _id_columns() + (
            Column("peer_id", "str", "Pseudonymous identifier, stable across quarters and reports. Never a name.",
                   pattern=PEER_ID_PATTERN, example="P000123"),
            Column("role", "str", "The peer worker's role.", allowed=CERT_ROLES, example="PEER_SPECIALIST_MH"),
            Column("credential_code", "str", "Credential held, as in the credentials reference table, or NONE.",
                   pattern=TEXT_PATTERN, example="CPS"),
            Column("status", "str", "Certification status at quarter end.", allowed=CERT_STATUSES,
                   example="CERTIFIED_ACTIVE"),
            Column("issue_date", "date", "Date the credential was issued (YYYY-MM-DD or M/D/YYYY).",
                   required=False, example="2024-03-15"),
            Column("expiration_date", "date", "Date the credential expires (YYYY-MM-DD or M/D/YYYY).",
                   required=False, example="2026-03-15"),
            Column("training_hours", "float", "Hours of peer training completed.", min=0, max=2000, unit="hours",
                   example="46"),
            Column("supervised_hours", "float", "Hours of supervised practice completed.", min=0, max=10000,
                   unit="hours", example="500"),
            Column("ce_hours_cycle", "float", "Continuing-education hours in the current renewal cycle.",
                   min=0, max=500, unit="hours", example="12"),
        ),
        key=("peer_id",),
    ),
    "billing": Contract(
        "billing", "Medicaid billing",
        "One row per payer and billing code (agency x quarter x payer x code x modifier).",
        _id_columns() + (
            Column("payer_type", "str", "FFS (state fee-for-service) or MCO (managed care).", allowed=PAYER_TYPES,
                   example="MCO"),
            Column("payer_id", "str", "Payer identifier (MCO plan id, or the state FFS program id).",
                   pattern=TEXT_PATTERN, example="MCO-A"),
            Column("hcpcs", "str", "HCPCS billing code, as in the billing_codes reference table.",
                   pattern=TEXT_PATTERN, example="H0038"),
            Column("modifier", "str", "HCPCS modifier (HQ = group); empty when none.", required=False,
                   pattern=TEXT_PATTERN, example="HQ"),
            Column("claims_submitted", description="Claims submitted in the quarter.", example="120",
                   **_CLAIMS),
            Column("claims_paid", description="Of those, claims paid.", example="100", **_CLAIMS),
            Column("claims_denied", description="Of those, claims denied.", example="12",
                   **_CLAIMS),
            Column("units_billed", description="Service units billed (15 minutes each for H0038).", example="900",
                   **_UNITS),
            Column("units_paid", description="Units paid.", example="780", **_UNITS),
            Column("units_denied", description="Units denied.", example="90", **_UNITS),
            Column("amount_billed", description="Dollars billed.", example="$12,150.00", **_DOLLARS),
            Column("amount_paid", description="Dollars paid.", example="$10,530.00", **_DOLLARS),
            Column("unique_beneficiaries", description="Distinct Medicaid members served under this code.",
                   example="85", **_COUNT),
        ),
        key=("payer_type", "payer_id", "hcpcs", "modifier"),
    ),
    "retention": Contract(
        "retention", "Peer retention",
        "One row per employment event in the quarter (hire, separation, role change, promotion).",
        _id_columns() + (
            Column("peer_id", "str", "Pseudonymous identifier, the same as in the certification report.",
                   pattern=PEER_ID_PATTERN, example="P000123"),
            Column("event", "str", "What happened.", allowed=EVENTS, example="SEPARATION"),
            Column("event_date", "date", "Date of the event; must fall inside the quarter.", example="2026-02-10"),
            Column("hire_date", "date", "Date the peer worker was hired; on or before the event date.",
                   example="2024-06-01"),
            Column("employment_type", "str", "FT (full time) or PT (part time).", allowed=EMPLOYMENT_TYPES,
                   example="FT"),
            Column("hourly_wage_band", "str", "Hourly wage band in dollars.", allowed=WAGE_BANDS,
                   example="18-20.99"),
            Column("separation_type", "str", "Required for SEPARATION, empty otherwise.", required=False,
                   allowed=SEPARATION_TYPES, example="VOLUNTARY"),
            Column("separation_reason", "str", "Required for SEPARATION, empty otherwise.", required=False,
                   allowed=SEPARATION_REASONS, example="BURNOUT"),
        ),
        key=("peer_id", "event", "event_date"),
    ),
    "practices": Contract(
        "practices", "Integration practices self-assessment",
        "Semiannual: one row per practice item of the integration_practices reference table (agency x assessment "
        "quarter x practice), with the leadership's and the peer staff's ratings and the action plan for the item. "
        "Ratings are stages of implementation: 0 not in place, 1 planning, 2 started, 3 mostly in place, "
        "4 fully in place and sustained.",
        _id_columns() + (
            Column("practice_code", "str", "Practice item, as in the integration_practices reference table.",
                   pattern=PRACTICE_CODE_PATTERN, example="SUP_TRAINED"),
            Column("rating_leadership", description="The leadership's rating of the practice (0-4).", example="3",
                   **_RATING),
            Column("rating_peers", description="The peer staff's rating of the practice (0-4); empty when no peer "
                   "responded.", required=False, example="2", **_RATING),
            Column("peer_respondents_count", description="Peer staff who took part in the peer rating (0 when none).",
                   example="4", **_COUNT),
            Column("action_status", "str", "Action plan for the item: NONE, PLANNED, IN_PROGRESS or DONE.",
                   allowed=ACTION_STATUSES, example="IN_PROGRESS"),
            Column("action_owner", "str", "Who owns the action; required unless action_status is NONE.",
                   required=False, allowed=ACTION_OWNERS, example="PEER_SUPERVISOR"),
            Column("action_due_quarter", "str", "Quarter the action is due (YYYY-Qn); required for PLANNED and "
                   "IN_PROGRESS, not before the assessment quarter.", required=False, pattern=QUARTER_PATTERN,
                   example="2027-Q2"),
        ),
        key=("practice_code",),
    ),
}

USER_ROLES = ("state_admin", "state_analyst", "state_viewer", "agency_submitter", "public")

REFERENCE: dict[str, Contract] = {
    "regions": Contract("regions", "Regions", "Planning regions of the state.", (
        Column("region_id", "str", "Region identifier.", example="R1"),
        Column("name", "str", "Region name."),
        Column("population", "int", "Resident population.", min=0, unit="people"),
        Column("pct_rural", "float", "Share of the population living in rural areas.", min=0, max=100, unit="%"),
    ), key=("region_id",)),
    "agencies": Contract("agencies", "Agencies", "Provider agencies that report to the state.", (
        Column("agency_id", "str", "State-assigned agency identifier.", pattern=AGENCY_ID_PATTERN),
        Column("name", "str", "Agency name."),
        Column("region_id", "str", "Region the agency belongs to."),
        Column("local_authority", "str", "County or local mental health / substance use authority."),
        Column("agency_type", "str", "Kind of provider.", allowed=AGENCY_TYPES),
        Column("ownership", "str", "public, nonprofit or forprofit.", allowed=OWNERSHIP),
        Column("medicaid_enrolled", "bool", "Enrolled as a Medicaid provider."),
        Column("serves_children", "bool", "Licensed to serve children and families."),
        Column("active_from", "date", "First day the agency reports."),
        Column("active_to", "date", "Last day the agency reports; empty while active.", required=False),
        Column("contact_email", "str", "Reporting contact.", required=False),
    ), key=("agency_id",)),
    "credentials": Contract("credentials", "Credentials", "Peer credentials recognised by the state.", (
        Column("credential_code", "str", "Credential code as agencies report it."),
        Column("title", "str", "Credential title."),
        Column("canonical_role", "str", "The role this credential certifies.", allowed=CERT_ROLES),
        Column("population", "str", "Population served.", allowed=POPULATIONS),
        Column("renewal_months", "int", "Months between renewals.", min=1),
        Column("ce_hours_per_cycle", "int", "Continuing-education hours required per renewal cycle.", min=0),
        Column("medicaid_billable", "bool", "Holders may bill Medicaid for peer services."),
        Column("has_provisional", "bool", "A provisional (supervised) status exists."),
    ), key=("credential_code",)),
    "billing_codes": Contract("billing_codes", "Billing codes", "Medicaid codes for peer services.", (
        Column("hcpcs", "str", "HCPCS code."),
        Column("modifier", "str", "Modifier; empty when none.", required=False),
        Column("description", "str", "Service description."),
        Column("unit_minutes", "int", "Minutes per unit.", min=1, unit="minutes"),
        Column("rate_per_unit", "float", "Medicaid fee per unit.", min=0, unit="USD"),
        Column("max_units_day", "int", "Most units billable per member per day.", min=1),
        Column("service_kind", "str", "individual, group, family or youth.", allowed=SERVICE_KINDS),
        Column("effective_from", "date", "First day the code may be billed."),
        Column("effective_to", "date", "Last day the code may be billed; empty while in force.", required=False),
    ), key=("hcpcs", "modifier", "effective_from")),
    "targets": Contract("targets", "Integration targets", "The state's floors, targets and stretches for the index "
                        "components and other KPIs, the pillar weights and the stage thresholds: one place read by "
                        "the SQL, the pages and the docs.", (
        Column("component", "str", "What the row sets: an index component, a pillar (workforce, practice), a stage "
               "threshold (stage_developing, stage_integrated) or a KPI with a target."),
        Column("label", "str", "What it measures, as people read it."),
        Column("pillar", "str", "workforce or practice (an index component), index (a pillar's weight), stage "
               "(a stage threshold) or kpi (a target shown, not scored).", allowed=TARGET_PILLARS),
        Column("metric", "str", "The metric registry id the target applies to; empty for pillars and stages.",
               required=False),
        Column("direction", "str", "higher or lower is better; empty for pillars and stages.", required=False,
               allowed=DIRECTIONS),
        Column("floor", "float", "Scores 0 at or beyond this (worse side); bands: red below the midpoint of floor "
               "and target.", required=False),
        Column("target", "float", "The state's target: scores 70; bands: green at or beyond it. For a stage, the "
               "lowest index of the stage.", required=False),
        Column("stretch", "float", "Scores 100 at or beyond this.", required=False),
        Column("weight", "float", "Weight within its pillar (components) or of the pillar in the index.",
               required=False, min=0),
        Column("contractual", "bool", "The target carries consequences (funding recovered below it)."),
    ), key=("component",)),
    "integration_practices": Contract(
        "integration_practices", "Integration practices",
        "The practice items of the semiannual self-assessment (state-maintained).", (
            Column("practice_code", "str", "Practice item code.", pattern=PRACTICE_CODE_PATTERN),
            Column("domain", "str", "Practice domain.", allowed=PRACTICE_DOMAINS),
            Column("statement", "str", "What the organization does when the practice is fully in place."),
            Column("source", "str", "Where the practice comes from."),
            Column("weight", "float", "Weight of the item in the practice pillar.", min=0),
            Column("applies_to", "str", "ALL agencies, or only agencies that SERVES_CHILDREN.",
                   allowed=PRACTICE_APPLIES),
            Column("active_from", "date", "First assessment quarter's start date the item is asked in."),
            Column("active_to", "date", "Last day the item is asked; empty while in force.", required=False),
        ), key=("practice_code",)),
    "user_roles": Contract("user_roles", "User roles", "Who may see what: one row per person and role (and, for "
                           "agency submitters, per agency they report for). Anyone signed in who is not listed "
                           "is treated as public.", (
        Column("principal", "str", "The person's email (matched case-insensitively, and only when the provider "
               "says it is verified or is declared trusted), or `sub:` and their OIDC subject (matched exactly).",
               example="analyst@state.example"),
        Column("role", "str", "state_admin, state_analyst, state_viewer, agency_submitter or public.",
               allowed=USER_ROLES),
        Column("agency_id", "str", "For agency_submitter: an agency they report for (one row per agency); "
               "empty for other roles.", required=False, pattern=AGENCY_ID_PATTERN),
        Column("name", "str", "Display name.", required=False),
    ), key=("principal", "agency_id")),
    "policy": Contract("policy", "Policy settings", "State policy switches used by validation and reporting.", (
        Column("setting", "str", "Setting name."),
        Column("value", "str", "Setting value."),
        Column("description", "str", "What the setting does."),
    ), key=("setting",)),
}


def report_kinds() -> list[str]:
    return list(REPORTS)
