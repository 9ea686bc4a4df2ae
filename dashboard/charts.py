"""Altair chart builders with one theme and a colour-blind-safe palette (Okabe-Ito)."""

from __future__ import annotations

import altair as alt
import polars as pl

from pipelines.targets import Target

PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
STATUS_COLOURS = {"CERTIFIED_ACTIVE": "#009E73", "PROVISIONAL": "#56B4E9", "IN_TRAINING": "#0072B2",
                  "EXPIRED_GRACE": "#E69F00", "LAPSED": "#D55E00", "SUSPENDED": "#CC79A7", "REVOKED": "#000000",
                  "NOT_REQUIRED": "#999999"}
SUPPRESSED_FILL = "#d9d9d9"
"""Cells hidden by the protected layer: drawn grey (their tooltip and CSV say suppressed), not left blank."""
STAGE_COLOURS = {"No peer workforce": "#999999", "Emerging": "#D55E00", "Developing": "#E69F00",
                 "Integrated": "#009E73"}


def _theme() -> dict:
    return {"config": {
        "range": {"category": PALETTE},
        "axis": {"labelFontSize": 12, "titleFontSize": 12, "grid": True, "gridOpacity": 0.4, "labelLimit": 220},
        # entries wrap in rows of three: one long row was cut at the chart's edge, hiding the last entries
        "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "bottom", "columns": 3, "labelLimit": 220},
        "title": {"fontSize": 15, "anchor": "start", "subtitleColor": "#555"},
        "view": {"stroke": None},
    }}


alt.theme.register("peer_dashboard", enable=True)(_theme)


def line(frame: pl.DataFrame, x: str, y: str, colour: str | None, title: str, subtitle: str,
         y_title: str, y_format: str = ",.1f", target: Target | None = None) -> alt.Chart | alt.LayerChart:
    """Trend lines, one per `colour` value, with points and tooltips; with a `target`, the state's target as a
    dashed, labelled rule."""
    enc = {"x": alt.X(f"{x}:O", title="Quarter", sort=None, axis=alt.Axis(labelAngle=-40)),
           "y": alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=y_format)),
           "tooltip": [alt.Tooltip(f"{x}:N", title="Quarter"),
                       alt.Tooltip(f"{y}:Q", title=y_title, format=y_format)]}
    if colour:
        enc["color"] = alt.Color(f"{colour}:N", title=None)
        enc["tooltip"].insert(0, alt.Tooltip(f"{colour}:N", title=colour.replace("_", " ").capitalize()))
    titled = alt.TitleParams(title, subtitle=subtitle)
    lines = alt.Chart().mark_line(point=True).encode(**enc)
    layers = [lines, *_target_marks(target, y_format)]
    return alt.layer(*layers, data=_with_target(frame, target).to_pandas(), title=titled).properties(height=420)


def _with_target(frame: pl.DataFrame, target: Target | None) -> pl.DataFrame:
    if target is None or target.target is None:
        return frame
    return frame.with_columns(pl.lit(target.target).alias("target_value"),
                              pl.lit(target_label(target)).alias("target_label"))


def target_label(target: Target) -> str:
    """'Target 85' / 'Integrated from 70', with ' (contractual)' where money is attached."""
    head = "Integrated from" if target.component == "integration_index" else "Target"
    return f"{head} {target.target:g}" + (" (contractual)" if target.contractual else "")


def _target_marks(target: Target | None, y_format: str) -> list[alt.Chart]:
    """A dashed rule at the target and its label, drawn from the frame's target_value column."""
    if target is None or target.target is None:
        return []
    rule = alt.Chart().mark_rule(strokeDash=[6, 4], color="#333", strokeWidth=1.5).encode(
        y="mean(target_value):Q",
        tooltip=[alt.Tooltip("min(target_label):N", title="State target")])
    text = alt.Chart().mark_text(align="left", baseline="bottom", dx=4, dy=-3, color="#333", fontSize=11).encode(
        y="mean(target_value):Q", x=alt.value(0), text="min(target_label):N")
    return [rule, text]


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
            .properties(height=90 + 34 * frame.height))


def _titled(frame: pl.DataFrame, title: str, subtitle: str) -> alt.Chart:
    return alt.Chart(frame.to_pandas(), title=alt.TitleParams(title, subtitle=subtitle))


def heatmap(frame: pl.DataFrame, x: str, y: str, value: str, title: str, subtitle: str, value_title: str,
            value_format: str = ",.1f", scheme: str = "blues", x_title: str | None = None,
            extra_tooltips: tuple[str, ...] = (), row_px: int = 30,
            value_domain: tuple[float, float] | None = None) -> alt.LayerChart:
    """A grid of cells coloured by `value` (sequential, colour-blind-safe scheme) with the value in the tooltip;
    every row and column is labelled, each row `row_px` high; hidden (null) cells grey, saying so."""
    tooltips = [alt.Tooltip(f"{y}:N"), alt.Tooltip(f"{x}:N"),
                alt.Tooltip(f"{value}:Q", title=value_title, format=value_format)]
    tooltips += [alt.Tooltip(f"{t}:N") for t in extra_tooltips]
    base = alt.Chart().encode(
        x=alt.X(f"{x}:N", title=x_title, sort=None, axis=alt.Axis(labelAngle=-40, labelLimit=160, labelOverlap=False)),
        y=alt.Y(f"{y}:N", title=None, sort=None, axis=alt.Axis(labelOverlap=False, labelLimit=220)))
    shown = base.transform_filter(f"isValid(datum[{value!r}])").mark_rect().encode(
        color=alt.Color(f"{value}:Q", title=value_title,
                        scale=alt.Scale(scheme=scheme, domain=list(value_domain) if value_domain else alt.Undefined)),
        tooltip=tooltips)
    hidden = base.transform_filter(f"!isValid(datum[{value!r}])").transform_calculate(
        state="'suppressed'").mark_rect(color=SUPPRESSED_FILL).encode(
        tooltip=[alt.Tooltip(f"{y}:N"), alt.Tooltip(f"{x}:N"), alt.Tooltip("state:N", title=value_title)])
    return (alt.layer(shown, hidden, data=frame.to_pandas(), title=alt.TitleParams(title, subtitle=subtitle))
            .properties(height=alt.Step(row_px)))  # a band per row: a fixed height squeezed rows and hid labels


def matrix(frame: pl.DataFrame, x: str, y: str, value: str, order: list[str], title: str, subtitle: str,
           x_title: str, y_title: str) -> alt.LayerChart:
    """A from x to table of counts: cells shaded by the count, the count written in each, both axes in `order`."""
    base = alt.Chart(frame.to_pandas()).encode(
        x=alt.X(f"{x}:N", title=x_title, sort=order, scale=alt.Scale(domain=order),
                axis=alt.Axis(labelAngle=0, orient="top", labelLimit=200)),
        y=alt.Y(f"{y}:N", title=y_title, sort=order, scale=alt.Scale(domain=order), axis=alt.Axis(labelLimit=200)))
    shown = f"isValid(datum[{value!r}])"
    cells = base.mark_rect(stroke="white").encode(
        color=alt.condition(shown, alt.Color(f"{value}:Q", legend=None, scale=alt.Scale(scheme="blues")),
                            alt.value(SUPPRESSED_FILL)),
        tooltip=[alt.Tooltip(f"{y}:N", title=y_title), alt.Tooltip(f"{x}:N", title=x_title),
                 alt.Tooltip("shown:N", title="Agencies")])
    counts = base.mark_text(fontSize=14).encode(
        text="shown:N", color=alt.condition(f"datum[{value!r}] > 20", alt.value("white"), alt.value("#222")))
    grey = base.transform_filter(f"!{shown}").mark_rect(stroke="white", color=SUPPRESSED_FILL)
    return (alt.layer(cells, grey, counts, title=alt.TitleParams(title, subtitle=subtitle))
            .transform_calculate(shown=f"{shown} ? format(datum[{value!r}], ',.0f') : 'suppressed'")
            .properties(height=alt.Step(48)))


def small_multiples(frame: pl.DataFrame, x: str, y: str, facet: str, title: str, subtitle: str, y_title: str,
                    y_format: str = ",.1f", columns: int = 3, target: Target | None = None) -> alt.FacetChart:
    """One small trend line per `facet` value, sharing the y scale so panels compare; the state's target as a
    dashed rule in each panel."""
    base = (alt.Chart().mark_line(point=True)
            .encode(x=alt.X(f"{x}:O", title=None, sort=None, axis=alt.Axis(labelAngle=-40)),
                    y=alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=y_format)),
                    color=alt.Color(f"{facet}:N", legend=None),
                    tooltip=[alt.Tooltip(f"{facet}:N"), alt.Tooltip(f"{x}:N", title="Quarter"),
                             alt.Tooltip(f"{y}:Q", title=y_title, format=y_format)]))
    layered = alt.layer(base, *_target_marks(target, y_format), data=_with_target(frame, target).to_pandas())
    return layered.properties(width=260, height=160).facet(
        facet=alt.Facet(f"{facet}:N", title=None), columns=columns, title=alt.TitleParams(title, subtitle=subtitle))


def stacked(frame: pl.DataFrame, x: str, y: str, colour: str, title: str, subtitle: str, y_title: str,
            order: list[str] | None = None, normalize: bool = False, colours: dict[str, str] | None = None,
            y_format: str = ",.0f") -> alt.Chart:
    """Stacked bars per quarter (shares when `normalize`), stacking in `order`. Rows without a value (suppressed
    small cells) are left out of the stack, so shares are of the figures shown."""
    if colours:
        scale = alt.Scale(domain=list(colours), range=list(colours.values()))
    else:
        scale = alt.Scale(domain=order) if order else alt.Undefined
    return (_titled(frame, title, subtitle).transform_filter(f"isValid(datum[{y!r}])").mark_bar()
            .encode(x=alt.X(f"{x}:O", title="Quarter", sort=None, axis=alt.Axis(labelAngle=-40)),
                    y=alt.Y(f"sum({y}):Q", title=y_title, stack="normalize" if normalize else True,
                            axis=alt.Axis(format="%" if normalize else y_format)),
                    color=alt.Color(f"{colour}:N", title=None, scale=scale),
                    order=alt.Order("stack_order:Q") if "stack_order" in frame.columns else alt.Undefined,
                    tooltip=[alt.Tooltip(f"{x}:N", title="Quarter"), alt.Tooltip(f"{colour}:N"),
                             alt.Tooltip(f"sum({y}):Q", title=y_title, format=y_format)])
            .properties(height=380))


def scatter(frame: pl.DataFrame, x: str, y: str, label: str, title: str, subtitle: str, x_title: str,
            y_title: str, colour: str | None = None, size: str | None = None) -> alt.Chart:
    """One point per row (e.g. agency) with its name in the tooltip."""
    enc = {"x": alt.X(f"{x}:Q", title=x_title), "y": alt.Y(f"{y}:Q", title=y_title),
           "tooltip": [alt.Tooltip(f"{label}:N"), alt.Tooltip(f"{x}:Q", title=x_title, format=",.1f"),
                       alt.Tooltip(f"{y}:Q", title=y_title, format=",.1f")]}
    if colour:  # colour and shape together: three shapes cycle against eight colours, unique up to 24 groups
        enc["color"] = alt.Color(f"{colour}:N", title=None)
        enc["shape"] = alt.Shape(f"{colour}:N", title=None, scale=alt.Scale(range=["circle", "square", "triangle-up"]))
        enc["tooltip"].append(alt.Tooltip(f"{colour}:N"))
    if size:  # the subtitle says what size is; its legend did not fit beside the colour legend
        enc["size"] = alt.Size(f"{size}:Q", legend=None)
        enc["tooltip"].append(alt.Tooltip(f"{size}:Q", title=size.replace("_", " "), format=",.1f"))
    return (_titled(frame, title, subtitle).mark_point(filled=True, opacity=0.75).encode(**enc)
            .properties(height=420))


def pareto(frame: pl.DataFrame, category: str, value: str, cumulative: str, title: str, subtitle: str,
           value_title: str) -> alt.LayerChart:
    """Bars in descending order with the cumulative share as a line on a second axis."""
    base = alt.Chart(frame.to_pandas()).encode(
        x=alt.X(f"{category}:N", title=None, sort=None, axis=alt.Axis(labelAngle=-35, labelOverlap=False)))
    bars_ = base.mark_bar(color=PALETTE[0]).encode(
        y=alt.Y(f"{value}:Q", title=value_title),
        tooltip=[alt.Tooltip(f"{category}:N"), alt.Tooltip(f"{value}:Q", title=value_title, format=",.0f"),
                 alt.Tooltip(f"{cumulative}:Q", title="Cumulative share (%)", format=".1f")])
    line_ = base.mark_line(point=True, color=PALETTE[5]).encode(
        y=alt.Y(f"{cumulative}:Q", title="Cumulative share (%)", scale=alt.Scale(domain=[0, 100])))
    return (alt.layer(bars_, line_, title=alt.TitleParams(title, subtitle=subtitle))
            .resolve_scale(y="independent").properties(height=380))


def steps(frame: pl.DataFrame, x: str, y: str, colour: str | None, title: str, subtitle: str, x_title: str,
          y_title: str) -> alt.Chart:
    """A step line (survival curve), one per `colour` value."""
    enc = {"x": alt.X(f"{x}:Q", title=x_title), "y": alt.Y(f"{y}:Q", title=y_title, scale=alt.Scale(domain=[0, 100])),
           "tooltip": [alt.Tooltip(f"{x}:Q", title=x_title), alt.Tooltip(f"{y}:Q", title=y_title, format=".1f")]}
    if colour:
        enc["color"] = alt.Color(f"{colour}:N", title=None)
        enc["tooltip"].insert(0, alt.Tooltip(f"{colour}:N"))
    return _titled(frame, title, subtitle).mark_line(interpolate="step-after").encode(**enc).properties(height=380)


def ranked(frame: pl.DataFrame, category: str, value: str, key_field: str, focused: str | None, title: str,
           subtitle: str, value_title: str, value_format: str = ",.1f") -> alt.Chart:
    """`bars` in which the `focused` row stands out and a click selects `key_field` (selection "pick")."""
    pick = alt.selection_point(name="pick", fields=[key_field], on="click")
    colour = alt.condition(alt.datum[key_field] == (focused or ""), alt.value(PALETTE[1]), alt.value(PALETTE[0]))
    return (bars(frame, category, value, title, subtitle, value_title, value_format=value_format)
            .add_params(pick).encode(color=colour))


def grouped(frame: pl.DataFrame, category: str, value: str, group: str, title: str, subtitle: str,
            value_title: str, horizontal: bool = False, colours: dict[str, str] | None = None) -> alt.Chart:
    """Bars side by side per category, one colour per group, in the frame's order (`horizontal`: categories
    down the side, for long labels)."""
    scale = alt.Scale(domain=list(colours), range=list(colours.values())) if colours else alt.Undefined
    across = alt.X(f"{category}:N", title=None, sort=None, axis=alt.Axis(labelAngle=0))
    amount = alt.Y(f"{value}:Q", title=value_title)
    enc = {"x": across, "xOffset": alt.XOffset(f"{group}:N", sort=list(colours) if colours else None),
           "y": amount}
    if horizontal:
        enc = {"y": alt.Y(f"{category}:N", title=None, sort=None, axis=alt.Axis(labelLimit=260)),
               "yOffset": alt.YOffset(f"{group}:N", sort=list(colours) if colours else None),
               "x": alt.X(f"{value}:Q", title=value_title)}
    chart = (_titled(frame, title, subtitle).mark_bar()
             .encode(**enc, color=alt.Color(f"{group}:N", title=None, scale=scale),
                     tooltip=[alt.Tooltip(f"{category}:N"), alt.Tooltip(f"{group}:N"),
                              alt.Tooltip(f"{value}:Q", title=value_title, format=".1f")]))
    groups = frame[group].n_unique() if frame.height else 1
    return chart.properties(height=alt.Step(max(8, 36 // groups)) if horizontal else 360)
