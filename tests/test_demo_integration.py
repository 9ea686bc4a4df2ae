"""The demo state's integration index and practice stories, measured with SQL on the demo warehouse built through
`python -m pipelines demo` (the session fixture loads data/sample through the real validate-and-load path)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from tests.test_demo_data import STORIES

LATEST = "2026-Q3"


@pytest.fixture(scope="module")
def wh(demo_warehouse):
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    yield con
    con.close()


def _one(con, sql: str, params: list | None = None):
    return con.execute(sql, params or []).fetchall()[0][0]


def test_state_index_moves_over_the_twelve_quarters(wh):
    scores = wh.execute("select index_score from kpi_integration_index where level = 'state' "
                        "order by quarter_ordinal").fetchall()
    assert len(scores) == 12
    assert scores[-1][0] - scores[0][0] >= 8, scores


def test_regions_differ_in_the_latest_quarter(wh):
    spread = _one(wh, "select max(index_score) - min(index_score) from kpi_integration_index "
                      "where level = 'region' and quarter = ?", [LATEST])
    assert spread >= 10


def test_agencies_with_peers_spread_out(wh):
    p10, p90, extreme = wh.execute("""
        select quantile_cont(index_score, 0.1), quantile_cont(index_score, 0.9),
               avg((index_score in (0, 100))::int)
        from kpi_integration_index where level = 'agency' and quarter = ? and index_score is not null""",
                                   [LATEST]).fetchall()[0]
    assert p90 - p10 >= 30, (p10, p90)
    assert extreme <= 0.05


def test_no_component_is_constant_across_regions(wh):
    rows = wh.execute("""select component, count(distinct round(sub_score, 1)), count(sub_score)
                         from kpi_integration_components where level = 'region' and quarter = ?
                         group by 1""", [LATEST]).fetchall()
    assert {r[0] for r in rows} >= {"peer_to_clinician_ratio", "pct_certified", "supervision_coverage",
                                     "retention_12m", "billing_sustainability", "practice"}
    assert all(distinct > 1 for _, distinct, _ in rows), rows


def test_practice_ratings_improve_for_most_agencies_and_differ_by_region(wh):
    improved = _one(wh, """
        with p as (select agency_id, quarter_ordinal, 25 * avg((rating_leadership + coalesce(rating_peers,
                          rating_leadership)) / 2) score from stg_practices group by all)
        select avg((last.score > first.score)::int) from
          (select agency_id, arg_min(score, quarter_ordinal) score from p group by 1) first
          join (select agency_id, arg_max(score, quarter_ordinal) score from p group by 1) last using (agency_id)""")
    assert improved > 0.6
    spread = _one(wh, "select max(practice_score) - min(practice_score) from kpi_integration_index "
                      "where level = 'region' and quarter = ?", [LATEST])
    assert spread >= 8


def test_stages_move_up_and_two_agencies_fall_back_after_losing_funding(wh):
    ups = _one(wh, """select count(distinct agency_id) from kpi_stage_transitions where level = 'agency'
                      and from_stage = 'Developing' and to_stage = 'Integrated'""")
    assert ups >= 5
    fell = _one(wh, """
        select count(distinct t.agency_id) from kpi_stage_transitions t
        where t.level = 'agency' and t.from_stage = 'Integrated' and t.direction = 'down'
          and exists (select 1 from stg_retention r where r.agency_id = t.agency_id
                      and r.separation_reason = 'FUNDING_LOSS'
                      and r.quarter_ordinal between t.quarter_ordinal - 4 and t.quarter_ordinal)
          and exists (select 1 from stg_practices p where p.agency_id = t.agency_id and p.practice_code = 'LEAD_FUNDING'
                      and p.rating_leadership = 0 and p.quarter_ordinal <= t.quarter_ordinal)""")
    assert fell >= 2


def test_role_drift_agencies_rate_the_drift_review_low(wh):
    drift, others, gap = wh.execute("""
        with d as (select p.agency_id, p.quarter, p.rating_leadership, p.rating_peers,
                          (select count(*) from stg_retention r where r.agency_id = p.agency_id
                           and r.separation_reason = 'ROLE_DRIFT'
                           and r.quarter_ordinal between p.quarter_ordinal - 3 and p.quarter_ordinal) >= 2 drifting
                   from stg_practices p where p.practice_code = 'ROLE_DRIFT_REVIEW')
        select avg(rating_leadership) filter (where drifting), avg(rating_leadership) filter (where not drifting),
               avg(rating_leadership - rating_peers) filter (where drifting)
        from d""").fetchall()[0]
    assert drift <= 1.5 and drift < others - 0.5 and gap >= 1, (drift, others, gap)


def test_lapse_region_plans_supervision_training_and_certification_recovers(wh):
    region = STORIES["lapse_region"]
    ratings = dict(wh.execute("""select quarter, avg(rating_leadership) from stg_practices
                                 where region_id = ? and practice_code in ('SUP_TRAINED', 'TRAIN_CERTIFICATION')
                                 group by 1""", [region]).fetchall())
    assert max(ratings[q] for q in ("2023-Q4", "2024-Q2", "2024-Q4", "2025-Q2")) <= 1
    assert ratings["2026-Q2"] >= 2.5
    statuses = dict(wh.execute("""select quarter, string_agg(distinct action_status) from stg_practices
                                  where region_id = ? and practice_code in ('SUP_TRAINED', 'TRAIN_CERTIFICATION')
                                  group by 1""", [region]).fetchall())
    assert statuses["2024-Q4"] == "NONE" and statuses["2025-Q2"] == "PLANNED"
    assert statuses["2025-Q4"] == "IN_PROGRESS" and statuses["2026-Q2"] == "DONE"
    certified = dict(wh.execute("select quarter, certified_pct from kpi_scorecard where level = 'region' "
                                "and entity_id = ?", [region]).fetchall())
    assert certified["2025-Q4"] >= certified["2025-Q2"] + 10
    others = _one(wh, "select min(certified_pct) from kpi_scorecard where level = 'region' and entity_id <> ? "
                      "and quarter = '2025-Q2'", [region])
    assert certified["2025-Q2"] < others - 10


def test_a_handful_of_agencies_show_a_peer_voice_gap_on_inclusion(wh):
    steady = _one(wh, """select count(*) from (select agency_id from kpi_practice_domains
                         where level = 'agency' and domain = 'CULTURE_INCLUSION' group by 1
                         having min(peer_voice_gap) >= 1.5)""")
    assert 3 <= steady <= 10


def test_late_submitter_is_late_with_overdue_actions(wh):
    agency = STORIES["late_submitter"]
    assert _one(wh, "select count(*) from kpi_action_plans where agency_id = ? and is_latest and is_overdue",
                [agency]) >= 3
    submitted = _one(wh, "select min(submitted_at) from submissions where agency_id = ? and report = 'practices' "
                         "and quarter = '2026-Q2'", [agency])
    assert (submitted.date() - dt.date(2026, 6, 30)).days >= 45
    missing = STORIES["missing_submitter"]
    assert _one(wh, "select count(*) from stg_practices where agency_id = ? and quarter = '2026-Q2'", [missing]) == 0
