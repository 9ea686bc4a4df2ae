"""One colour for every place and every category, the same on every page and for every reader.

Colours come from two colour-blind-safe sets: Okabe-Ito (places, and categories of up to eight) and Tableau10
(categories of nine or ten). What gets which colour never depends on the rows a chart happens to hold, nor on
who reads it: places take theirs from the reference table of regions (in region_id order), categories from the
allowed values in pipelines.contracts (each keyed by its code and by its words, VALUE_LABELS, so a chart may
show either). A chart's scale lists only the values it shows, each with its own colour (`scale`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import altair as alt

from pipelines.contracts import (
    AGENCY_TYPES,
    CERT_STATUSES,
    FUNDING,
    PEER_ROLES,
    ROLES,
    SEPARATION_REASONS,
    VALUE_LABELS,
)

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000")
"""Blue, orange, bluish green, reddish purple, vermillion, sky blue, yellow, black (Okabe & Ito, 2008)."""
TABLEAU10 = ("#4E79A7", "#F28E2B", "#E15759", "#76B7B2", "#59A14F", "#EDC948", "#B07AA1", "#FF9DA7", "#9C755F",
             "#BAB0AC")
GREY = "#999999"

# --- places -------------------------------------------------------------------------------------------

STATEWIDE = "Statewide"
STATE_COLOUR = "#000000"
"""The state: black on every chart (the reference the regions are read against)."""
AGENCY_COLOUR = "#882255"
"""The agency a profile is about (Tol's wine: none of the regions' colours)."""
REGION_COLOURS = (*OKABE_ITO[:7], *TABLEAU10[:9])
"""Regions in region_id order: the first five take Okabe-Ito's strongest hues; more regions, the rest."""


def region_colours(regions: Sequence[tuple[str, str]]) -> dict[str, str]:
    """{region_id and region name: colour} for (region_id, name) pairs, by region_id: a region keeps its colour
    whatever else a chart shows."""
    found: dict[str, str] = {}
    for i, (region_id, name) in enumerate(sorted(regions)):
        colour = REGION_COLOURS[i % len(REGION_COLOURS)]
        found[region_id] = found[name] = colour
    return found


def regions() -> list[tuple[str, str]]:
    """(region_id, name) of every region in the reference table, by region_id (cached with the snapshot)."""
    from dashboard import data

    found = data.query("select region_id, name from regions order by region_id")
    return list(zip(found["region_id"], found["name"]))


def places() -> dict[str, str]:
    """{place: colour}: the state ('Statewide', 'STATE') and every region, by id and by name."""
    return {STATEWIDE: STATE_COLOUR, "STATE": STATE_COLOUR, **region_colours(regions())}


def place_order() -> list[str]:
    """Place names as charts list them: the state, then the regions by region_id."""
    return [STATEWIDE, *(name for _, name in regions())]


def region_id(place: str) -> str | None:
    """The region_id of a place name or id (None for the state or a name no region has)."""
    return next((rid for rid, name in regions() if place in (rid, name)), None)


# --- categories ---------------------------------------------------------------------------------------

def _in_words(colours: Mapping[str, str]) -> dict[str, str]:
    """Each code's colour under its code and under its words."""
    return {**colours, **{VALUE_LABELS[code]: c for code, c in colours.items() if code in VALUE_LABELS}}


STATUSES = _in_words({"CERTIFIED_ACTIVE": "#009E73", "PROVISIONAL": "#56B4E9", "IN_TRAINING": "#0072B2",
                      "EXPIRED_GRACE": "#E69F00", "LAPSED": "#D55E00", "SUSPENDED": "#CC79A7", "REVOKED": "#000000",
                      "NOT_REQUIRED": GREY})
"""Certification statuses: active green, on the way blues, about to lapse orange, lapsed vermillion."""
STAGES = {"No peer workforce": GREY, "Emerging": "#D55E00", "Developing": "#E69F00", "Integrated": "#009E73"}
BANDS = {"red": "#D55E00", "amber": "#E69F00", "green": "#009E73"}
"""The bands of a value against the state's target (below the midpoint, below the target, at or beyond it)."""
FUNDING_SOURCES = _in_words({"MEDICAID_FFS": "#0072B2", "MEDICAID_MCO": "#56B4E9", "SABG": "#E69F00",
                             "MHBG": "#F0E442", "STATE_GF": "#009E73", "OPIOID_SETTLEMENT": "#CC79A7",
                             "GRANT": "#D55E00", "OTHER": GREY})
"""Medicaid in blues, block grants in orange and yellow."""
REASONS = _in_words(dict(zip(SEPARATION_REASONS, TABLEAU10)) | {"OTHER": TABLEAU10[9]})
ROLE_COLOURS = _in_words({"PEER_SPECIALIST_MH": "#0072B2", "PEER_RECOVERY_SUD": "#E69F00", "FAMILY_PEER": "#009E73",
                          "YOUTH_PEER": "#CC79A7", "FORENSIC_PEER": "#56B4E9", "PEER_SUPERVISOR": "#D55E00",
                          "CLINICAL_LICENSED": GREY})
ROLE_ORDER = [VALUE_LABELS[r] for r in PEER_ROLES]
"""Peer roles in words, in the contracts' order (a heatmap's columns, whoever reads it)."""
AGENCY_TYPE_COLOURS = _in_words(dict(zip(AGENCY_TYPES, (*TABLEAU10, "#000000"))))
MEASURES = {"Units billed": "#0072B2", "Units paid": "#009E73", "Units denied": "#D55E00",
            "Billed": "#0072B2", "Paid": "#009E73",
            "Peer headcount": "#0072B2", "Hires": "#009E73", "Separations": "#D55E00",
            "Hired": "#009E73", "Left": "#D55E00"}
"""The measures drawn side by side: what came in (blue), what was paid or hired (green), denied or lost (vermillion)."""
RATERS = {"Leadership": "#0072B2", "Peer staff": "#E69F00", "Agency leaders": "#0072B2", "Agency peers": "#E69F00",
          "Region leaders": "#56B4E9", "Region peers": "#F0E442"}
"""Leaders blue and peers orange; a region's mean beside an agency in the lighter twin of each."""
ACTIONS = {"Open": "#0072B2", "Overdue (of open)": "#D55E00", "Done": "#009E73"}

CATEGORIES: dict[str, dict[str, str]] = {
    "status": STATUSES, "stage": STAGES, "band": BANDS, "funding": FUNDING_SOURCES, "reason": REASONS,
    "role": ROLE_COLOURS, "agency_type": AGENCY_TYPE_COLOURS, "measure": MEASURES, "rater": RATERS,
    "action": ACTIONS,
}
"""Every categorical colour set by name (the contracts' allowed values are all in their set)."""
assert set(CERT_STATUSES) <= set(STATUSES) and set(FUNDING) <= set(FUNDING_SOURCES)
assert set(SEPARATION_REASONS) <= set(REASONS) and set(ROLES) <= set(ROLE_COLOURS)

# --- what is not shown --------------------------------------------------------------------------------

SUPPRESSED = "suppressed"
SUPPRESSED_FILL = "#d9d9d9"
"""Cells hidden by the protected layer: light grey, with 'suppressed' in the legend and the tooltip."""
SUPPRESSED_MARK = "#737373"
"""Marks standing in for hidden points on lines and bars (dark enough to see on white)."""
TARGET_RULE = "#555555"


# --- scales -------------------------------------------------------------------------------------------

def scale(colours: Mapping[str, str], present: Iterable[object]) -> alt.Scale:
    """A colour scale listing the `present` values in the order of `colours`, each in its colour; a value the
    set does not know (in sorted order) takes a colour the set does not use."""
    shown = {str(v) for v in present if v is not None}
    domain = [k for k in dict.fromkeys(colours) if k in shown]
    used = {colours[k] for k in domain}
    spare = iter([c for c in (*OKABE_ITO, *TABLEAU10) if c not in set(colours.values()) | used] or [GREY])
    extra = {v: next(spare, GREY) for v in sorted(shown - set(domain))}
    return alt.Scale(domain=[*domain, *extra], range=[*(colours[k] for k in domain), *extra.values()])


def for_places(present: Iterable[object]) -> alt.Scale:
    """The place scale: the state black, each region its own colour; a place that is neither (the agency on its
    profile) wine."""
    colours = places()
    ordered = {p: colours[p] for p in [*place_order(), *colours]}
    unknown = sorted({str(p) for p in present if p is not None} - set(ordered))
    if unknown:
        ordered = {unknown[0]: AGENCY_COLOUR, **ordered}
    return scale(ordered, present)
