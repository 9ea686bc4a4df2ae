"""Altair chart builders with one theme and one palette (dashboard.palette: colour-blind-safe, fixed per place and
category, the same for every reader).

Every builder: a title that states the measure and period (wrapped into the subtitle when it would be cut), tooltips,
scales that do not follow the rows a reader happens to see (places and categories coloured by reference data, shares
on fixed domains, counts on whole-number axes), and hidden cells drawn as such ("suppressed" in the legend and the
tooltip, never a silent gap). A `select` field makes marks clickable (selection "pick"): `focus_on_click` and
`open_clicked_agency` turn a click into the region focus or an agency's profile.
"""

from __future__ import annotations

import functools
import re
import textwrap
from collections.abc import Callable, Mapping

import altair as alt
import polars as pl

from dashboard import palette
from dashboard.palette import SUPPRESSED, SUPPRESSED_FILL, SUPPRESSED_MARK
from pipelines.contracts import label_codes
from pipelines.targets import Target

PALETTE = list(palette.OKABE_ITO)
STATUS_COLOURS = palette.STATUSES
STAGE_COLOURS = palette.STAGES
PICK = "pick"
"""The name of every chart's click selection (Streamlit returns it under this name)."""

TITLE_CHARS, SUBTITLE_CHARS, LABEL_CHARS = 54, 72, 34
"""Longest title, subtitle line and axis label drawn on one line: a half-width chart at 1280 px holds about this."""
MIN_COUNT_TOP = 5
"""A count axis reaches at least 5: one agency is a fifth of the axis, not all of it."""


def _theme() -> dict:
    return {"config": {
        "range": {"category": PALETTE},
        "axis": {"labelFontSize": 12, "titleFontSize": 12, "grid": True, "gridOpacity": 0.4, "labelLimit": 320},
        # entries wrap in rows of three: one long row was cut at the chart's edge, hiding the last entries
        "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "bottom", "columns": 3, "labelLimit": 240},
        "title": {"fontSize": 15, "anchor": "start", "subtitleColor": "#555", "subtitleFontSize": 12,
                  "subtitlePadding": 4},
        "view": {"stroke": None},
    }}


alt.theme.register("peer_dashboard", enable=True)(_theme)


# --- shared pieces ------------------------------------------------------------------------------------

def in_words(build: Callable) -> Callable:
    """A chart builder that draws codes in words (legends, axes, tooltips): its frame's code columns labelled."""
    @functools.wraps(build)
    def wrapped(frame: pl.DataFrame, *args, **kwargs):
        return build(label_codes(frame), *args, **kwargs)
    return wrapped


def _title(text: str, subtitle: str | list[str] | None = None) -> alt.TitleParams:
    """The title on one line, the subtitle in lines that fit: nothing is cut at 1280 px. A title too long for a
    line breaks at its last ', ' that fits (else before a bracket, else at a space): the rest leads the subtitle."""
    lines = [subtitle] if isinstance(subtitle, str) else list(subtitle or [])
    head = text
    if len(text) > TITLE_CHARS:
        for mark, keep in ((", ", 2), (" (", 1), (" ", 1)):
            cut = text.rfind(mark, 0, TITLE_CHARS + len(mark))
            if cut > 0:
                head = text[:cut]
                lines.insert(0, text[cut + keep:] if keep == 2 else text[cut + 1:])
                break
    wrapped = [part for line in lines if line for part in textwrap.wrap(line, SUBTITLE_CHARS)]
    return alt.TitleParams(head, subtitle=wrapped or alt.Undefined)


def _wrapped_labels(values: pl.Series | list, chars: int = LABEL_CHARS) -> str | None:
    """An axis labelExpr that breaks labels longer than `chars` into lines at spaces (None when all fit)."""
    longest = max((len(str(v)) for v in values if v is not None), default=0)
    if longest <= chars:
        return None
    return f"split(trim(replace(datum.label, /(.{{1,{chars}}})(\\s+|$)/g, '$1\\n')), '\\n')"


def _lines_of(values, chars: int = LABEL_CHARS) -> int:
    return max((len(textwrap.wrap(str(v), chars)) for v in values if v is not None), default=1)


def _present(frame: pl.DataFrame, field: str | None) -> list:
    return frame[field].unique(maintain_order=True).to_list() if field and field in frame.columns else []


def _colours(colours: Mapping[str, str] | str | None) -> Mapping[str, str] | None:
    return palette.CATEGORIES[colours] if isinstance(colours, str) else colours


PLACE_FIELDS = ("place", "region")


def colour_scale(frame: pl.DataFrame, field: str, colours: Mapping[str, str] | str | None = None) -> alt.Scale:
    """The colour scale of `field`: places (a field named place or region) by the reference table of regions,
    categories by `colours` (a palette set or its name in palette.CATEGORIES)."""
    present = _present(frame, field)
    if colours is None and field in PLACE_FIELDS:
        return palette.for_places(present)
    if colours is None:
        return palette.scale({}, present)
    return palette.scale(_colours(colours), present)


def _legend(frame: pl.DataFrame, field: str) -> alt.Legend:
    """A legend under the chart, in rows of three, of two when a label is long, one per row when a label is longer
    still (a long row ran past the edge of half-width charts, cutting the last entries)."""
    longest = max((len(str(v)) for v in _present(frame, field)), default=0)
    return alt.Legend(orient="bottom", columns=1 if longest > 24 else 2 if longest > 15 else 3)


def _is_count(frame: pl.DataFrame, field: str) -> bool:
    return field in frame.columns and frame[field].dtype.is_integer()


def _count_scale(top: float | None) -> alt.Scale:
    return alt.Scale(domain=[0, max(MIN_COUNT_TOP, top or 0)], nice=True)


FIT = alt.AutoSizeParams(type="fit-x", contains="padding")
"""Width fits the column; `height` is the plot's own (Streamlit's default, fit, squeezed the plot to make room
for the title, the axes and the legend inside the height: bars became hairlines, lines a flat band)."""
COUNT_AXIS = {"format": ",d", "tickMinStep": 1}
"""Whole numbers get whole-number ticks: 0 1 2, never 0 0 0 1 1 1."""


def _hidden_word(frame: pl.DataFrame) -> str:
    """What an empty cell means: suppressed (the protected layer), or for state staff simply no data."""
    if "suppressed" in frame.columns:
        return SUPPRESSED
    try:
        from dashboard import disclosure

        return SUPPRESSED if disclosure.restricted() else "no data"
    except Exception:  # outside a running app: say what a protected reader would read
        return SUPPRESSED


def _has_hidden(frame: pl.DataFrame, field: str) -> bool:
    return field in frame.columns and frame[field].null_count() > 0


def _valid(field: str) -> str:
    return f"isValid(datum[{field!r}]) && isFinite(datum[{field!r}])"


def _invalid(field: str) -> str:
    return f"!({_valid(field)})"


def _hidden_legend(word: str, shape: str = "cross") -> alt.Shape:
    """A legend entry naming the hidden marks (the shape a constant field `hidden` carries)."""
    return alt.Shape("hidden:N", title=None, scale=alt.Scale(domain=[word], range=[shape]),
                     legend=alt.Legend(orient="bottom", symbolFillColor=SUPPRESSED_MARK,
                                       symbolStrokeColor=SUPPRESSED_MARK))


def _pick(field: str | list[str]) -> alt.Parameter:
    return alt.selection_point(name=PICK, fields=[field] if isinstance(field, str) else list(field), on="click")


# --- trend lines --------------------------------------------------------------------------------------

@in_words
def line(frame: pl.DataFrame, x: str, y: str, colour: str | None, title: str, subtitle: str,
         y_title: str, y_format: str = ",.1f", target: Target | None = None,
         colours: Mapping[str, str] | str | None = None, y_domain: tuple[float, float] | None = None,
         select: str | None = None, height: int = 300) -> alt.LayerChart:
    """Trend lines, one per `colour` value (places in their own colours, else `colours`: a palette set, or one
    colour for a single line), with points and tooltips; `y_domain` fixes the axis (shares 0-100); whole numbers
    get whole ticks. A hidden point leaves a gap in its line and a grey cross on the axis under it ('suppressed'
    in the legend and its tooltip). With a `target`, the state's target as a dashed, labelled rule. `select`:
    clicking a point selects that field (selection "pick")."""
    count = _is_count(frame, y)
    if y_domain:
        y_scale = alt.Scale(domain=list(y_domain))
    elif count:
        y_scale = _count_scale(frame[y].max())
    else:
        y_scale = alt.Undefined
    axis = alt.Axis(**COUNT_AXIS) if count else alt.Axis(format=y_format)
    x_enc = alt.X(f"{x}:O", title="Quarter", sort=_present(frame, x), axis=alt.Axis(labelAngle=-40))
    y_enc = alt.Y(f"{y}:Q", title=y_title, axis=axis, scale=y_scale)
    tooltip = [alt.Tooltip(f"{x}:N", title="Quarter"),
               alt.Tooltip(f"{y}:Q", title=y_title, format=",d" if count else y_format)]
    if colour:
        colour_enc = alt.Color(f"{colour}:N", title=None, scale=colour_scale(frame, colour, colours),
                               legend=_legend(frame, colour))
        tooltip.insert(0, alt.Tooltip(f"{colour}:N", title=colour.replace("_", " ").capitalize()))
    else:
        colour_enc = alt.value(colours if isinstance(colours, str) and colours.startswith("#") else PALETTE[0])
    # the path runs over every row, so a hidden point breaks it (filtering the row out would bridge the gap)
    path = alt.Chart().mark_line().encode(x=x_enc, y=y_enc, color=colour_enc)
    dots = (alt.Chart().transform_filter(_valid(y)).mark_circle(size=40, opacity=1)
            .encode(x=x_enc, y=y_enc, color=colour_enc, tooltip=tooltip))
    if select:
        dots = dots.add_params(_pick(select))
    layers = [path, dots, *_target_marks(target, y_format)]
    if _has_hidden(frame, y):
        layers.append(_hidden_points(frame, x, x_enc, y, colour, height))
    return alt.layer(*layers, data=_with_target(frame, target).to_pandas(), title=_title(title, subtitle)
                     ).properties(height=height, autosize=FIT)


def _hidden_points(frame: pl.DataFrame, x: str, x_enc: alt.X, y: str, colour: str | None, height: int) -> alt.Chart:
    """A grey cross on the axis at each hidden point (stacked when several lines are hidden in one quarter), its
    tooltip naming the line, and 'suppressed' in the legend."""
    word = _hidden_word(frame)
    tooltip = [alt.Tooltip(f"{x}:N", title="Quarter"), alt.Tooltip("hidden:N", title="Value")]
    if colour:
        tooltip.insert(0, alt.Tooltip(f"{colour}:N", title=colour.replace("_", " ").capitalize()))
    return (alt.Chart().transform_filter(_invalid(y))
            .transform_calculate(hidden=f"'{word}'")
            .transform_window(stacked="row_number()", groupby=[x])
            .transform_calculate(px=f"{height - 6} - 9 * (datum.stacked - 1)")
            .mark_point(size=60, filled=True, opacity=1)
            .encode(x=x_enc, y=alt.Y("px:Q", scale=None, axis=None), shape=_hidden_legend(word),
                    color=alt.value(SUPPRESSED_MARK), tooltip=tooltip))


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
    rule = alt.Chart().mark_rule(strokeDash=[6, 4], color=palette.TARGET_RULE, strokeWidth=1.5).encode(
        y="mean(target_value):Q",
        tooltip=[alt.Tooltip("min(target_label):N", title="State target")])
    text = alt.Chart().mark_text(align="left", baseline="bottom", dx=4, dy=-3, color=palette.TARGET_RULE,
                                 fontSize=11).encode(y="mean(target_value):Q", x=alt.value(0),
                                                     text="min(target_label):N")
    return [rule, text]


# --- bars ---------------------------------------------------------------------------------------------

@in_words
def bars(frame: pl.DataFrame, category: str, value: str, title: str, subtitle: str, value_title: str,
         colours: Mapping[str, str] | str | None = None, value_format: str = ",.0f",
         select: str | None = None, value_domain: tuple[float, float] | None = None) -> alt.LayerChart:
    """Horizontal bars in the frame's order, with tooltips; categories in their palette colours when `colours`
    (places always), long labels wrapped; counts on whole-number ticks reaching at least 5; a hidden value reads
    'suppressed' where its bar would be."""
    count = _is_count(frame, value)
    if colours is not None or category in PLACE_FIELDS:
        colour = alt.Color(f"{category}:N", legend=None, scale=colour_scale(frame, category, colours))
    else:
        colour = alt.value(PALETTE[0])
    scale = (alt.Scale(domain=list(value_domain)) if value_domain
             else _count_scale(frame[value].max()) if count else alt.Undefined)
    axis = alt.Axis(**COUNT_AXIS) if count else alt.Axis(format=value_format, tickCount=8)
    labels = _present(frame, category)
    y = alt.Y(f"{category}:N", title=None, sort=labels,
              axis=alt.Axis(labelExpr=_wrapped_labels(labels) or alt.Undefined, labelLimit=LABEL_CHARS * 9))
    shown = (alt.Chart().transform_filter(_valid(value)).mark_bar()
             .encode(y=y, x=alt.X(f"{value}:Q", title=value_title, axis=axis, scale=scale), color=colour,
                     tooltip=[alt.Tooltip(f"{category}:N"),
                              alt.Tooltip(f"{value}:Q", title=value_title, format=",d" if count else value_format)]))
    if select:
        shown = shown.add_params(_pick(select))
    layers = [shown]
    if _has_hidden(frame, value):
        layers.append(_hidden_text(frame, value, y=y, tooltip_field=category))
    step = 16 * _lines_of(labels) + 14
    return alt.layer(*layers, data=frame.to_pandas(), title=_title(title, subtitle)).properties(
        height=alt.Step(max(28, step)), autosize=FIT)


def _hidden_text(frame: pl.DataFrame, value: str, tooltip_field: str, **position) -> alt.Chart:
    """'suppressed' written where a hidden bar would start, with a tooltip saying so."""
    word = _hidden_word(frame)
    return (alt.Chart().transform_filter(_invalid(value)).transform_calculate(hidden=f"'{word}'")
            .mark_text(align="left", dx=4, fontStyle="italic", color=SUPPRESSED_MARK, fontSize=11)
            .encode(x=alt.value(0), text="hidden:N", **position,
                    tooltip=[alt.Tooltip(f"{tooltip_field}:N"), alt.Tooltip("hidden:N", title="Value")]))


@in_words
def ranked(frame: pl.DataFrame, category: str, value: str, key_field: str, focused: str | None, title: str,
           subtitle: str, value_title: str, value_format: str = ",.1f") -> alt.LayerChart:
    """`bars` of places in their own colours, the `focused` one at full strength and the others paler when one is
    focused; a click selects `key_field` (selection "pick")."""
    chart = bars(frame, category, value, title, subtitle, value_title, value_format=value_format, select=key_field)
    if focused:
        chart.layer[0] = chart.layer[0].encode(
            opacity=alt.condition(alt.datum[key_field] == focused, alt.value(1.0), alt.value(0.35)))
    return chart


@in_words
def grouped(frame: pl.DataFrame, category: str, value: str, group: str, title: str, subtitle: str,
            value_title: str, horizontal: bool = False, colours: Mapping[str, str] | str | None = None,
            value_domain: tuple[float, float] | None = None) -> alt.LayerChart:
    """Bars side by side per category, one colour per group (`colours`: a palette set), in the frame's order
    (`horizontal`: categories down the side, for long labels); a hidden value reads 'suppressed'."""
    groups = _present(frame, group)
    scale = colour_scale(frame, group, colours)
    order = list(scale.domain) if scale.domain is not alt.Undefined else groups
    count = _is_count(frame, value)
    value_scale = (alt.Scale(domain=list(value_domain)) if value_domain
                   else _count_scale(frame[value].max()) if count else alt.Undefined)
    axis = alt.Axis(**COUNT_AXIS) if count else alt.Undefined
    labels = _present(frame, category)
    if horizontal:
        enc = {"y": alt.Y(f"{category}:N", title=None, sort=labels,
                          axis=alt.Axis(labelLimit=LABEL_CHARS * 9,
                                        labelExpr=_wrapped_labels(labels) or alt.Undefined)),
               "yOffset": alt.YOffset(f"{group}:N", sort=order),
               "x": alt.X(f"{value}:Q", title=value_title, scale=value_scale, axis=axis)}
    else:
        enc = {"x": alt.X(f"{category}:N", title=None, sort=labels, axis=alt.Axis(labelAngle=0)),
               "xOffset": alt.XOffset(f"{group}:N", sort=order),
               "y": alt.Y(f"{value}:Q", title=value_title, scale=value_scale, axis=axis)}
    tooltip = [alt.Tooltip(f"{category}:N"), alt.Tooltip(f"{group}:N"),
               alt.Tooltip(f"{value}:Q", title=value_title, format=",d" if count else ".1f")]
    chart = (alt.Chart().transform_filter(_valid(value)).mark_bar()
             .encode(**enc, color=alt.Color(f"{group}:N", title=None, scale=scale, legend=_legend(frame, group)),
                     tooltip=tooltip))
    layers = [chart]
    if _has_hidden(frame, value):
        word = _hidden_word(frame)
        if horizontal:
            position = {"y": enc["y"], "yOffset": enc["yOffset"], "x": alt.value(6)}
        else:
            position = {"x": enc["x"], "xOffset": enc["xOffset"], "y": alt.value(294)}
        layers.append(alt.Chart().transform_filter(_invalid(value)).transform_calculate(hidden=f"'{word}'")
                      .mark_point(filled=True, size=50, color=SUPPRESSED_MARK)
                      .encode(**position, shape=_hidden_legend(word),
                              tooltip=[alt.Tooltip(f"{category}:N"), alt.Tooltip(f"{group}:N"),
                                       alt.Tooltip("hidden:N", title=value_title)]))
    layered = alt.layer(*layers, data=frame.to_pandas(), title=_title(title, subtitle))
    n = max(1, len(groups))
    if horizontal:
        return layered.properties(height=alt.Step(max(8, max(36, 16 * _lines_of(labels) + 8) // n)), autosize=FIT)
    return layered.properties(height=300, autosize=FIT)


@in_words
def stacked(frame: pl.DataFrame, x: str, y: str, colour: str, title: str, subtitle: str, y_title: str,
            order: list[str] | None = None, normalize: bool = False, colours: Mapping[str, str] | str | None = None,
            y_format: str = ",.0f") -> alt.LayerChart:
    """Stacked bars per quarter (shares when `normalize`), categories in their palette colours and order. Rows
    without a value (suppressed small cells) are left out of the stack, so shares are of the figures shown, and
    a grey cross over the bar says which were hidden (tooltip; 'suppressed' in the legend)."""
    if colours is not None:
        scale = colour_scale(frame, colour, colours)
    else:
        scale = alt.Scale(domain=[o for o in order if o in set(_present(frame, colour))]) if order else (
            colour_scale(frame, colour) if colour in PLACE_FIELDS else alt.Undefined)
    hidden = _has_hidden(frame, y)
    sums = (frame.filter(pl.col(y).is_not_null()).group_by(x).agg(pl.col(y).sum())[y].max()
            if frame.height and y in frame.columns else None) or 0
    top = 1.0 if normalize else max(float(sums), MIN_COUNT_TOP if _is_count(frame, y) else 0)
    if normalize:
        axis = alt.Axis(format="%", values=[0, 0.2, 0.4, 0.6, 0.8, 1.0])
        y_scale = alt.Scale(domain=[0, 1.1])  # room above 100% for the marks of hidden rows, for every reader
    elif _is_count(frame, y):
        axis, y_scale = alt.Axis(**COUNT_AXIS), alt.Scale(domain=[0, top * (1.12 if hidden else 1)], nice=True)
    else:
        axis = alt.Axis(format=y_format)
        y_scale = alt.Scale(domain=[0, top * 1.12]) if hidden else alt.Undefined
    quarters = _present(frame, x)
    x_enc = alt.X(f"{x}:O", title="Quarter", sort=quarters, axis=alt.Axis(labelAngle=-40))
    bars_ = (alt.Chart().transform_filter(_valid(y)).mark_bar()
             .encode(x=x_enc,
                     y=alt.Y(f"sum({y}):Q", title=y_title, stack="normalize" if normalize else True, axis=axis,
                             scale=y_scale),
                     color=alt.Color(f"{colour}:N", title=None, scale=scale, legend=_legend(frame, colour)),
                     order=alt.Order("stack_order:Q") if "stack_order" in frame.columns else alt.Undefined,
                     tooltip=[alt.Tooltip(f"{x}:N", title="Quarter"), alt.Tooltip(f"{colour}:N"),
                              alt.Tooltip(f"sum({y}):Q", title=y_title, format=y_format)]))
    layers = [bars_]
    if hidden:
        word = _hidden_word(frame)
        layers.append(
            alt.Chart().transform_filter(_invalid(y)).transform_calculate(hidden=f"'{word}'")
            .transform_window(stacked="row_number()", groupby=[x])
            .transform_calculate(mark_at=f"{1.035 if normalize else top * 1.04} + "
                                         f"{0.025 if normalize else top * 0.025} * min(datum.stacked - 1, 2)")
            .mark_point(filled=True, size=60, color=SUPPRESSED_MARK)
            .encode(x=x_enc, y=alt.Y("mark_at:Q", scale=y_scale, axis=axis, title=y_title),
                    shape=_hidden_legend(word),
                    tooltip=[alt.Tooltip(f"{x}:N", title="Quarter"), alt.Tooltip(f"{colour}:N"),
                             alt.Tooltip("hidden:N", title=y_title)]))
    return alt.layer(*layers, data=frame.to_pandas(), title=_title(title, subtitle)).properties(height=300,
                                                                                                 autosize=FIT)


@in_words
def pareto(frame: pl.DataFrame, category: str, value: str, cumulative: str, title: str, subtitle: str,
           value_title: str, colours: Mapping[str, str] | str | None = "reason") -> alt.LayerChart:
    """Bars in descending order (each category in its palette colour) with the cumulative share as a line on a
    second axis fixed at 0-100."""
    labels = _present(frame, category)
    base = alt.Chart(frame.to_pandas()).encode(
        x=alt.X(f"{category}:N", title=None, sort=labels,
                axis=alt.Axis(labelAngle=-35, labelOverlap=False, labelLimit=160)))
    count = _is_count(frame, value)
    bars_ = base.mark_bar().encode(
        y=alt.Y(f"{value}:Q", title=value_title, axis=alt.Axis(**COUNT_AXIS) if count else alt.Undefined,
                scale=_count_scale(frame[value].max()) if count else alt.Undefined),
        color=alt.Color(f"{category}:N", legend=None, scale=colour_scale(frame, category, colours)),
        tooltip=[alt.Tooltip(f"{category}:N"), alt.Tooltip(f"{value}:Q", title=value_title, format=",.0f"),
                 alt.Tooltip(f"{cumulative}:Q", title="Cumulative share (%)", format=".1f")])
    line_ = base.mark_line(point=True, color="#333333").encode(
        y=alt.Y(f"{cumulative}:Q", title="Cumulative share (%)", scale=alt.Scale(domain=[0, 100])))
    return (alt.layer(bars_, line_, title=_title(title, subtitle))
            .resolve_scale(y="independent").properties(height=300, autosize=FIT))


# --- grids --------------------------------------------------------------------------------------------

@in_words
def heatmap(frame: pl.DataFrame, x: str, y: str, value: str, title: str, subtitle: str, value_title: str,
            value_format: str = ",.1f", scheme: str = "blues", x_title: str | None = None,
            extra_tooltips: tuple[str, ...] = (), row_px: int = 30,
            value_domain: tuple[float, float] | None = None, x_sort: list[str] | str | None = None,
            y_sort: list[str] | str | None = None, select: str | None = None,
            open_top: bool = False) -> alt.LayerChart:
    """A grid of cells coloured by `value` on a fixed `value_domain` (sequential, colour-blind-safe scheme; values
    beyond it take its end colour; `open_top`: the legend's last label reads '50+'), the value in the tooltip; every row and column labelled in a fixed order
    (`x_sort` / `y_sort`: the values in order, or a field to order by), each row `row_px` high. Hidden (null) cells
    are grey with 'suppressed' in the legend and the tooltip. `select`: clicking a cell selects that field."""
    tooltips = [alt.Tooltip(f"{y}:N"), alt.Tooltip(f"{x}:N"),
                alt.Tooltip(f"{value}:Q", title=value_title, format=value_format)]
    tooltips += [alt.Tooltip(f"{t}:N") for t in extra_tooltips]

    def order(sort, field):
        if isinstance(sort, str):
            return alt.EncodingSortField(field=sort, op="min", order="ascending")
        if sort is not None:
            present = set(_present(frame, field))
            return [v for v in sort if v in present] + [v for v in _present(frame, field) if v not in set(sort)]
        return _present(frame, field)

    y_labels = _present(frame, y)
    y_limit = max(120, min(420, 7 * max((len(str(v)) for v in y_labels), default=10) + 12))
    base = alt.Chart().encode(
        x=alt.X(f"{x}:N", title=x_title, sort=order(x_sort, x),
                axis=alt.Axis(labelAngle=-40, labelLimit=200, labelOverlap=False)),
        y=alt.Y(f"{y}:N", title=None, sort=order(y_sort, y), axis=alt.Axis(labelOverlap=False, labelLimit=y_limit)))
    clamped = bool(value_domain) and open_top
    legend = alt.Legend(orient="bottom", direction="horizontal", gradientLength=140,
                        values=[value_domain[0] + i * (value_domain[1] - value_domain[0]) / 5 for i in range(6)]
                        if clamped else alt.Undefined,
                        labelExpr=f"datum.value >= {value_domain[1]} ? '{value_domain[1]:g}+' : datum.label"
                        if clamped else alt.Undefined)
    shown = base.transform_filter(_valid(value)).mark_rect().encode(
        color=alt.Color(f"{value}:Q", title=value_title, legend=legend,
                        scale=alt.Scale(scheme=scheme, domain=list(value_domain) if value_domain else alt.Undefined,
                                        clamp=True)),
        tooltip=tooltips)
    if select:
        shown = shown.add_params(_pick(select))
    word = _hidden_word(frame)
    grey = (alt.Color("hidden:N", title=None, scale=alt.Scale(domain=[word], range=[SUPPRESSED_FILL]),
                      legend=alt.Legend(orient="bottom", symbolType="square", symbolStrokeColor="#999"))
            if _has_hidden(frame, value) else alt.value(SUPPRESSED_FILL))
    hidden = base.transform_filter(_invalid(value)).transform_calculate(hidden=f"'{word}'").mark_rect().encode(
        color=grey, tooltip=[alt.Tooltip(f"{y}:N"), alt.Tooltip(f"{x}:N"), alt.Tooltip("hidden:N", title=value_title)])
    return (alt.layer(shown, hidden, data=frame.to_pandas(), title=_title(title, subtitle))
            .resolve_scale(color="independent")
            .properties(height=alt.Step(row_px), autosize=FIT))  # a band per row: a fixed height squeezed rows and hid labels


@in_words
def matrix(frame: pl.DataFrame, x: str, y: str, value: str, order: list[str], title: str, subtitle: str,
           x_title: str, y_title: str) -> alt.LayerChart:
    """A from x to table of counts: cells shaded by the count, the count written in each, both axes in `order`;
    a hidden count grey and written 'suppressed'."""
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
    return (alt.layer(cells, grey, counts, title=_title(title, subtitle))
            .transform_calculate(shown=f"{shown} ? format(datum[{value!r}], ',.0f') : '{SUPPRESSED}'")
            .properties(height=alt.Step(48), autosize=FIT))


@in_words
def small_multiples(frame: pl.DataFrame, x: str, y: str, facet: str, description: str, y_title: str,
                    y_format: str = ",.1f", target: Target | None = None,
                    y_domain: tuple[float, float] | None = None, select: bool = True) -> list[alt.LayerChart]:
    """One small trend chart per `facet` value (a place in its own colour, in the reference order), each titled
    with the place, sharing the y scale (`y_domain` when fixed, else 0 to the highest value or target) and the
    quarters so they compare; the state's target as a dashed rule; a hidden point a grey cross on the axis; a
    click on a point selects its `facet` value. Charts of their own rather than a Vega facet, whose panels have
    a fixed width (empty space at 1920 px, a sideways scroll on a narrow screen): widgets.panels lays them out
    in columns as wide as the page allows."""
    panel_h = 160
    quarters = _present(frame, x)
    x_enc = alt.X(f"{x}:O", title=None, sort=quarters, scale=alt.Scale(domain=quarters),
                  axis=alt.Axis(labelAngle=-40))
    count = _is_count(frame, y)
    top = max(frame[y].max() or 0, (target.target or 0) if target else 0)
    y_scale = (alt.Scale(domain=list(y_domain)) if y_domain else _count_scale(top) if count
               else alt.Scale(domain=[0, top or 1], nice=True))
    y_enc = alt.Y(f"{y}:Q", title=None, scale=y_scale, axis=alt.Axis(**COUNT_AXIS) if count
                  else alt.Axis(format=y_format))
    colour = alt.Color(f"{facet}:N", legend=None, scale=colour_scale(frame, facet))
    places = palette.place_order() if facet in PLACE_FIELDS else []
    present = _present(frame, facet)
    panels = []
    for place in [p for p in places if p in present] + [p for p in present if p not in places]:
        rows = frame.filter(pl.col(facet) == place)
        gaps = alt.Chart().mark_line().encode(x=x_enc, y=y_enc, color=colour)  # a hidden point breaks the line
        dots = (alt.Chart().transform_filter(_valid(y)).mark_circle(size=36, opacity=1)
                .encode(x=x_enc, y=y_enc, color=colour,
                        tooltip=[alt.Tooltip(f"{facet}:N"), alt.Tooltip(f"{x}:N", title="Quarter"),
                                 alt.Tooltip(f"{y}:Q", title=y_title, format=y_format)]))
        if select:
            dots = dots.add_params(_pick(facet))
        layers = [gaps, dots, *_target_marks(target, y_format)]
        if _has_hidden(rows, y):
            layers.append(_hidden_points(rows, x, x_enc, y, None, panel_h))
        panels.append(alt.layer(*layers, data=_with_target(rows, target).to_pandas(),
                                title=alt.TitleParams(str(place), anchor="start", fontSize=13),
                                description=f"{description}: {place}").properties(height=panel_h))
    return panels


# --- points and curves --------------------------------------------------------------------------------

@in_words
def scatter(frame: pl.DataFrame, x: str, y: str, label: str, title: str, subtitle: str, x_title: str,
            y_title: str, colour: str | None = None, size: str | None = None,
            colours: Mapping[str, str] | str | None = "agency_type", x_domain: tuple[float, float] | None = None,
            select: str | None = None) -> alt.Chart:
    """One point per row (e.g. agency) with its name in the tooltip; `colour` groups in their palette colours,
    each with its own shape too; `select`: a click selects that field."""
    enc = {"x": alt.X(f"{x}:Q", title=x_title, scale=alt.Scale(domain=list(x_domain)) if x_domain else alt.Undefined),
           "y": alt.Y(f"{y}:Q", title=y_title),
           "tooltip": [alt.Tooltip(f"{label}:N"), alt.Tooltip(f"{x}:Q", title=x_title, format=",.1f"),
                       alt.Tooltip(f"{y}:Q", title=y_title, format=",.1f")]}
    if colour:  # colour and shape together: three shapes cycle against the colours
        scale = colour_scale(frame, colour, colours)
        enc["color"] = alt.Color(f"{colour}:N", title=None, scale=scale, legend=_legend(frame, colour))
        shapes = ["circle", "square", "triangle-up"]
        domain = list(scale.domain) if scale.domain is not alt.Undefined else []
        enc["shape"] = alt.Shape(f"{colour}:N", title=None,
                                 scale=alt.Scale(domain=domain, range=[shapes[i % 3] for i in range(len(domain))]))
        enc["tooltip"].append(alt.Tooltip(f"{colour}:N"))
    if size:  # the subtitle says what size is; its legend did not fit beside the colour legend
        enc["size"] = alt.Size(f"{size}:Q", legend=None)
        enc["tooltip"].append(alt.Tooltip(f"{size}:Q", title=size.replace("_", " "), format=",.1f"))
    chart = alt.Chart(frame.to_pandas(), title=_title(title, subtitle)).mark_point(filled=True, opacity=0.75)
    chart = chart.encode(**enc).properties(height=340, autosize=FIT)
    return chart.add_params(_pick(select)) if select else chart


@in_words
def steps(frame: pl.DataFrame, x: str, y: str, colour: str | None, title: str, subtitle: str, x_title: str,
          y_title: str) -> alt.Chart:
    """A step line (survival curve), one per `colour` value (places in their own colours), y fixed at 0-100."""
    enc = {"x": alt.X(f"{x}:Q", title=x_title), "y": alt.Y(f"{y}:Q", title=y_title, scale=alt.Scale(domain=[0, 100])),
           "tooltip": [alt.Tooltip(f"{x}:Q", title=x_title), alt.Tooltip(f"{y}:Q", title=y_title, format=".1f")]}
    if colour:
        enc["color"] = alt.Color(f"{colour}:N", title=None, scale=colour_scale(frame, colour),
                                 legend=_legend(frame, colour))
        enc["tooltip"].insert(0, alt.Tooltip(f"{colour}:N"))
    return (alt.Chart(frame.to_pandas(), title=_title(title, subtitle))
            .mark_line(interpolate="step-after").encode(**enc).properties(height=300, autosize=FIT))


# --- clicks -------------------------------------------------------------------------------------------

def picked(event, field: str) -> list[str]:
    """The values of `field` a click selected in a chart (st.altair_chart's return value, or its session state)."""
    try:
        points = event.selection.get(PICK, []) if event is not None else []
    except AttributeError:
        points = []
    return [str(p[field]) for p in points if isinstance(p, dict) and p.get(field) is not None]


def focus_on_click(key: str, field: str):
    """An on_select callback for the chart under `key`: the place clicked (a region's name or id in `field`)
    becomes the dashboard's focus, the sidebar's region filter that every page reads; 'Statewide' clears it."""
    def on_select() -> None:
        import streamlit as st

        for place in picked(st.session_state.get(key), field):
            st.session_state["filter_region"] = palette.region_id(place)
            return
    return on_select


AGENCY_AT_START = re.compile(r"^(AG[0-9]{4,6})\b")


def open_clicked_agency(event, field: str = "agency") -> None:
    """After a click on an agency in a chart (`field` holding its id, or 'AG0007 Its name'), open its profile."""
    import streamlit as st

    for value in picked(event, field):
        found = AGENCY_AT_START.match(value)
        if found:
            st.switch_page("pages/agency.py", query_params={"agency": found.group(1)})
