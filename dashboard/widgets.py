"""Small UI pieces every page uses: downloadable tables, charts with their data, empty states, and how values
read (words for codes, numbers by unit, one date format, plurals)."""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
import urllib.parse
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import altair as alt
import polars as pl
import streamlit as st

from dashboard import disclosure
from dashboard.charts import FIT
from pipelines import csv_safe
from pipelines.contracts import label_codes, plural  # noqa: F401 (pages call widgets.plural)
from pipelines.metrics import metric


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """CSV of a shown frame: lists joined with '; ', text that a spreadsheet would run as a formula
    (starting with = + - @ tab or CR) prefixed with an apostrophe (pipelines.csv_safe)."""
    return csv_safe.csv_bytes(frame)


def table(frame: pl.DataFrame, name: str, caption: str | None = None, row_level: bool = False, *,
          raw: bool = False, download: bool = True, column_config: dict | None = None, **kwargs):
    """A table as people read it (presented(): words for codes, headers in words with units, numbers and dates
    by unit, empty cells blank, agencies and regions as links), with a CSV download of the frame as given (the
    codes and full values, built when clicked); returns st.dataframe's value (its selection, when selectable).
    `column_config` (by the frame's column names) overrides what presented() chose, key by key; `raw`: show the
    frame as it is (a SQL result). `row_level`: rows of a report (a peer, a line of a file), downloadable only by
    those who may export them. `download`: False where another table already offers the same frame."""
    from dashboard import auth

    if raw or name in RAW_TABLES:
        shown, config = frame, {}
    else:
        shown, config = presented(frame)
    for column_name, given in (column_config or {}).items():  # the page's words win; what it leaves out stays
        if given is None or column_name not in config or config[column_name] is None:
            config[column_name] = given
        elif isinstance(given, str):
            config[column_name] = {**config[column_name], "label": given}
        else:
            config[column_name] = {**config[column_name], **{k: v for k, v in given.items() if v is not None}}
    if not (raw or name in RAW_TABLES):
        config, height = laid_out(shown, config, kwargs.get("column_order"))
        if height and "row_height" not in kwargs:
            kwargs["row_height"] = height
        if shown.height <= WHOLE_ROWS and "height" not in kwargs:  # short tables whole, without a scrollbar
            kwargs["height"] = 38 + (shown.height or 1) * kwargs.get("row_height", 35)
    value = st.dataframe(shown, hide_index=True, width="stretch", column_config=config, placeholder="", **kwargs)
    if not download:
        pass
    elif row_level and not auth.current().may_export_rows:
        st.caption(":material/lock: Downloads of row-level data are for state analysts and administrators.")
    else:
        st.download_button(f"Download {name} (CSV)", lambda: csv_bytes(frame), file_name=f"{name}.csv",
                           mime="text/csv", key=f"dl-{name}", icon=":material/download:", on_click="ignore")
    if caption:
        st.caption(caption)
    return value


WHOLE_ROWS = 25
"""A table of up to this many rows is shown whole (the grid's default height shows ten)."""
RAW_TABLES = {"query-result"}
"""Tables shown exactly as SQL returned them (the SQL workbench): an analyst filters on the codes they see."""


# --- how a table reads -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """How one column of a table reads: its header (words, with the unit), a number format (a Python format spec:
    ',.0f', '.1f'; 'id' for identifiers, shown without separators), and a tooltip."""

    header: str
    format: str | None = None
    help: str | None = None


def _from_registry(metric_id: str, header: str | None = None) -> Column:
    """A column holding a registered metric: the registry's label (with its unit when the label lacks it), format
    and description."""
    m = metric(metric_id)
    words, about = header or short_label(m.label), m.description
    if words != m.label and not header:  # the rest of the label in the tooltip
        about = f"{m.label}. {m.description}"
    unit = {"%": "%", "USD": "$"}.get(m.unit)
    if unit and unit not in words:
        words = f"{words} ({unit})"
    return Column(words, m.format or None, about)


SHORT_HEADER = 30
"""A registry label longer than this heads a column (or a table's row) without its bracket ("Supervision
coverage"); the whole label leads the column's tooltip and titles the KPI card."""


def short_label(label: str) -> str:
    """A registry label as a column header or a table row names it: without its bracket when long."""
    return label[:label.index(" (")] if len(label) > SHORT_HEADER and " (" in label else label


METRIC_COLUMNS = {  # a table's column -> the registered metric it holds
    "peer_fte_per_100k": "peer_fte_per_100k", "peer_fte": "peer_fte",
    "peer_to_clinician_ratio": "peer_to_clinician_ratio", "certified_pct": "certified_pct",
    "peers_per_trained_supervisor": "peers_per_trained_supervisor",
    "annualized_turnover_pct": "annualized_turnover_pct", "retention_12m_pct": "retention_12m_pct",
    "denial_rate_pct": "denial_rate_pct", "billing_sustainability_pct": "billing_sustainability_pct",
    "index_score": "integration_index", "stage": "integration_stage", "workforce": "workforce_score",
    "workforce_score": "workforce_score", "practice_score": "practice_score", "units_paid": "units_paid",
    "amount_paid_usd": "amount_paid_usd", "units_per_peer_fte": "units_billed_per_peer_fte",
    "units_billed_per_peer_fte": "units_billed_per_peer_fte", "group_share_pct": "group_share_pct",
    "quarters_overdue": "quarters_overdue", "gap": "peer_voice_gap", "leadership": "leadership_rating",
    "peer_vacancy_rate_pct": "peer_vacancy_rate_pct",
}

COLUMNS: dict[str, Column] = {
    "agency_id": Column("Agency ID", "id"), "agency_name": Column("Agency"), "agency": Column("Agency"),
    "region_id": Column("Region ID", "id"), "region": Column("Region"), "place": Column("Place"),
    "agency_type": Column("Agency type"), "quarter": Column("Quarter"), "population": Column("Population", ",.0f"),
    "peers": Column("Peers", ",.0f", "Peer workers (headcount)"), "clinicians": Column("Clinicians", ",.0f"),
    "trained_supervisors": Column("Trained supervisors", ",.0f"), "certified_peers": Column("Certified peers", ",.0f"),
    "separations_in_4_quarters": Column("Separations (4 quarters)", ",.0f"),
    "credentials_expiring": Column("Credentials expiring", ",.0f", "Active credentials expiring within 90 days"),
    "soonest_in_days": Column("Soonest expiry (days)", ",.0f", "Days from the as-of date to the first expiry"),
    "first_expiry": Column("First expiry"), "expiration_date": Column("Expires"),
    "days_to_expiry": Column("Days left", ",.0f", "Days from the as-of date to the expiry"),
    "prior_denial_rate_pct": Column("Prior denial rate (%)", ".1f", "Denial rate in the agency's previous billing "
                                    "quarter"),
    "adjudicated_units_count": Column("Adjudicated units", ",.0f", "Units paid plus units denied"),
    "state": Column("Status"), "reports": Column("Reports"), "due_date": Column("Due"),
    "index_trend": Column("Index trend"), "measure": Column("Measure"), "state target": Column("State target"),
    "practice": Column("Practice"), "domain": Column("Domain"), "status": Column("Status"), "owner": Column("Owner"),
    "due": Column("Due quarter"), "overdue": Column("Overdue"), "assessed_in": Column("Assessed in"),
    "submission_id": Column("Submission", "id"), "history": Column("History"), "report": Column("Report"),
    "file_name": Column("File"), "rows": Column("Rows", ",.0f"), "error_count": Column("Errors", ",.0f"),
    "warning_count": Column("Warnings", ",.0f"), "submitted_at": Column("Submitted (server time)"),
    "submitted_by": Column("Submitted by"), "superseded_by": Column("Replaced by", "id"),
    "first_accepted": Column("First accepted (server time)"), "uploads": Column("Uploads", ",.0f"),
    "practice_statement": Column("Practice"), "peer_id": Column("Peer ID"), "role": Column("Role"),
    "credential": Column("Credential"), "credential_code": Column("Credential"), "hcpcs": Column("HCPCS code"),
    "modifier": Column("Modifier"),
    "code_description": Column("Service"), "units_billed": Column("Units billed", ",.0f"),
    "from_stage": Column("Stage a year before"), "to_stage": Column("Stage now"), "direction": Column("Moved"),
    "severity": Column("Severity"), "code": Column("Finding"), "row": Column("Row", "id"), "column": Column("Column"),
    "value": Column("Value"), "sha256": Column("SHA-256"), "contact_email": Column("Contact"),
    "reports_missing": Column("Quarters and reports missing"), "reports_missing_count": Column("Missing", ",.0f"),
}
COLUMNS |= {name: _from_registry(metric_id) for name, metric_id in METRIC_COLUMNS.items()}
COLUMNS["stage"] = _from_registry("integration_stage", "Stage")

AGENCY_LINK, REGION_LINK = "agency_profile", "region_focus"
"""The link columns presented() adds: an agency's name opening its profile, a region's name focusing the overview."""


def metric_column(metric_id: str, header: str | None = None):
    """The column_config of a column holding a registered metric (its label, unit, format and description)."""
    col = _from_registry(metric_id, header)
    return st.column_config.NumberColumn(col.header, help=col.help, format=_printf(col.format, False))


def column(name: str) -> Column:
    """How a column reads: as registered above, else its name in words (units from the suffix)."""
    if name in COLUMNS:
        return COLUMNS[name]
    words, fmt = name, None
    for suffix, unit, spec in (("_pct", " (%)", ".1f"), ("_usd", " ($)", ",.0f"), ("_count", "", ",.0f"),
                               ("_days", " (days)", ",.0f")):
        if words.endswith(suffix):
            words, fmt = words.removesuffix(suffix) + unit, spec
    words = words.replace("_", " ")
    return Column(words[:1].upper() + words[1:], fmt)


def _printf(spec: str | None, integer: bool) -> str | None:
    """A Python format spec as the data grid's printf format: ',.1f' -> '%,.1f'; 'id' -> '%d'."""
    if spec == "id":
        return "%d" if integer else None
    if not spec:
        return "%,d" if integer else "%,.1f"
    return f"%{spec}".replace(".0f", "d") if integer and spec.endswith(".0f") else f"%{spec}"


def number_text(value: object, spec: str | None) -> str:
    """A number as text by its format ('suppressed' and other words stay as they are; empty for none)."""
    if value is None:
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return ""
    return format(number, spec if spec and spec != "id" else (",.0f" if number.is_integer() else ",.1f"))


def presented(frame: pl.DataFrame) -> tuple[pl.DataFrame, dict]:
    """The frame as a table shows it and its column_config: codes in words, an agency's name linking to its
    profile and a region's to the region focus (their ids and plain names kept, hidden, for selections and
    tests), numbers and dates formatted by unit, headers in words; the `suppressed` marks (cells already read
    "suppressed") hidden."""
    shown = label_codes(frame)
    config: dict = {}
    links = []
    if "agency_id" in shown.columns:
        name = next((c for c in ("agency_name", "agency") if shown.schema.get(c) == pl.String), "agency_id")
        shown = shown.with_columns(agency_links(shown["agency_id"], shown[name]).alias(AGENCY_LINK))
        config[AGENCY_LINK] = st.column_config.LinkColumn("Agency", display_text=LINK_TEXT, pinned=True,
                                                          help="Opens the agency's profile")
        config |= {"agency_id": None, name: None}
        links.append(AGENCY_LINK)
    if "region_id" in shown.columns:
        names = shown["region"] if shown.schema.get("region") == pl.String else shown["region_id"].replace(
            region_names())
        shown = shown.with_columns(region_links(shown["region_id"], names).alias(REGION_LINK))
        config[REGION_LINK] = st.column_config.LinkColumn("Region", display_text=LINK_TEXT, pinned=not links,
                                                          help="Focuses the overview on the region")
        config |= {"region_id": None, "region": None}
        links.append(REGION_LINK)
    for code, (words, sql) in REFERENCE_WORDS.items():
        if shown.schema.get(code) == pl.String:  # a reference code: its words beside it, the code kept (hidden)
            found = reference_words(sql)
            shown = shown.with_columns(pl.col(code).replace(found).alias(words))
            config[code] = None
    if shown.schema.get("history") == pl.String:  # a submission's history: keep demo mode's viewer in the new tab
        shown = shown.with_columns(pl.col("history").map_elements(with_viewer, return_dtype=pl.String))
    if "suppressed" in shown.columns:
        config["suppressed"] = None
    for name, dtype in shown.schema.items():
        if name in config:
            continue
        col = column(name)
        if dtype.is_numeric():
            config[name] = st.column_config.NumberColumn(col.header, help=col.help,
                                                         format=_printf(col.format, dtype.is_integer()))
        elif dtype == pl.Date:
            config[name] = st.column_config.DateColumn(col.header, help=col.help, format=DATE_GRID)
        elif isinstance(dtype, pl.Datetime) and (shown[name].dt.time().drop_nulls() == dt.time()).all():
            config[name] = st.column_config.DateColumn(col.header, help=col.help, format=DATE_GRID)
        elif isinstance(dtype, pl.Datetime):
            config[name] = st.column_config.DatetimeColumn(col.header, help=col.help, format=DATETIME_GRID)
        elif dtype == pl.String and col.format:  # numbers as text beside "suppressed" (the protected layer)
            shown = shown.with_columns(pl.col(name).map_elements(lambda v, spec=col.format: number_text(v, spec),
                                                                 return_dtype=pl.String))
            config[name] = st.column_config.TextColumn(col.header, help=col.help, alignment="right")
        elif dtype == pl.Boolean:
            config[name] = st.column_config.CheckboxColumn(col.header, help=col.help)
        else:
            config[name] = st.column_config.Column(col.header, help=col.help)
    twins = {code: words for code, (words, _) in REFERENCE_WORDS.items() if words in shown.columns}
    order = links + [name for c in frame.columns for name in ((twins[c], c) if c in twins else (c,))]
    return shown.select(order + [c for c in shown.columns if c not in order]), config


REFERENCE_WORDS = {
    "practice": ("practice_statement", "select practice_code, statement from integration_practices"),
    "credential_code": ("credential", "select credential_code, title from credentials"),
}
"""Columns of reference codes (the state's practice items, credentials) and where their words are."""


def reference_words(sql: str) -> dict[str, str]:
    from dashboard import data

    found = data.query(sql)
    return dict(zip(found[found.columns[0]], found[found.columns[1]]))


LINK_TEXT = r"#(.+)$"
"""A link cell's URL ends with '#' and the words it shows (a fragment the page ignores)."""


def app_link(page: str, **params: str) -> str:
    """A link to a page of this app (`page`: its address, './' for the overview, '' for the page showing the
    link), relative to the current address so it works under any base path, with demo mode's viewer carried along
    (a link opens a new tab: a new session)."""
    from dashboard import auth

    if auth.demo() and auth.DEMO_PARAM in st.query_params:
        params[auth.DEMO_PARAM] = st.query_params[auth.DEMO_PARAM]
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    return f"{page}{'?' if query else ''}{query}"


def with_viewer(link: str) -> str:
    """A relative link of this app with demo mode's viewer added (unchanged outside demo mode)."""
    page, _, query = link.partition("?")
    return app_link(page, **dict(urllib.parse.parse_qsl(query)))


def agency_links(ids: pl.Series, names: pl.Series) -> pl.Series:
    """Each agency's profile address, showing its name."""
    return pl.Series([None if a is None else f"{app_link('agency', agency=a)}#{n or a}"
                      for a, n in zip(ids, names)], dtype=pl.String)


def region_links(ids: pl.Series, names: pl.Series) -> pl.Series:
    """Each region's focus (the overview filtered to it, over the same quarters), showing its name."""
    from dashboard.filters import PARAMS

    kept = {k: st.query_params.get(k) for k in PARAMS if k not in ("region", "type")}
    return pl.Series([None if r is None else f"{app_link('./', region=r, **kept)}#{n or r}"
                      for r, n in zip(ids, names)], dtype=pl.String)


def region_names() -> dict[str, str]:
    from dashboard import data

    found = data.query("select region_id, name from regions")
    return dict(zip(found["region_id"], found["name"]))


WRAP_CHARS, WRAP_WIDTH, MAX_WIDTH, MAX_LINES = 64, 360, 480, 5
"""Text longer than WRAP_CHARS wraps in a column WRAP_WIDTH px wide (the grid wraps when rows are taller than
4rem), MAX_WIDTH px when it would take more than MAX_LINES lines (rows grow to twice that at most); shorter text
gets a column as wide as its longest value (up to MAX_WIDTH px), so no cell or header is cut."""
PIN_FROM = 3
"""A table of this many visible columns or more keeps its first column in view when scrolled sideways."""


def text_px(chars: int) -> int:
    """About how wide a line of `chars` characters is in the grid (14 px Source Sans, with the cell's padding)."""
    return math.ceil(6.5 * chars) + 20


def laid_out(frame: pl.DataFrame, config: dict, order=None) -> tuple[dict, int | None]:
    """Widths for the text columns shown (the longest value and the header fit, long text wraps), the first column
    pinned in a wide table, and the row height wrapped text needs (None: the grid's default)."""
    config = {k: {"label": v} if isinstance(v, str) else v for k, v in config.items()}
    visible = [c for c in (order or frame.columns) if c in frame.columns and config.get(c, {}) is not None]
    lines = 1
    for name in visible:
        cfg = config.setdefault(name, {})
        header = len(str(cfg.get("label") or name)) + 1  # room for the sort mark
        if frame.schema[name] != pl.String:
            if header > 12 and cfg.get("width") is None and frame.schema[name] != pl.List:
                config[name] = {**cfg, "width": text_px(header)}
            continue
        if cfg.get("width") is not None or cfg.get("type_config", {}).get("type") == "link" and name not in (
                AGENCY_LINK, REGION_LINK):
            continue
        values = frame[name].str.replace(r"^[^#]*#", "") if name in (AGENCY_LINK, REGION_LINK) else frame[name]
        longest = int(values.str.len_chars().max() or 0)
        if longest > WRAP_CHARS:
            width = WRAP_WIDTH if text_px(longest) <= MAX_LINES * (WRAP_WIDTH - 16) else MAX_WIDTH
            config[name] = {**cfg, "width": max(width, text_px(header))}
            lines = max(lines, math.ceil(text_px(longest) / (width - 16)))
        elif longest > 12 or header > 12:
            config[name] = {**cfg, "width": min(MAX_WIDTH, text_px(max(longest, header)))}
    if len(visible) >= PIN_FROM and not any((config.get(c) or {}).get("pinned") for c in visible):
        config[visible[0]] = {**config.get(visible[0], {}), "pinned": True}
    return config, None if lines == 1 else 10 + 21 * min(2 * MAX_LINES, max(3, lines))


# --- dates, plurals --------------------------------------------------------------------------------------

DATE_GRID, DATETIME_GRID = "D MMM YYYY", "D MMM YYYY, HH:mm"
"""The one date format (15 Nov 2026; with the time: 15 Nov 2026, 14:05), as the data grid writes it."""


def date_text(value: dt.date | str | None) -> str:
    """A date as every page writes it: 15 Nov 2026."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return f"{value.day} {value:%b %Y}"


def datetime_text(value: dt.datetime | None) -> str:
    """A moment as every page writes it: 15 Nov 2026, 14:05."""
    return "" if value is None else f"{date_text(value)}, {value:%H:%M}"


def as_of_text() -> str:
    """What date the figures are as of, and which dates are real: the as-of date is 'today' for every date rule
    (late, expiring, overdue); uploads are stamped with the real time."""
    from dashboard import data

    found = data.query("select as_of_date, is_fixed from dim_as_of")
    if found.is_empty():
        return ""
    day, fixed = found.row(0)
    if fixed:
        return f"Figures as of {date_text(day)} (a fixed date, the demo's “today”; uploads carry their real date)"
    return f"Figures as of today, {date_text(day)}"


def png(chart_obj: alt.TopLevelMixin) -> bytes:
    """The chart rendered to PNG offline (vl-convert), at twice screen resolution."""
    import vl_convert

    return vl_convert.vegalite_to_png(json.dumps(chart_obj.to_dict()), scale=2)


def unchecked(chart_obj: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The chart, serialized without a check against the Vega-Lite schema on every run (half of what converting
    a chart costs, and Streamlit converts one chart at a time per process). The charts of every page, as
    every role, are checked against the schema by tests/test_chart_schema.py."""
    object.__setattr__(chart_obj, "to_dict", functools.partial(type(chart_obj).to_dict, chart_obj, validate=False))
    return chart_obj


def chart(chart_obj: alt.TopLevelMixin, frame: pl.DataFrame, name: str, as_of: str, **kwargs):
    """An Altair chart, its as-of date, its data as CSV and the picture as PNG (rendered on click)."""
    shown = st.altair_chart(unchecked(chart_obj), width="stretch", **kwargs)
    _chart_footer(lambda: chart_obj, frame, name, as_of)
    return shown


def panels(charts: list[alt.LayerChart], frame: pl.DataFrame, name: str, as_of: str, title: str, subtitle: str,
           key: str, on_select=None, columns: int = 3) -> None:
    """Small multiples (charts.small_multiples) under one title, `columns` to a row, each as wide as its column
    (on a narrow screen the columns stack); one as-of line, one CSV and one PNG for them all. `on_select(key)`
    gives the callback of the panel under `key`."""
    st.markdown(f"**{title}**")
    if not charts:
        empty_state(NO_MATCH)
        return
    st.caption(subtitle)
    for start in range(0, len(charts), columns):
        for i, column in enumerate(st.columns(columns), start):
            if i < len(charts):
                with column:
                    st.altair_chart(unchecked(charts[i].properties(autosize=FIT)), width="stretch",
                                    key=f"{key}-{i}", on_select=on_select(f"{key}-{i}") if on_select else "ignore")

    def picture() -> alt.ConcatChart:
        with warnings.catch_warnings():  # the panels' click selections, merged into one: the picture needs none
            warnings.simplefilter("ignore")
            return alt.concat(*(c.properties(width=220) for c in charts), columns=columns,
                              title=alt.TitleParams(title, subtitle=subtitle, anchor="start"))
    _chart_footer(picture, frame, name, as_of)


def _chart_footer(picture: Callable[[], alt.TopLevelMixin], frame: pl.DataFrame, name: str, as_of: str) -> None:
    note, buttons = st.columns([3, 2], vertical_alignment="center")
    note.caption(f"Figures as of {date_text(as_of)}. Source: accepted quarterly agency reports.")
    with buttons.container(horizontal=True, horizontal_alignment="right"):
        st.download_button("CSV", lambda: csv_bytes(frame), file_name=f"{name}.csv", mime="text/csv",
                           key=f"dl-chart-{name}", icon=":material/download:", on_click="ignore",
                           help="The data behind this chart")
        st.download_button("PNG", lambda: png(picture()), file_name=f"{name}.png", mime="image/png",
                           key=f"png-chart-{name}", icon=":material/image:", on_click="ignore",
                           help="This chart as a picture")


def scope_note(filters) -> None:
    """Say what the agency-type filter leaves out, where a page mixes place totals and agency rows."""
    if filters.agency_type and disclosure.restricted():
        st.caption(":material/filter_alt: Figures shown outside the state office cover every agency type: split by "
                   "type, most would rest on one or two agencies.")
    elif note := filters.scope_note():
        st.caption(f":material/filter_alt: {note}")


def titled(title: str):
    """Title a page that needs data; stop with what to do when the warehouse holds none yet.
    Returns the global filters."""
    from dashboard import filters

    f = filters.current()
    st.title(title)
    if not f.quarter_to:
        empty_state(NO_DATA)
        st.stop()
    return f


def plain(text: object) -> str:
    """Text from a user or the address (a file name, a provider's display name) made safe inside markdown,
    on one line: no links, images, emphasis, headings, lists, icons, colours or HTML."""
    one_line = re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", str(text))
    return re.sub(r"([\\`*_{}\[\]()<>#+\-.!|~$:=&^])", r"\\\1", one_line)


CARD_STYLE = ("<style>[class*='st-key-card-'] :is([data-testid='stMetricLabel'], [data-testid='stMetricDelta'],"
              " [data-testid='stMetricDeltaDescription']) :is([data-testid='stMarkdownContainer'],"
              " [data-testid='stCaptionContainer'], p){white-space:normal;overflow-wrap:break-word}"
              "[class*='st-key-card-'] :has(> [data-testid='stMetricDelta']){flex-wrap:wrap}"
              "[class*='st-key-card-'] [data-testid='stMetricLabel']"
              "{height:auto;min-height:2.6em;align-items:flex-start}"
              "[class*='st-key-card-'][class*='-in-words'] [data-testid='stMetricValue']"
              "{font-size:1.5rem;min-height:2.25rem;display:flex;align-items:flex-end}"
              "[class*='st-key-card-'][class*='-in-words'] [data-testid='stMetricValue'] :is(div, p)"
              "{white-space:normal}"
              "[class*='st-key-card-'][class*='-long'] [data-testid='stMetricValue']{font-size:1.75rem}"
              "</style>")
"""KPI titles (and the change under the value) wrap inside their card instead of being cut; a card's title keeps
two lines so the values of a row line up; a value in words ("suppressed", "yearly (Q4)") or longer than
LONG_VALUE characters ("$11,626,986") is set smaller, to fit a quarter of the page at 1280 px."""
LONG_VALUE = 8


def card(key: str, label: str, value: object, *, note: str | None = None,
         link: tuple[str, str, dict] | None = None, **kwargs) -> None:
    """One KPI card (st.metric with a border) whose title wraps; under it a `note` (markdown of ours) and, when
    given, a link (page script, label, query parameters) to the page that explains the figure, shown only to roles
    that can open that page."""
    from dashboard import auth

    text = str(value)
    words = not re.match(r"[-+$0-9.,%±]+$", text.replace(" ", ""))
    size = "-in-words" if words else "-long" if len(text) > LONG_VALUE else ""
    with st.container(key=f"card-{key}{size}", gap="small"):
        st.html(CARD_STYLE)
        st.metric(label, value, border=True, **kwargs)
        if note:
            st.caption(note)
        if link and auth.allowed(link[0].removeprefix("pages/").removesuffix(".py")):
            st.page_link(link[0], label=link[1], icon=":material/arrow_forward:", query_params=link[2] or None)


def filter_params() -> dict[str, str]:
    """The global filters as the address holds them (for links that keep the reader's view)."""
    from dashboard.filters import PARAMS

    return {k: st.query_params[k] for k in PARAMS if k in st.query_params}


def count_text(value: int | None) -> str:
    """A count as a card shows it: 1,234, or "suppressed" where the layer hides it."""
    return disclosure.SUPPRESSED if value is None else f"{int(value):,}"


def empty_state(message: str) -> None:
    st.info(message, icon=":material/info:")


NO_DATA = ("No accepted submissions yet. Load the demo state with `make demo` (or "
           "`python -m pipelines demo`), or ingest agency files with `python -m pipelines ingest FILE`.")
NO_MATCH = ("No reports match these filters. Widen the quarter range, or clear the region or agency type "
            "in the sidebar.")
