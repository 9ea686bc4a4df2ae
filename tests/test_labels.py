"""Words for codes: every allowed value of the contracts has one label, and the SQL that names roles and practice
domains spells the same words (pipelines.contracts.VALUE_LABELS is the one definition)."""

from __future__ import annotations

import re

from pipelines import contracts
from pipelines.metrics import SQL_DIR


def _allowed() -> set[str]:
    tables = [*contracts.REPORTS.values(), *contracts.REFERENCE.values()]
    return {v for table in tables for column in table.columns if column.allowed for v in column.allowed}


def test_every_allowed_value_has_a_label_and_no_label_is_stray():
    assert _allowed() == set(contracts.VALUE_LABELS)
    assert all(text.strip() and text == text.strip() for text in contracts.VALUE_LABELS.values())
    assert contracts.label("CERTIFIED_ACTIVE") == "Certified (active)"
    assert contracts.label("not a code") == "not a code" and contracts.label(None) == "" and contracts.label(3) == "3"


def _sql_pairs(view: str) -> dict[str, str]:
    text = (SQL_DIR / f"{view}.sql").read_text()
    return dict(re.findall(r"\('([A-Z_]+)', '([^']+)'", text))


def test_the_sql_names_roles_and_domains_in_the_contracts_words():
    roles = _sql_pairs("dim_role")
    assert set(roles) == set(contracts.ROLES)
    assert roles == {r: contracts.VALUE_LABELS[r] for r in contracts.ROLES}
    domains = {d: w for d, w in _sql_pairs("kpi_practice_domains").items() if d != "ALL"}
    assert domains == {d: contracts.VALUE_LABELS[d] for d in contracts.PRACTICE_DOMAINS}


def _strings(node) -> set[str]:
    if isinstance(node, dict):
        return set().union(*(_strings(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(_strings(v) for v in node)) if node else set()
    return {node} if isinstance(node, str) else set()


def test_charts_draw_codes_in_words():
    """Legends, axes and tooltips read the data a chart carries: no code of a contract is left in it, whichever
    builder draws it (a status mix, a scatter coloured by agency type, a heatmap by role)."""
    import polars as pl

    from dashboard import charts

    mix = pl.DataFrame({"quarter": ["2026-Q2"] * 3 + ["2026-Q3"] * 3,
                        "status": ["CERTIFIED_ACTIVE", "LAPSED", "IN_TRAINING"] * 2, "peers": [8, 1, 2, 9, 0, 3]})
    points = pl.DataFrame({"agency": ["Ash House", "Birch Clinic"], "agency_type": ["RCO", "CMHC"],
                           "certified_pct": [80.0, 55.5], "units_per_peer_fte": [310.0, 120.0], "peer_fte": [3.0, 1.5]})
    grid = pl.DataFrame({"role": ["FAMILY_PEER", "YOUTH_PEER"], "place": ["Statewide", "Statewide"],
                         "certified_pct": [70.0, 40.0]})
    specs = {
        "stacked": charts.stacked(mix, "quarter", "peers", "status", "Mix", "sub", "Share", normalize=True,
                                  colours=charts.STATUS_COLOURS),
        "scatter": charts.scatter(points, "certified_pct", "units_per_peer_fte", "agency", "Units", "sub", "% cert",
                                  "Units", colour="agency_type", size="peer_fte"),
        "heatmap": charts.heatmap(grid, "role", "place", "certified_pct", "Grid", "sub", "%", value_domain=(0, 100)),
    }
    codes = set(contracts.VALUE_LABELS)
    for name, chart in specs.items():
        drawn = _strings(chart.to_dict())
        assert not drawn & codes, (name, drawn & codes)
    assert {"Certified (active)", "Lapsed", "In training"} <= _strings(specs["stacked"].to_dict())
    assert contracts.VALUE_LABELS["RCO"] in _strings(specs["scatter"].to_dict())
