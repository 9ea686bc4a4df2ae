"""KPI cards read from the metric registry: value, change since the prior quarter, sparkline."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import data
from pipelines.metrics import metric
from pipelines.publication import yearly
from pipelines.targets import BAND_WORDS, for_metric

INDEX_CARDS = ("integration_index", "workforce_score", "practice_score")
STATE_CARDS = ("peer_fte_per_100k", "peer_to_clinician_ratio", "certified_pct", "peers_per_trained_supervisor",
               "annualized_turnover_pct", "retention_12m_pct", "denial_rate_pct", "billing_sustainability_pct")


def hidden_as(m, quarter: str) -> str:
    """How a hidden figure reads: it rests on a small count (disclosure.NOTE), or on a rolling window that
    readers outside the state office get once a year."""
    return "yearly (Q4)" if yearly(m.rests_on) and not quarter.endswith("Q4") else "suppressed"


def card(metric_id: str, series: pl.DataFrame, column: str | None = None) -> None:
    """One st.metric for the last row of `series` (quarter-ordered), delta against the row before."""
    m = metric(metric_id)
    values = series[column or m.column].to_list()
    latest = values[-1] if values else None
    prior = values[-2] if len(values) > 1 else None
    delta, arrow = None, "auto"
    if latest is not None and prior is not None:
        text = f"{latest - prior:+{m.format or '.1f'}}"
        if float(text.replace(",", "")) == 0:
            text, arrow = "±0", "off"
        delta = f"{text}{' pts' if m.unit == '%' else ''} vs prior quarter"
    colour = "off" if arrow == "off" else {True: "normal", False: "inverse", None: "off"}[m.higher_is_better]
    shown = m.format_value(latest)
    if latest is None and "suppressed" in series.columns and m.column in (series["suppressed"][-1] or "").split(", "):
        shown = hidden_as(m, series["quarter"][-1])
    st.metric(m.label, shown, delta, delta_color=colour, help=f"{m.description} ({m.formula})",
              border=True, chart_data=[v for v in values if v is not None] or None, chart_type="line",
              delta_arrow=arrow)
    st.caption(target_line(metric_id, latest))


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


def comparison(standing: pl.DataFrame) -> pl.DataFrame:
    """Metric rows x place columns (agency, region, state), values formatted as the registry says."""
    places = standing["place"].to_list()
    hidden = standing["suppressed"].fill_null("").str.split(", ").to_list() if "suppressed" in standing.columns \
        else [[]] * standing.height
    rows, state_targets = [], data.targets()
    for metric_id in COMPARED:
        m, t = metric(metric_id), for_metric(state_targets, metric_id)
        rows.append({"measure": m.label, **{p: hidden_as(m, q) if m.column in h else m.format_value(v)
                                            for p, v, h, q in zip(places, standing[m.column], hidden,
                                                                  standing["quarter"])},
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
