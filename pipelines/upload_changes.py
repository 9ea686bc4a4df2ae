"""What a replacement changes: the current submissions of a file's groups, and key totals before and after."""

from __future__ import annotations

import duckdb
import polars as pl

from pipelines import snapshot
from pipelines.contracts import PEER_ROLES

_PEERS = "role in (" + ", ".join(f"'{r}'" for r in PEER_ROLES) + ")"
MEASURES: dict[str, list[tuple[str, str]]] = {
    "headcount": [("Peer headcount", f"sum(headcount) filter (where {_PEERS})"),
                  ("Peer FTE", f"sum(fte) filter (where {_PEERS})"),
                  ("Clinician FTE", "sum(fte) filter (where role = 'CLINICAL_LICENSED')")],
    "certification": [("Peer workers", f"count(distinct peer_id) filter (where {_PEERS})"),
                      ("Certified active", f"count(distinct peer_id) filter (where {_PEERS} "
                                           "and status = 'CERTIFIED_ACTIVE')")],
    "billing": [("Units billed", "sum(units_billed)"), ("Units paid", "sum(units_paid)"),
                ("Amount paid (USD)", "sum(amount_paid)")],
    "retention": [("Hires", "count(*) filter (where event = 'HIRE')"),
                  ("Separations", "count(*) filter (where event = 'SEPARATION')")],
    "practices": [("Practices rated", "count(distinct practice_code)"),
                  ("Mean leadership rating (0-4)", "round(avg(rating_leadership), 2)"),
                  ("Mean peer rating (0-4)", "round(avg(rating_peers), 2)"),
                  ("Open actions", "count(*) filter (where action_status in ('PLANNED', 'IN_PROGRESS'))")],
}
"""Totals shown before and after a replacement, per report (rows are always shown). A measure whose label starts
with "Mean" stays empty where there is nothing to average (no peer rating is not a rating of 0)."""


def current_submissions(con: duckdb.DuckDBPyConnection, kind: str, groups: list[tuple[str, str]]) -> pl.DataFrame:
    """The accepted, not superseded submissions of these (agency, quarter) groups for the report."""
    frame = pl.DataFrame(groups, schema={"agency_id": pl.String, "quarter": pl.String}, orient="row")
    cur = snapshot.cursor(con)
    try:
        cur.register("upload_groups", frame)
        return cur.sql(
            "select s.submission_id, s.agency_id, s.quarter, s.file_name, s.sha256, s.rows, s.submitted_by, "
            "s.submitted_at from submissions s join upload_groups g using (agency_id, quarter) "
            "where s.report = ? and s.status = 'accepted' and s.superseded_by is null order by s.submission_id",
            params=[kind]).pl()
    finally:
        cur.close()


def before_after(con: duckdb.DuckDBPyConnection, kind: str, current: pl.DataFrame,
                 incoming: pl.DataFrame) -> pl.DataFrame:
    """measure, before, after, change: the current submissions' rows against the incoming file's."""
    exprs = [("Rows", "count(*)"), *MEASURES[kind]]
    select = ", ".join((sql if label.startswith("Mean") else f"coalesce({sql}, 0)") + f" as m{i}"
                       for i, (label, sql) in enumerate(exprs))
    cur = snapshot.cursor(con)
    try:
        cur.register("incoming_rows", incoming)
        before = cur.execute(f"select {select} from {kind} where submission_id in (select unnest(?::bigint[]))",
                             [current["submission_id"].to_list()]).fetchall()[0]
        after = cur.execute(f"select {select} from incoming_rows").fetchall()[0]
    finally:
        cur.close()
    return pl.DataFrame({"measure": [label for label, _ in exprs],
                         "before": [_number(v) for v in before], "after": [_number(v) for v in after]},
                        schema={"measure": pl.String, "before": pl.Float64, "after": pl.Float64}
                        ).with_columns((pl.col("after") - pl.col("before")).alias("change"))


def _number(value) -> float | None:
    return None if value is None else float(value)
