"""Altair chart builders with one theme and a colour-blind-safe palette (Okabe-Ito)."""

from __future__ import annotations

import altair as alt
import polars as pl

PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
STAGE_COLOURS = {"Emerging": "#D55E00", "Developing": "#E69F00", "Integrated": "#009E73"}


def _theme() -> dict:
    return {"config": {
        "range": {"category": PALETTE},
        "axis": {"labelFontSize": 12, "titleFontSize": 12, "grid": True, "gridOpacity": 0.4},
        "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "bottom"},
        "title": {"fontSize": 15, "anchor": "start", "subtitleColor": "#555"},
        "view": {"stroke": None},
    }}


alt.theme.register("peer_dashboard", enable=True)(_theme)


def line(frame: pl.DataFrame, x: str, y: str, colour: str | None, title: str, subtitle: str,
         y_title: str, y_format: str = ",.1f") -> alt.Chart:
    """Trend lines, one per `colour` value, with points and tooltips."""
    enc = {"x": alt.X(f"{x}:O", title="Quarter", sort=None, axis=alt.Axis(labelAngle=-40)),
           "y": alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=y_format)),
           "tooltip": [alt.Tooltip(f"{x}:N", title="Quarter"),
                       alt.Tooltip(f"{y}:Q", title=y_title, format=y_format)]}
    if colour:
        enc["color"] = alt.Color(f"{colour}:N", title=None)
        enc["tooltip"].insert(0, alt.Tooltip(f"{colour}:N", title=colour.replace("_", " ").capitalize()))
    return (alt.Chart(frame.to_pandas(), title=alt.TitleParams(title, subtitle=subtitle))
            .mark_line(point=True).encode(**enc).properties(height=420))


def bars(frame: pl.DataFrame, category: str, value: str, title: str, subtitle: str, value_title: str,
         colours: dict[str, str] | None = None, value_format: str = ",.0f") -> alt.Chart:
    """Horizontal bars in the frame's order, with tooltips."""
    colour = (alt.Color(f"{category}:N", legend=None,
                        scale=alt.Scale(domain=list(colours), range=list(colours.values())))
              if colours else alt.value(PALETTE[0]))
    return (alt.Chart(frame.to_pandas(), title=alt.TitleParams(title, subtitle=subtitle)).mark_bar()
            .encode(y=alt.Y(f"{category}:N", title=None, sort=None),
                    x=alt.X(f"{value}:Q", title=value_title, axis=alt.Axis(format=value_format)),
                    color=colour,
                    tooltip=[alt.Tooltip(f"{category}:N"), alt.Tooltip(f"{value}:Q", title=value_title,
                                                                        format=value_format)])
            .properties(height=max(120, 36 * frame.height)))
