"""KPI cards read from the metric registry: value, change since the prior quarter, sparkline."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import data
from pipelines.metrics import metric
from pipelines.publication import published, yearly
from pipelines.targets import BAND_WORDS, for_metric

INDEX_CARDS = ("integration_index", "workforce_score", "practice_score")
STATE_CARDS = ("peer_fte_per_100k", "peer_to_clinician_ratio", "certified_pct", "peers_per_trained_supervisor",
               "annualized_turnover_pct", "retention_12m_pct", "denial_rate_pct", "billing_sustainability_pct")


def hidden_as(m, quarter: str) -> str:
    """How a hidden figure reads: it rests on a small count (disclosure.NOTE), or on a rolling window that
    readers outside the state office get once a year."""
    return "yearly (Q4)" if yearly(m.rests_on) and not quarter.endswith("Q4") else "suppressed"


EXPLAINED_ON = {"headcount": "regions", "certification": "certification", "retention": "retention",
                "billing": "billing", "practices": "integration"}
"""The page that explains a metric, by the report it rests on (the index and its pillars: Integration practices)."""
PAGE_TITLES = {"regions": "Regions", "certification": "Certification", "retention": "Retention",
               "billing": "Medicaid billing", "integration": "Integration practices",
               "definitions": "Metric definition"}


def explained_on(metric_id: str, here: str | None = None) -> tuple[str, str, dict]:
    """Where a card leads (page script, link label, query parameters): the page that explains the metric, with the
    reader's filters; on that page itself, the metric's definition."""
    from dashboard import widgets

    m = metric(metric_id)
    page = "integration" if m.id in INDEX_CARDS else EXPLAINED_ON.get(m.reports[0] if m.reports else "", "definitions")
    if page == here:
        return "pages/definitions.py", PAGE_TITLES["definitions"], {"metric": m.id}
    return f"pages/{page}.py", PAGE_TITLES[page], widgets.filter_params()


def card(metric_id: str, series: pl.DataFrame, column: str | None = None, here: str | None = None) -> None:
    """One card for the last row of `series` (quarter-ordered), delta against the row before, the band and
    target under it and a link to the page that explains it (`here`: the page showing the card)."""
    from dashboard import widgets

    m = metric(metric_id)
    values = series[column or m.column].to_list()
    latest = values[-1] if values else None
    prior = values[-2] if len(values) > 1 else None
    delta, arrow = None, "auto"
    if latest is not None and prior is not None:
        text = f"{latest - prior:+{m.format or '.1f'}}"
        if float(text.replace(",", "")) == 0:
            text, arrow = "±0", "off"
        delta = f"{text}{' pts' if m.unit == '%' else ''}"
    colour = "off" if arrow == "off" else {True: "normal", False: "inverse", None: "off"}[m.higher_is_better]
    shown, note = m.format_value(latest), target_line(metric_id, latest)
    if latest is None and "suppressed" in series.columns and m.column in (series["suppressed"][-1] or "").split(", "):
        shown = hidden_as(m, series["quarter"][-1])
        published = [(q, v) for q, v in zip(series["quarter"], values) if v is not None and q.endswith("Q4")]
        if shown != "suppressed" and published:  # a yearly figure: the last one published, and when
            quarter, value = published[-1]
            shown, note = m.format_value(value), f"{quarter}, published yearly · {target_line(metric_id, value)}"
    widgets.card(metric_id, m.label, shown, delta=delta, delta_color=colour, delta_arrow=arrow,
                 delta_description="vs prior quarter" if delta else None,
                 help=f"{m.description} ({m.formula})", chart_data=[v for v in values if v is not None] or None,
                 chart_type="line", note=note, link=explained_on(metric_id, here))


def cards(metric_ids: tuple[str, ...], series: pl.DataFrame, here: str | None = None, per_row: int = 4) -> None:
    """A grid of cards, `per_row` to a row (`here`: the page showing them)."""
    for start in range(0, len(metric_ids), per_row):
        for column, metric_id in zip(st.columns(per_row), metric_ids[start:start + per_row]):
            with column:
                card(metric_id, series, here=here)


def target_of(metric_id: str):
    """The state's target for a metric (None when the state set none), for trend charts' rules."""
    return for_metric(data.targets(), metric_id)


BAND_MARKS = {"red": ":red[●]", "amber": ":orange[●]", "green": ":green[●]"}


def target_line(metric_id: str, value: float | None) -> str:
    """Under a card: the band the value is in and the state's target ('no state target' when none is set)."""
    t = for_metric(data.targets(), metric_id)
    if t is None:
        return "No state target"
    m = metric(metric_id)
    aim = m.format_value(t.target)
    word = "Integrated from" if metric_id == "integration_index" else "Target"
    tail = f"{word} {aim}" + (" · contractual" if t.contractual else "")
    band = t.band(value)
    return f"{BAND_MARKS[band]} {BAND_WORDS[band].capitalize()} · {tail}" if band else tail

AGENCY_CARDS = ("integration_index", "peer_to_clinician_ratio", "certified_pct", "peers_per_trained_supervisor",
                "annualized_turnover_pct", "retention_12m_pct", "denial_rate_pct", "units_billed_per_peer_fte")
COMPARED = ("integration_index", "peer_to_clinician_ratio", "certified_pct", "peers_per_trained_supervisor",
            "peer_vacancy_rate_pct", "annualized_turnover_pct", "retention_12m_pct", "denial_rate_pct",
            "units_billed_per_peer_fte", "group_share_pct", "billing_sustainability_pct")


NOT_PUBLISHED = "state staff only"
"""A measure the protected layer does not carry for places (e.g. the vacancy rate), as restricted readers see it."""


def comparison(standing: pl.DataFrame) -> pl.DataFrame:
    """Metric rows x place columns (agency, region, state), values formatted as the registry says."""
    from dashboard import widgets

    from dashboard.disclosure import restricted as outside_state_office

    places, restricted = standing["place"].to_list(), outside_state_office()
    hidden = standing["suppressed"].fill_null("").str.split(", ").to_list() if "suppressed" in standing.columns \
        else [[]] * standing.height
    rows, state_targets = [], data.targets()
    shown_outside = published("kpi_scorecard")  # measures the protected layer carries for regions and the state
    for metric_id in COMPARED:
        m, t = metric(metric_id), for_metric(state_targets, metric_id)
        rows.append({"measure": widgets.short_label(m.label),
                     **{p: hidden_as(m, q) if m.column in h else NOT_PUBLISHED
                        if v is None and restricted and level != "agency" and m.column not in shown_outside
                        else m.format_value(v)
                        for p, v, h, q, level in zip(places, standing[m.column], hidden, standing["quarter"],
                                                     standing["level"])},
                     "state target": "—" if t is None else m.format_value(t.target)
                     + (" (contractual)" if t.contractual else "")})
    return pl.DataFrame(rows)


def long(series: pl.DataFrame, columns: dict[str, str]) -> pl.DataFrame:
    """Quarter x measure x value from wide KPI columns (for multi-line charts)."""
    return (series.select("quarter", *columns).unpivot(index="quarter", variable_name="measure")
            .with_columns(pl.col("measure").replace_strict(columns)))

BILLING_CARDS = ("units_paid", "amount_paid_usd", "denial_rate_pct", "units_billed_per_peer_fte",
                 "group_share_pct", "beneficiaries_per_peer_fte", "peer_agencies_billing_nothing_pct",
                 "billing_sustainability_pct")
