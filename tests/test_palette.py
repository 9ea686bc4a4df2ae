"""One colour per place and per category, whoever reads: the palette against the reference data and the contracts,
chart specs as each role receives them, and hidden cells named 'suppressed' in the legend."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
import pytest

from dashboard import charts, palette
from pipelines.contracts import AGENCY_TYPES, CERT_STATUSES, FUNDING, ROLES, SEPARATION_REASONS, VALUE_LABELS
from tests.test_disclosure import demo_as

REFERENCE = Path(__file__).resolve().parent.parent / "data" / "reference" / "regions.csv"
ROLES_SEEN = {"admin@state.example": "state administrator", "viewer@state.example": "state viewer",
              "submitter@fairstead.example": "agency submitter", "": "public"}


def _reference_regions() -> list[tuple[str, str]]:
    with REFERENCE.open(encoding="utf-8") as f:
        return [(row["region_id"], row["name"]) for row in csv.DictReader(f)]


@pytest.fixture
def reference(monkeypatch):
    """palette.regions() from the reference CSV, without a warehouse."""
    regions = _reference_regions()
    monkeypatch.setattr(palette, "regions", lambda: sorted(regions))
    return regions


def _walk(spec):
    """Every dict inside a spec."""
    if isinstance(spec, dict):
        yield spec
        for value in spec.values():
            yield from _walk(value)
    elif isinstance(spec, list):
        for value in spec:
            yield from _walk(value)


def _colour_map(spec: dict, field: str) -> dict[str, str]:
    """value -> colour of the colour encodings of `field` in a chart spec."""
    found: dict[str, str] = {}
    for node in _walk(spec):
        colour = node.get("color") if isinstance(node.get("color"), dict) else None
        if colour and colour.get("field") == field and "domain" in colour.get("scale", {}):
            found |= dict(zip(colour["scale"]["domain"], colour["scale"]["range"]))
    return found


# --- the palette ----------------------------------------------------------------------------------------

def test_every_region_of_the_reference_has_its_own_colour(reference):
    colours = palette.places()
    names = [name for _, name in reference]
    assert all(colours[name] == colours[rid] for rid, name in reference)
    assert len({colours[name] for name in names}) == len(names)  # distinct
    assert palette.STATE_COLOUR not in {colours[name] for name in names}
    assert palette.AGENCY_COLOUR not in set(colours.values())
    assert colours[palette.STATEWIDE] == palette.STATE_COLOUR
    assert palette.place_order() == [palette.STATEWIDE, *names]


def test_a_region_keeps_its_colour_whatever_else_a_chart_shows(reference):
    everyone = palette.places()
    for shown in ([palette.STATEWIDE, "River Valley"], ["River Valley"], ["High Plains", "Metro Harbor"],
                  ["Hartford Behavioral Health", "River Valley", palette.STATEWIDE]):
        scale = palette.for_places(shown)
        drawn = dict(zip(scale.domain, scale.range))
        assert set(drawn) == set(shown)
        for place in shown:
            assert drawn[place] == everyone.get(place, palette.AGENCY_COLOUR), place


def test_region_colours_follow_region_ids_not_the_order_rows_arrive():
    regions = [("R1", "A"), ("R2", "B"), ("R3", "C")]
    assert palette.region_colours(regions) == palette.region_colours(list(reversed(regions)))
    many = [(f"R{i:02d}", f"Region {i}") for i in range(12)]
    colours = palette.region_colours(many)
    assert len({colours[name] for _, name in many}) == 12


@pytest.mark.parametrize(("colours", "codes"), [
    (palette.STATUSES, CERT_STATUSES), (palette.FUNDING_SOURCES, FUNDING), (palette.REASONS, SEPARATION_REASONS),
    (palette.ROLE_COLOURS, ROLES), (palette.AGENCY_TYPE_COLOURS, AGENCY_TYPES)])
def test_every_category_of_the_contracts_has_one_colour_as_code_and_in_words(colours, codes):
    assert set(codes) <= set(colours)
    assert len({colours[c] for c in codes}) == len(codes)  # distinct within the set
    for code in codes:
        if code in VALUE_LABELS:
            assert colours[VALUE_LABELS[code]] == colours[code]


def test_a_scale_lists_only_what_is_shown_in_the_sets_order():
    scale = palette.scale(palette.STATUSES, ["LAPSED", "CERTIFIED_ACTIVE", None])
    assert scale.domain == ["CERTIFIED_ACTIVE", "LAPSED"]
    assert scale.range == [palette.STATUSES["CERTIFIED_ACTIVE"], palette.STATUSES["LAPSED"]]
    odd = palette.scale(palette.STAGES, ["Integrated", "Something new"])
    assert odd.domain == ["Integrated", "Something new"] and odd.range[1] not in palette.STAGES.values()


# --- chart specs ------------------------------------------------------------------------------------------

def test_a_heatmap_with_a_hidden_cell_names_it_suppressed_in_its_legend(reference):
    frame = pl.DataFrame({"place": ["Statewide", "Statewide", "River Valley", "River Valley"],
                          "domain": ["Policy", "Training", "Policy", "Training"], "rating": [2.0, None, 3.0, 1.5],
                          "suppressed": [None, "rating", None, None]})
    spec = charts.heatmap(frame, "place", "domain", "rating", "Ratings", "0-4", "Mean rating",
                          value_domain=(0, 4)).to_dict()
    legends = [n for n in _walk(spec) if isinstance(n.get("scale"), dict) and n["scale"].get("domain") == ["suppressed"]]
    assert legends and legends[0]["scale"]["range"] == [palette.SUPPRESSED_FILL] and legends[0].get("legend") is not None
    assert any(n.get("calculate") == "'suppressed'" for n in _walk(spec))  # the tooltip's value
    shown = charts.heatmap(frame.filter(pl.col("rating").is_not_null()), "place", "domain", "rating", "Ratings",
                           "0-4", "Mean rating", value_domain=(0, 4)).to_dict()
    assert not [n for n in _walk(shown) if isinstance(n.get("scale"), dict)
                and n["scale"].get("domain") == ["suppressed"]]  # nothing hidden, no such entry
    assert {"domain": [0, 4]}.items() <= next(n["scale"] for n in _walk(spec) if n.get("field") == "rating"
                                               and "scale" in n).items()


def test_a_hidden_point_on_a_line_is_marked_suppressed(reference):
    frame = pl.DataFrame({"place": ["Statewide"] * 3 + ["River Valley"] * 3, "quarter": ["2025-Q1", "2025-Q2",
                          "2025-Q3"] * 2, "value": [50.0, None, 52.0, 40.0, 41.0, None],
                          "suppressed": [None, "value", None, None, None, "value"]})
    spec = charts.line(frame, "quarter", "value", "place", "Index", "sub", "Index", y_domain=(0, 100)).to_dict()
    shapes = [n for n in _walk(spec) if n.get("field") == "hidden" and isinstance(n.get("scale"), dict)]
    assert shapes and shapes[0]["scale"]["domain"] == ["suppressed"]
    assert _colour_map(spec, "place") == {"Statewide": palette.STATE_COLOUR,
                                          "River Valley": palette.places()["River Valley"]}


def test_counts_get_whole_ticks_and_room(reference):
    frame = pl.DataFrame({"stage": ["No peer workforce", "Developing"], "agencies": [1, 1]})
    spec = charts.bars(frame, "stage", "agencies", "Agencies by stage, 2025-Q4", "rule", "Agencies",
                       colours="stage").to_dict()
    x = next(n["x"] for n in _walk(spec) if isinstance(n.get("x"), dict) and n["x"].get("field") == "agencies")
    assert x["axis"]["format"] == ",d" and x["axis"]["tickMinStep"] == 1
    assert x["scale"]["domain"] == [0, charts.MIN_COUNT_TOP]
    assert spec["autosize"]["type"] == "fit-x"  # the plot keeps its own height: no hairline bars


def test_a_long_title_moves_its_tail_into_the_subtitle_instead_of_being_cut():
    t = charts._title("Annualized peer turnover (%), rolling 4 quarters, 2023-Q4 to 2026-Q3", "Separations / x")
    assert t.text == "Annualized peer turnover (%), rolling 4 quarters"
    assert t.subtitle == ["2023-Q4 to 2026-Q3", "Separations / x"]
    long = charts._title("Peers still employed by months since hire (Kaplan-Meier)", "x" * 200)
    assert len(long.text) <= charts.TITLE_CHARS and all(len(line) <= charts.SUBTITLE_CHARS for line in long.subtitle)


# --- as each role receives them --------------------------------------------------------------------------

def _spec(at, words: str) -> dict:
    for element in at.get("vega_lite_chart"):
        if words in element.proto.spec:
            return json.loads(element.proto.spec)
    raise AssertionError(f"no chart {words!r}")


def test_places_have_the_same_colours_for_every_role_and_focus(demo_env):
    seen: dict[str, set[str]] = {}
    for principal in ROLES_SEEN:
        for params in ({}, {"region": "R3"}):
            spec = _spec(demo_as(principal, "overview", **params), "Integration index (0-100)")
            for place, colour in _colour_map(spec, "place").items():
                seen.setdefault(place, set()).add(colour)
            spec = _spec(demo_as(principal, "retention", **params), "Annualized peer turnover")
            for place, colour in _colour_map(spec, "place").items():
                seen.setdefault(place, set()).add(colour)
    assert seen["Statewide"] == {palette.STATE_COLOUR}
    assert seen["River Valley"] == {palette.REGION_COLOURS[2]}  # R3, the third region
    assert all(len(colours) == 1 for colours in seen.values()), seen


def test_the_certified_heatmap_has_one_scale_and_column_order_for_every_state_role(demo_env):
    specs = [_spec(demo_as(p, "certification"), "actively certified by region and role")
             for p in ("admin@state.example", "analyst@state.example", "viewer@state.example")]
    for spec in specs:
        colour = next(n for n in _walk(spec) if n.get("field") == "certified_pct" and "scale" in n)
        assert colour["scale"]["domain"] == [0, 100]
        x = next(n for n in _walk(spec) if n.get("field") == "role" and "sort" in n)
        assert x["sort"] == palette.ROLE_ORDER
        y = next(n for n in _walk(spec) if n.get("field") == "place" and "sort" in n)
        assert y["sort"][0] == palette.STATEWIDE
    assert all(s["layer"][0].get("encoding") == specs[0]["layer"][0].get("encoding") for s in specs)
