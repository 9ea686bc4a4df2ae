"""The value rules evaluated in polars (pipelines/value_rules.py) give exactly GX's findings.

Every comparison runs the report's suite through Great Expectations itself (`gx_runner.run(..., engine="gx")`)
and through the default path, which must not call GX, and asserts identical findings (code, message, row,
column, value, severity, order) and identical counts beyond the cap. Frames come from real files (tests/corpus,
data/sample, the conftest files; typed by the same `validate` the CLI runs) and from deliberately broken
variants: every expectation of each suite violated at least once, random frames of nulls, NaN, boundary
values, unicode and text that trips Python's regex corners, at several findings caps.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import great_expectations  # noqa: F401  the reference is GX itself, run for real
import polars as pl
import pytest

from pipelines import gx_runner, reading, suites, validation, value_rules
from pipelines.contracts import REPORTS
from pipelines.reading import ROW
from tests.conftest import AS_OF, CLEAN, csv_bytes

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "data" / "sample"
CORPUS = Path(__file__).parent / "corpus"
SAMPLE_FILES = sorted(p for p in SAMPLE.rglob("*") if p.suffix in (".csv", ".xlsx"))
CORPUS_FILES = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".csv", ".xlsx"))
CAPS = (10_000, 5, 0)
KINDS = list(REPORTS)


@pytest.fixture(autouse=True)
def _as_of(monkeypatch):
    monkeypatch.setenv("PEER_AS_OF", AS_OF)


def typed_frames(path, data=None, **kw) -> list[tuple[str, pl.DataFrame, int]]:
    """(kind, typed frame, cap) as `validate` hands them to gx_runner.run (the file read in-process)."""
    seen = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(validation.bounded_read, "read_file", reading.read_file)
        mp.setattr(validation.gx_runner, "run", lambda kind, typed, cap: (seen.append((kind, typed, cap)), ([], {}))[1])
        validation.validate(path, data, **kw)
    return seen


def fast(kind: str, typed: pl.DataFrame, cap: int):
    """The default path, with GX forbidden."""
    def no_gx(*args, **kwargs):
        raise AssertionError("the default path called GX")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(gx_runner, "_gx_verdicts", no_gx)
        return gx_runner.run(kind, typed, cap)


def same(kind: str, typed: pl.DataFrame, cap: int):
    """Both paths agree; GX's answer."""
    reference = gx_runner.run(kind, typed, cap, engine="gx")
    ours = fast(kind, typed, cap)
    assert ours[1] == reference[1], "counts beyond the cap differ"
    for i, (a, b) in enumerate(zip(ours[0], reference[0])):
        assert a == b, f"finding {i} differs"
    assert len(ours[0]) == len(reference[0])
    return reference


# --- real files ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: str(p.relative_to(SAMPLE)))
def test_sample_files(path):
    for kind, typed, cap in typed_frames(path):
        same(kind, typed, cap)


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_files(path):
    frames = typed_frames(path)
    for kind in ("headcount", "billing", "certification"):  # forced through a report, as test_corpus does
        frames += typed_frames(path, kind=kind, agency="AG0001", quarter="2026-Q1")
    for kind, typed, cap in frames:
        same(kind, typed, cap)


def _csv_variants():
    """Small files made from the conftest ones: 1 row, unicode and regex corners, boundaries, empty cells."""
    for kind, rows in CLEAN.items():
        yield pytest.param(kind, rows, id=f"{kind}-clean")
        yield pytest.param(kind, rows[:2], id=f"{kind}-one-row")
        header = rows[0]
        for name, cells in {
            "unicode": {"agency_id": "AG١٢٣٤", "peer_id": "Zoë_0001", "payer_id": "MCO-Ä\u200b", "role": "PËER",
                        "status": "CERTIFIED_ACTIVE\u200b", "event": "séparation", "hcpcs": "H0038\u202e"},
            "formula": {"payer_id": "=HYPERLINK(1)", "hcpcs": "#REF!", "credential_code": "@SUM(A1)",
                        "modifier": "x" * 65, "peer_id": "P 1"},
            "boundary": {"headcount": "100000", "headcount_fulltime": "100000", "fte": "100000.0",
                         "training_hours": "2000", "supervised_hours": "10000.5", "ce_hours_cycle": "-0",
                         "claims_submitted": "10000000", "claims_paid": "10000000", "claims_denied": "0",
                         "amount_billed": "1000000000", "amount_paid": "1000000000.01",
                         "unique_beneficiaries": "100001", "units_billed": "0"},
            "empty": {c: "" for c in header[2:]},
        }.items():
            edited = [header] + [[cells.get(c, v) for c, v in zip(header, row)] for row in rows[1:]]
            yield pytest.param(kind, edited, id=f"{kind}-{name}")


@pytest.mark.parametrize(("kind", "rows"), list(_csv_variants()))
def test_small_files(kind, rows):
    frames = typed_frames(f"{kind}.csv", csv_bytes(rows), kind=kind)
    assert frames, "the file reached the value rules"
    for kind_, typed, cap in frames:
        same(kind_, typed, cap)


# --- broken on purpose -----------------------------------------------------------------------------------------

def _base(kind: str) -> pl.DataFrame:
    """A real typed frame of the report (the largest sample file of that kind)."""
    files = sorted(SAMPLE.glob(f"*/{kind}.csv"), key=lambda p: p.stat().st_size)
    (_, typed, _), = typed_frames(files[-1], kind=kind)
    return typed


def _satisfying(condition: dict, dtype):
    op, p = condition["operator"], condition["parameter"]
    if op == "==":
        return p
    if op == "IN":
        return p[0]
    if op in (">", ">="):
        return p + 1
    if op in ("<", "<="):
        return p - 1
    return "SOMETHING_ELSE" if dtype == pl.String else (p + 1 if isinstance(p, (int, float)) else None)


LOW_HIGH = {pl.Int64: (0, 5), pl.Float64: (0.0, 5.0), pl.Date: (dt.date(2000, 1, 1), dt.date(2020, 1, 1)),
            pl.String: ("2000-Q1", "2020-Q1")}
SOME = {pl.Int64: 3, pl.Float64: 2.5, pl.Date: dt.date(2024, 5, 1), pl.String: "SOMETHING"}


def violate_each(kind: str) -> pl.DataFrame:
    """The real frame with rule i of the suite broken on row i (every expectation violated once)."""
    base = _base(kind)
    rules = value_rules.load(kind)
    assert base.height > len(rules)
    data, schema = base.to_dicts(), base.schema
    for row, rule in zip(data, rules):
        kw, kind_ = rule["kwargs"], rule["type"]
        if kw.get("row_condition"):
            cond = kw["row_condition"]
            row[cond["column"]["name"]] = _satisfying(cond, schema[cond["column"]["name"]])
        col = kw.get("column")
        if kind_ == "expect_column_values_to_not_be_null":
            row[col] = None
        elif kind_ == "expect_column_values_to_be_null":
            row[col] = SOME[schema[col]]
        elif kind_ == "expect_column_values_to_be_in_set":
            row[col] = kw["value_set"][0] + "_NOT_ALLOWED"
        elif kind_ == "expect_column_values_to_be_between":
            value = kw["max_value"] + 1 if kw.get("max_value") is not None else kw["min_value"] - 1
            row[col] = int(value) if schema[col] == pl.Int64 else value
        elif kind_ == "expect_column_values_to_match_regex":
            row[col] = "=not valid"
        else:
            row[kw["column_A"]], row[kw["column_B"]] = LOW_HIGH[schema[kw["column_A"]]]
    return pl.DataFrame(data, schema=schema)


@pytest.mark.parametrize("kind", KINDS)
def test_every_expectation_violated(kind):
    frame = violate_each(kind)
    findings, _ = same(kind, frame, 10_000)
    found = {(f.code, f.column, f.row) for f in findings}
    for row, rule in zip(frame[ROW], value_rules.load(kind)):
        assert (rule["meta"]["code"], rule["meta"]["column"], row) in found, rule
    for cap in CAPS[1:]:
        same(kind, frame, cap)


TEXT = [None, "", " ", "AG0001", "AG1234\n", "AG١٢٣٤", "AG12", "AG1234567", "2026-Q1", "2026-Q2", "2025-Q4",
        "2026-Q5", "2026-Q1\n", "٢٠٢٦-Q1", "P000001", "P0", "p_ok-1234", "Jane Doe", "x" * 64, "x" * 65, "=SUM(A1)",
        "+1", "-1", "@x", "\tX", "#REF!", "#N/A", "#VALUE", "ok#REF!", "café", "zero\u200bwidth", "\ufeffbom",
        "nan", "certified_active", "Ω", "\x1f", "a\nb", "\u061c", "H0038", "MCO-A", "Ab_c-12345"]
NUMBERS = [None, 0, 1, -1, 2, 3, 5, 100, 2000, 2001, 99_999, 100_000, 100_001, 10_000_000, 10_000_001, 2**53,
           2**53 + 1, -(2**53) - 1]
FLOATS = [None, float("nan"), 0.0, -0.0, -0.5, 0.5, 1.0, 4.0, 4.000001, 500.0, 500.5, 2000.0, 2000.01, 10_000.0,
          1e9, 1e9 + 1, float("inf"), float("-inf"), 1e308]
DATES = [None, dt.date(1950, 1, 1), dt.date(2020, 1, 1), dt.date(2025, 12, 31), dt.date(2026, 1, 1),
         dt.date(2026, 3, 31), dt.date(2026, 4, 1), dt.date(2026, 6, 30), dt.date(2031, 11, 1)]


def fuzzed(kind: str, seed: int, n: int = 300) -> pl.DataFrame:
    """A frame of the report's typed schema, each cell drawn from real values, suite values and edge cases."""
    base, rng = _base(kind), random.Random(seed)
    named = {}  # values the suite names (allowed values, condition parameters)
    for rule in value_rules.load(kind):
        kw = rule["kwargs"]
        named.setdefault(kw.get("column"), []).extend(kw.get("value_set", []))
        cond = kw.get("row_condition")
        if cond:
            p = cond["parameter"]
            named.setdefault(cond["column"]["name"], []).extend(p if isinstance(p, list) else [p])
    pools = {pl.String: TEXT, pl.Int64: NUMBERS, pl.Float64: FLOATS, pl.Date: DATES}
    nulls = seed % 2  # even seeds: no empty numbers, so that integers stay int64 in pandas
    columns = {ROW: list(range(2, n + 2))}
    for name, dtype in base.schema.items():
        if name == ROW:
            continue
        real = base[name].to_list()
        pool = [v for v in pools[dtype] + named.get(name, []) if nulls or dtype == pl.String or v is not None]
        columns[name] = [rng.choice(real) if rng.random() < 0.5 else rng.choice(pool) for _ in range(n)]
        if not nulls and dtype != pl.String:
            columns[name] = [v if v is not None else pool[1] for v in columns[name]]
    return pl.DataFrame(columns, schema=base.schema)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("kind", KINDS)
def test_fuzzed_frames(kind, seed):
    frame = fuzzed(kind, seed)
    for cap in (10_000, 25) if seed else (10_000,):
        same(kind, frame, cap)


def _when(column, operator, parameter) -> dict:
    return {"row_condition": {"type": "comparison", "column": {"name": column}, "operator": operator,
                              "parameter": parameter}}


def _rule(kind, code, **kwargs) -> dict:
    return {"type": kind, "kwargs": kwargs, "meta": {"code": code, "column": kwargs.get("column", "quarter"),
                                                    "fix": ""}, "severity": "critical"}


OPERATOR_RULES = [
    *[_rule("expect_column_values_to_not_be_null", f"count-{op}", column="rating_peers",
            **_when("peer_respondents_count", op, [0, 2] if "IN" in op else 2))
      for op in ("==", "!=", "<", "<=", ">", ">=", "IN", "NOT_IN")],
    *[_rule("expect_column_values_to_be_null", f"status-{op}", column="action_owner",
            **_when("action_status", op, ["NONE", "DONE"] if "IN" in op else "NONE"))
      for op in ("==", "!=", "<", "<=", ">", ">=", "IN", "NOT_IN")],
    *[_rule("expect_column_values_to_be_between", f"strict-{lo}-{hi}", column="rating_leadership", min_value=1,
            max_value=3.0, strict_min=lo, strict_max=hi) for lo in (False, True) for hi in (False, True)],
    _rule("expect_column_values_to_be_between", "at-most", column="peer_respondents_count", max_value=2,
          strict_max=True),
    _rule("expect_column_pair_values_a_to_be_greater_than_b", "strictly-after", column_A="action_due_quarter",
          column_B="quarter", or_equal=False, ignore_row_if="either_value_is_missing",
          **_when("rating_peers", "<=", 2)),
]


@pytest.mark.parametrize("seed", [0, 1])
def test_every_operator_and_strict_bound(monkeypatch, seed):
    """What value_rules accepts beyond today's suites (every condition operator, on text and numbers; strict
    bounds) agrees with GX too."""
    monkeypatch.setitem(value_rules._suites, "practices", OPERATOR_RULES)
    findings, _ = same("practices", fuzzed("practices", seed), 10_000)
    assert len({f.code for f in findings}) > len(OPERATOR_RULES) // 2


def test_many_rows_and_overflow():
    """Thousands of rows, hundreds of failing combinations per rule: the first 20 listed, the rest counted."""
    base = _base("certification")
    frame = pl.concat([base] * 4).with_columns(pl.int_range(2, 4 * base.height + 2).alias(ROW),
                                               (pl.col("status") + pl.int_range(pl.len()).cast(pl.String))
                                               .alias("status"))
    findings, overflow = same("certification", frame, 100)
    assert len(findings) == 20 and overflow == {"value-not-allowed": frame.height - 20}
    findings, overflow = same("certification", frame, 10_000)
    assert len(findings) == frame.height and not overflow


def test_empty_frame():
    frame = _base("retention").clear()
    assert same("retention", frame, 10_000) == ([], {})


# --- the comparison can fail ---------------------------------------------------------------------------------

def _edited(kind: str, index: int, edit) -> list[dict]:
    rules = json.loads(json.dumps(value_rules.load(kind)))
    edit(rules[index]["kwargs"])
    return rules


@pytest.mark.parametrize("mutation", ["bound", "condition"])
def test_a_changed_rule_is_detected(monkeypatch, mutation):
    """The fast path given a changed rule (a bound one lower, a condition turned around) no longer agrees
    with GX on a frame sitting on the rule's edge: the equivalence check is able to fail."""
    kind = "certification"
    rules = value_rules.load(kind)
    if mutation == "bound":
        i = next(i for i, r in enumerate(rules) if r["kwargs"].get("column") == "training_hours"
                 and r["type"] == "expect_column_values_to_be_between")
        frame = _base(kind).with_columns(pl.lit(2000.0).alias("training_hours"))  # on the bound: allowed

        def edit(kw):
            kw["max_value"] = 1999.0
    else:
        i = next(i for i, r in enumerate(rules) if r["type"] == "expect_column_values_to_not_be_null"
                 and r["kwargs"].get("row_condition"))
        frame = _base(kind).with_columns(pl.lit(None, dtype=pl.Date).alias("expiration_date"))

        def edit(kw):
            kw["row_condition"]["operator"] = "!="
    reference = gx_runner.run(kind, frame, 10_000, engine="gx")
    assert fast(kind, frame, 10_000) == reference
    monkeypatch.setitem(value_rules._suites, kind, _edited(kind, i, edit))
    assert fast(kind, frame, 10_000) != reference


# --- what is not known goes to GX ----------------------------------------------------------------------------

UNKNOWN = [
    {"type": "expect_column_value_lengths_to_be_between", "kwargs": {"column": "peer_id", "max_value": 6},
     "meta": {"code": "peer-id-too-long", "column": "peer_id", "fix": "Shorten it."}, "severity": "warning"},
    {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "role", "value_set": ["PEER_SUPERVISOR"],
                                                            "mostly": 0.5},
     "meta": {"code": "mostly-supervisors", "column": "role", "fix": ""}, "severity": "critical"},
]


@pytest.mark.parametrize("rule", UNKNOWN, ids=["unknown-type", "unknown-argument"])
def test_unknown_rules_run_through_gx(monkeypatch, rule):
    kind = "certification"
    monkeypatch.setitem(value_rules._suites, kind, [*value_rules.load(kind), rule])
    frame = _base(kind)
    calls = []
    real = gx_runner._gx_verdicts
    monkeypatch.setattr(gx_runner, "_gx_verdicts", lambda *a: calls.append(a[1]) or real(*a))
    ours = gx_runner.run(kind, frame, 10_000)
    assert calls and all(rule in rules for rules in calls), "the unknown rule's group went to GX"
    assert rule["meta"]["code"] in {f.code for f in ours[0]}
    monkeypatch.setattr(gx_runner, "_gx_verdicts", real)
    assert ours == gx_runner.run(kind, frame, 10_000, engine="gx")


def test_unknown_types_are_refused_not_skipped():
    with pytest.raises(value_rules.Unsupported):
        value_rules.unexpected(pl.DataFrame({"peer_id": ["x"]}), [UNKNOWN[0]])


# --- one definition --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_the_json_read_is_the_gx_suite(kind):
    """value_rules reads expectations/<kind>.json itself; GX's own loading of it says the same, rule by rule,
    and every rule there is one value_rules evaluates (so validation never needs GX)."""
    gx_view = [{"type": e.configuration.type, "kwargs": e.configuration.kwargs, "meta": e.configuration.meta,
                "severity": str(getattr(e.configuration.severity, "value", e.configuration.severity))}
               for e in suites.load_suite(kind).expectations]
    assert gx_view == value_rules.load(kind)
    for rule in value_rules.load(kind):
        value_rules.check(rule)


def test_validation_does_not_import_gx():
    script = ("import sys; from pipelines.validation import validate; "
              f"r = validate({str(SAMPLE / 'rejected' / 'certification_expired_and_duplicate.csv')!r}); "
              "assert r.report.errors, 'the file has findings'; "
              "assert 'great_expectations' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PEER_AS_OF": AS_OF})
    assert done.returncode == 0, done.stderr[-2000:]
