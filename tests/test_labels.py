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
