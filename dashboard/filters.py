"""Global filters (quarter range, region, agency type) in the sidebar, kept in `st.query_params`.

Every filtered view is a link: the URL carries `from`, `to`, `region` and `type`. The sidebar
widgets live in app.py, so their state survives page switches; each run writes the current values
back to the URL (Streamlit clears query parameters when the page changes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import streamlit as st

from dashboard import data
from pipelines.contracts import AGENCY_TYPES, VALUE_LABELS

PARAMS = ("from", "to", "region", "type")


@dataclass(frozen=True)
class Filters:
    quarter_from: str | None
    quarter_to: str | None
    region: str | None  # region_id, or None for the whole state
    region_name: str | None
    agency_type: str | None  # agencies.agency_type, or None for every type
    scope: tuple[str, ...] | None = None  # the agencies whose own rows the viewer may see; None: every agency

    @property
    def level(self) -> str:
        return "region" if self.region else "state"

    @property
    def entity_id(self) -> str:
        return self.region or "STATE"

    @property
    def place(self) -> str:
        return self.region_name or "Statewide"

    def entity(self, prefix: str = "") -> tuple[str, list]:
        """SQL condition + params selecting the chosen region's (or the state's) rows of a level view."""
        return f"{prefix}level = ? and {prefix}entity_id = ?", [self.level, self.entity_id]

    def quarters(self, column: str = "quarter") -> tuple[str, list]:
        """SQL condition + params for the chosen quarter range."""
        if not self.quarter_from:
            return "true", []
        return f"{column} between ? and ?", [self.quarter_from, self.quarter_to]

    def agencies(self, prefix: str = "") -> tuple[str, list]:
        """SQL condition + params for agency rows in the chosen region and of the chosen type, within the
        viewer's scope (an agency submitter's own agencies; none for the public)."""
        parts, params = ["true"], []
        if self.scope is not None:
            parts.append(f"list_contains(?::varchar[], {prefix}agency_id)")
            params.append(list(self.scope))
        if self.region:
            parts.append(f"{prefix}region_id = ?")
            params.append(self.region)
        if self.agency_type:
            parts.append(f"{prefix}agency_type = ?")
            params.append(self.agency_type)
        return " and ".join(parts), params

    def scope_note(self) -> str | None:
        """What the agency-type filter does not narrow (region and state rows cover every type)."""
        if not self.agency_type:
            return None
        return (f"{self.place} figures (cards and trends) cover every agency type; the {type_label(self.agency_type)} "
                "filter narrows the agency lists, rankings and heatmaps.")

    def describe(self) -> str:
        span = (f"{self.quarter_from} to {self.quarter_to}" if self.quarter_from != self.quarter_to
                else self.quarter_from) if self.quarter_from else "no quarters yet"
        kind = f" · {type_label(self.agency_type)}" if self.agency_type else ""
        return f"{self.place}{kind} · {span}"


TYPE_LABELS = {kind: VALUE_LABELS[kind] for kind in AGENCY_TYPES}


def type_label(agency_type: str | None) -> str:
    if not agency_type:
        return "All types"
    return TYPE_LABELS.get(agency_type, agency_type.replace("_", " ").capitalize())


def _options() -> tuple[list[str], dict[str, str], list[str]]:
    quarters = data.query("select quarter from dim_quarter order by quarter_ordinal")["quarter"].to_list()
    regions = data.query("select region_id, name from regions order by region_id")
    types = data.query("select distinct agency_type from agencies order by 1")["agency_type"].to_list()
    return quarters, dict(zip(regions["region_id"], regions["name"])), types


QUARTER = re.compile(r"[0-9]{4}-Q[1-4]")  # ASCII digits: str.isdigit and \d also accept others
AGENCY_ID = re.compile(r"AG[0-9]{4,6}")  # as pipelines.contracts.AGENCY_ID_PATTERN, in ASCII digits
SUBMISSION_ID = re.compile(r"[0-9]{1,12}")
IGNORED = "filter_ignored"


def _quarters_from_url(quarters: list[str]) -> tuple[str, str]:
    """The URL's quarter range, or every quarter when it names none (or an unknown or malformed one)."""
    start, end = st.query_params.get("from", quarters[0]), st.query_params.get("to", quarters[-1])
    if not all(QUARTER.fullmatch(q) and q in quarters for q in (start, end)) or start > end:
        _ignored(*(p for p in ("from", "to") if p in st.query_params))
        return quarters[0], quarters[-1]
    return start, end


def _ignored(*params: str) -> None:
    """Note the URL parameters whose values were ignored (their names only: the values are never shown)."""
    if params:
        st.session_state[IGNORED] = sorted({*st.session_state.get(IGNORED, ()), *params})


def _seed_from_url(regions: dict[str, str], types: list[str]) -> None:
    """Give each filter widget its value from the URL when it has none yet (a new session, or a widget
    Streamlit dropped); a value that is not exactly a known region id or agency type is ignored, with a
    notice naming the parameter."""
    for key, param, known in (("filter_region", "region", regions), ("filter_type", "type", types)):
        if key not in st.session_state:
            value = st.query_params.get(param)
            if value and value not in known:
                _ignored(param)
                value = None
            st.session_state[key] = value or None


def notice(params: list[str]) -> str:
    """The notice for ignored URL parameters: fixed words and the parameters' own names, never their values."""
    return ("Ignored the link's " + ", ".join(f"'{p}'" for p in params if p in PARAMS)
            + " filter: not a known value. Showing the default instead.")


def sidebar(scope: tuple[str, ...] | None) -> Filters:
    """Render the global filters in the sidebar, sync them to the URL, and return them (within `scope`,
    the agencies the viewer may see row by row)."""
    quarters, regions, types = _options()
    _seed_from_url(regions, types)
    with st.sidebar:
        st.subheader("Filters")
        if len(quarters) > 1:
            start, end = st.select_slider("Quarters", options=quarters, value=_quarters_from_url(quarters),
                                          key="filter_quarters")
        elif quarters:
            start = end = quarters[0]
        else:
            start = end = None
        region = st.selectbox("Region", list(regions), key="filter_region", index=None, placeholder="Statewide",
                              format_func=lambda r: f"{regions[r]} ({r})")
        agency_type = st.selectbox("Agency type", types, key="filter_type", index=None, placeholder="All types",
                                   format_func=type_label)
        if st.session_state.get(IGNORED):
            st.warning(notice(st.session_state[IGNORED]), icon=":material/link_off:")
    chosen = Filters(start, end, region, regions.get(region), agency_type, scope)
    _write_url(chosen, quarters)
    st.session_state["filters"] = chosen
    return chosen


def _write_url(f: Filters, quarters: list[str]) -> None:
    wanted = {"region": f.region, "type": f.agency_type}
    if quarters and (f.quarter_from, f.quarter_to) != (quarters[0], quarters[-1]):
        wanted |= {"from": f.quarter_from, "to": f.quarter_to}
    for key in PARAMS:
        value = wanted.get(key)
        if value and st.query_params.get(key) != value:
            st.query_params[key] = value
        elif not value and key in st.query_params:
            del st.query_params[key]


def current() -> Filters:
    """The filters app.py rendered for this run (pages call this, never the widgets); without them, no
    agency's own rows."""
    return st.session_state.get("filters") or Filters(None, None, None, None, None, ())
