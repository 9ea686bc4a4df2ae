"""The integration index, the practice views and stage transitions against numbers worked out by hand.

Fixture (as-of date 2026-01-15):

  regions   R1, R2.  agencies AG0001 CMHC (R1, serves children), AG0002 RCO (R1), AG0003 SUD_TREATMENT (R2),
            AG0004 PEER_RUN (R2), AG0005 CMHC (R2)
  targets   floor / target / stretch, weight 1 each: ratio 0.1 / 0.5 / 1.0, % certified 60 / 85 / 95,
            supervision (lower is better) 15 / 8 / 5, retention 45 / 70 / 85, billing 40 / 80 / 95;
            pillars workforce 0.6, practice 0.4; Developing from 40, Integrated from 70
  items     LEAD_CHAMPION, LEAD_FUNDING (LEADERSHIP), SUP_TRAINED (SUPERVISION, weight 2), CULT_INCLUSION
            (CULTURE_INCLUSION), FAM_YOUTH_PEERS (FAMILY_YOUTH, SERVES_CHILDREN)

  2025-Q4   peers / FTE, trained supervisors, clinician FTE, certified of listed, paid units
            AG0001  10 / 8.0, 1, 10.0, 9 of 10, yes
            AG0002   4 / 4.0, 1, 20.0, 4 of 5,  no
            AG0003  16 / 16.0, 1, none, 5 of 10, yes
            AG0004   no peers (one clinician row): No peer workforce
            AG0005  13 / 10.0, 2, 10.0, 13 of 13, yes
  assessments  AG0001 2025-Q2 and 2025-Q4, AG0002 2025-Q3, AG0003 2025-Q2, AG0005 2025-Q4
"""

from __future__ import annotations

import duckdb
import pytest

from pipelines import metrics, warehouse
from pipelines.contracts import REFERENCE, REPORTS
from tests.test_metrics import bill, cert, hc, insert

Q4, Q3, Q2, Y0 = "2025-Q4", "2025-Q3", "2025-Q2", "2024-Q4"
approx = pytest.approx


def practice(agency, quarter, code, lead, peers=None, respondents=0, status="NONE", owner=None, due=None):
    return dict(agency_id=agency, quarter=quarter, practice_code=code, rating_leadership=lead, rating_peers=peers,
                peer_respondents_count=respondents, action_status=status, action_owner=owner,
                action_due_quarter=due)


def peers_and_staff(agency, quarter, peers, fte, trained, clinician_fte, role="PEER_SPECIALIST_MH"):
    rows = [hc(agency, quarter, role, peers, peers, fte, 0),
            hc(agency, quarter, "PEER_SUPERVISOR", max(trained, 1), 1, 1.0, 0, trained=trained)]
    if clinician_fte:
        rows.append(hc(agency, quarter, "CLINICAL_LICENSED", int(clinician_fte), 1, clinician_fte, 0))
    return rows


def certified(agency, quarter, active, listed):
    return [cert(agency, quarter, f"{agency}-{i:02d}", "CERTIFIED_ACTIVE" if i < active else "IN_TRAINING")
            for i in range(listed)]


def paid(agency, quarter):
    return bill(agency, quarter, "FFS", None, 100, 100, 0, 2000.0, 20)


def load_fixture(con: duckdb.DuckDBPyConnection) -> None:
    for table in REFERENCE:
        con.execute(f"delete from {table}")
    con.execute("insert into regions values ('R1', 'North', 1000000, 10.0), ('R2', 'South', 500000, 60.0)")
    con.execute("""insert into agencies (agency_id, name, region_id, local_authority, agency_type, ownership,
        medicaid_enrolled, serves_children, active_from) values
        ('AG0001', 'North CMHC', 'R1', 'LA1', 'CMHC', 'public', true, true, '2020-01-01'),
        ('AG0002', 'North Recovery Community', 'R1', 'LA1', 'RCO', 'nonprofit', false, false, '2020-01-01'),
        ('AG0003', 'South SUD Treatment', 'R2', 'LA2', 'SUD_TREATMENT', 'forprofit', true, false, '2020-01-01'),
        ('AG0004', 'South Peer Run', 'R2', 'LA2', 'PEER_RUN', 'nonprofit', true, false, '2020-01-01'),
        ('AG0005', 'South CMHC', 'R2', 'LA2', 'CMHC', 'public', true, false, '2020-01-01')""")
    con.execute("""insert into targets (component, label, pillar, metric, direction, floor, target, stretch, weight,
        contractual) values
        ('peer_to_clinician_ratio', 'Ratio', 'workforce', 'peer_to_clinician_ratio', 'higher', 0.1, 0.5, 1.0, 1, false),
        ('pct_certified', '% certified', 'workforce', 'certified_pct', 'higher', 60, 85, 95, 1, true),
        ('supervision_coverage', 'Supervision', 'workforce', 'peers_per_trained_supervisor', 'lower', 15, 8, 5, 1,
         false),
        ('retention_12m', 'Retention', 'workforce', 'retention_12m_pct', 'higher', 45, 70, 85, 1, true),
        ('billing_sustainability', 'Billing', 'workforce', 'billing_sustainability_pct', 'higher', 40, 80, 95, 1,
         true),
        ('workforce', 'Workforce pillar', 'index', 'workforce_score', 'higher', 0, 70, 100, 0.6, false),
        ('practice', 'Practice pillar', 'index', 'practice_score', 'higher', 25, 75, 100, 0.4, false),
        ('stage_developing', 'Developing from', 'stage', null, null, null, 40, null, null, false),
        ('stage_integrated', 'Integrated from', 'stage', null, null, null, 70, null, null, false)""")
    con.execute("""insert into integration_practices values
        ('LEAD_CHAMPION', 'LEADERSHIP', 'Champions', 'network', 1, 'ALL', '2023-10-01', null),
        ('LEAD_FUNDING', 'LEADERSHIP', 'Funding', 'step 3', 1, 'ALL', '2023-10-01', null),
        ('SUP_TRAINED', 'SUPERVISION', 'Trained supervisors', 'TIP 64', 2, 'ALL', '2023-10-01', null),
        ('CULT_INCLUSION', 'CULTURE_INCLUSION', 'Inclusion', 'step 7', 1, 'ALL', '2023-10-01', null),
        ('FAM_YOUTH_PEERS', 'FAMILY_YOUTH', 'Family and youth peers', 'TIP 64', 1, 'SERVES_CHILDREN',
         '2023-10-01', null)""")

    insert(con, "headcount", [
        *peers_and_staff("AG0001", Q4, 10, 8.0, 1, 10.0),
        *peers_and_staff("AG0002", Q4, 4, 4.0, 1, 20.0, role="PEER_RECOVERY_SUD"),
        *peers_and_staff("AG0003", Q4, 16, 16.0, 1, 0, role="PEER_RECOVERY_SUD"),
        hc("AG0004", Q4, "CLINICAL_LICENSED", 2, 2, 2.0, 0),
        *peers_and_staff("AG0005", Q4, 13, 10.0, 2, 10.0),
        *peers_and_staff("AG0002", Q3, 4, 4.0, 0, 20.0, role="PEER_RECOVERY_SUD"),  # no trained supervisor
        *peers_and_staff("AG0003", Q3, 16, 16.0, 1, 0, role="PEER_RECOVERY_SUD"),
        *peers_and_staff("AG0001", Y0, 10, 8.0, 1, 10.0),
        *peers_and_staff("AG0002", Y0, 4, 4.0, 1, 20.0, role="PEER_RECOVERY_SUD"),
        *peers_and_staff("AG0003", Y0, 16, 16.0, 2, 0, role="PEER_RECOVERY_SUD"),
        hc("AG0004", Y0, "CLINICAL_LICENSED", 2, 2, 2.0, 0),
    ])
    insert(con, "certification", [*certified("AG0001", Q4, 9, 10), *certified("AG0002", Q4, 4, 5),
                                  *certified("AG0003", Q4, 5, 10), *certified("AG0005", Q4, 13, 13)])
    insert(con, "billing", [paid("AG0001", Q4), paid("AG0003", Q4), paid("AG0005", Q4), paid("AG0003", Y0)])
    insert(con, "practices", [
        practice("AG0001", Q4, "LEAD_CHAMPION", 4, 2, 5, "DONE", "EXECUTIVE"),
        practice("AG0001", Q4, "LEAD_FUNDING", 3),
        practice("AG0001", Q4, "SUP_TRAINED", 2, 2, 4, "IN_PROGRESS", "PEER_SUPERVISOR", "2026-Q1"),
        practice("AG0001", Q4, "CULT_INCLUSION", 4, 1, 5, "PLANNED", "PROGRAM_DIRECTOR", "2025-Q4"),
        practice("AG0001", Q4, "FAM_YOUTH_PEERS", 1, 1, 3),
        *(practice("AG0001", Q2, code, 1) for code in ("LEAD_CHAMPION", "LEAD_FUNDING", "CULT_INCLUSION",
                                                        "FAM_YOUTH_PEERS")),
        practice("AG0001", Q2, "SUP_TRAINED", 1, None, 0, "PLANNED", "HR", "2025-Q3"),
        practice("AG0002", Q3, "LEAD_CHAMPION", 2),
        practice("AG0002", Q3, "LEAD_FUNDING", 2, None, 0, "PLANNED", "EXECUTIVE", "2025-Q3"),
        practice("AG0002", Q3, "SUP_TRAINED", 1),
        practice("AG0002", Q3, "CULT_INCLUSION", 3),
        practice("AG0002", Q3, "FAM_YOUTH_PEERS", 0),            # AG0002 serves no children: left out
        *(practice("AG0003", Q2, code, 2, 2, 3) for code in ("LEAD_CHAMPION", "LEAD_FUNDING", "SUP_TRAINED",
                                                              "FAM_YOUTH_PEERS")),
        practice("AG0003", Q2, "CULT_INCLUSION", 2, 2, 3, "IN_PROGRESS", "OTHER", "2025-Q2"),
        practice("AG0005", Q4, "LEAD_CHAMPION", 4, 4, 8),
        practice("AG0005", Q4, "LEAD_FUNDING", 4, 3, 8),
        practice("AG0005", Q4, "SUP_TRAINED", 3, 3, 6),
        practice("AG0005", Q4, "CULT_INCLUSION", 4, 2, 8),
        practice("AG0005", Q4, "FAM_YOUTH_PEERS", 4, 4, 8),
    ])
    warehouse.set_setting(con, "as_of", "2026-01-15")
    metrics.refresh(con)


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    connection = warehouse.connect(tmp_path_factory.mktemp("index") / "w.duckdb")
    warehouse.init(connection)
    load_fixture(connection)
    yield connection
    connection.close()


def rows(con, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def one(con, sql: str, params: list | None = None) -> dict:
    found = rows(con, sql, params)
    assert len(found) == 1, f"expected one row, got {len(found)}"
    return found[0]


def index_row(con, level, entity_id, quarter=Q4):
    return one(con, "select * from kpi_integration_index where level = ? and entity_id = ? and quarter = ?",
               [level, entity_id, quarter])


def scores(con, entity_id, quarter=Q4):
    return dict(con.execute("select component, sub_score from kpi_integration_components where entity_id = ? "
                            "and quarter = ?", [entity_id, quarter]).fetchall())


# Hand-worked pillars in 2025-Q4
AG1_WORKFORCE = (88 + 85 + 50 + 100) / 4          # ratio 0.8, certified 90 %, supervision 10, billing 100 %
AG1_PRACTICE = 25 * (3 + 3 + 2 * 2 + 2.5 + 1) / 6  # item ratings 3, 3, 2 (w 2), 2.5, 1 -> 56.25
AG2_WORKFORCE = (17.5 + 56 + 100 + 0) / 4          # ratio 0.2, certified 80 %, supervision 4, billing 0
AG2_PRACTICE = 25 * (2 + 2 + 2 * 1 + 3) / 5        # 2025-Q3 assessment, FAM_YOUTH_PEERS left out -> 45
AG3_WORKFORCE = (0 + 0 + 100) / 3                  # no clinicians; certified 50 %, supervision 16, billing 100 %
AG5_WORKFORCE = (100 + 100 + 85 + 100) / 4         # ratio 1.0, certified 100 %, supervision 6.5, billing 100 %
AG5_PRACTICE = 25 * (4 + 3.5 + 2 * 3 + 3) / 5      # FAM_YOUTH_PEERS left out -> 82.5


# --- components and pillars ------------------------------------------------------------------------------

def test_higher_is_better_components_on_each_segment(con):
    assert scores(con, "AG0003")["pct_certified"] == 0.0                   # 50 % <= floor 60
    assert scores(con, "AG0002")["pct_certified"] == approx(56.0)          # 80 %: 70 x 20 / 25
    assert scores(con, "AG0001")["pct_certified"] == approx(85.0)          # 90 %: 70 + 30 x 5 / 10
    assert scores(con, "AG0005")["pct_certified"] == 100.0                 # 100 % >= stretch 95
    assert scores(con, "AG0002")["peer_to_clinician_ratio"] == approx(17.5)  # 0.2: 70 x 0.1 / 0.4
    assert scores(con, "AG0001")["peer_to_clinician_ratio"] == approx(88.0)  # 0.8: 70 + 30 x 0.3 / 0.5


def test_lower_is_better_components_are_mirrored(con):
    assert scores(con, "AG0003")["supervision_coverage"] == 0.0            # 16 peers per trained >= floor 15
    assert scores(con, "AG0001")["supervision_coverage"] == approx(50.0)   # 10: 70 x (15 - 10) / (15 - 8)
    assert scores(con, "AG0005")["supervision_coverage"] == approx(85.0)   # 6.5: 70 + 30 x 1.5 / 3
    assert scores(con, "AG0002")["supervision_coverage"] == 100.0          # 4 <= stretch 5


def test_supervision_scores_zero_without_a_trained_supervisor(con):
    row = one(con, "select * from kpi_integration_components where entity_id = 'AG0002' and quarter = ? "
                   "and component = 'supervision_coverage'", [Q3])
    assert (row["component_value"], row["sub_score"]) == (None, 0.0)       # 4 peers, 0 trained


def test_component_rows_carry_the_scale_and_band(con):
    row = one(con, "select * from kpi_integration_components where entity_id = 'AG0001' and quarter = ? "
                   "and component = 'pct_certified'", [Q4])
    assert (row["pillar"], row["direction"], row["floor_value"], row["target_value"], row["stretch_value"],
            row["contractual"], row["band"]) == ("workforce", "higher", 60, 85, 95, True, "green")
    # AG0002 80 % certified: from the midpoint 72.5 to the target 85 -> amber; supervision 16 -> red
    assert one(con, "select band from kpi_integration_components where entity_id = 'AG0002' and quarter = ? "
                    "and component = 'pct_certified'", [Q4])["band"] == "amber"
    assert one(con, "select band from kpi_integration_components where entity_id = 'AG0003' and quarter = ? "
                    "and component = 'supervision_coverage'", [Q4])["band"] == "red"
    practice_row = one(con, "select * from kpi_integration_components where entity_id = 'AG0001' and quarter = ? "
                            "and component = 'practice'", [Q4])
    assert practice_row["pillar"] == "practice"
    assert practice_row["component_value"] == practice_row["sub_score"] == approx(AG1_PRACTICE)
    assert practice_row["band"] == "amber"                                 # 56.25 between 50 and 75


def test_pillars_weighted_into_the_index(con):
    a1 = index_row(con, "agency", "AG0001")
    assert a1["workforce_score"] == approx(AG1_WORKFORCE)                  # 80.75
    assert a1["practice_score"] == approx(AG1_PRACTICE)                    # 56.25
    assert a1["index_score"] == approx(0.6 * AG1_WORKFORCE + 0.4 * AG1_PRACTICE)  # 70.95
    assert (a1["index_basis"], a1["practice_quarter"]) == ("workforce and practice", Q4)
    assert (a1["stage"], a1["stage_order"]) == ("Integrated", 3)
    assert a1["components_scored_count"] == 4                              # retention: no cohort
    a5 = index_row(con, "agency", "AG0005")
    assert a5["index_score"] == approx(0.6 * AG5_WORKFORCE + 0.4 * AG5_PRACTICE)  # 90.75


def test_practice_window_uses_the_quarter_before_but_not_two_before(con):
    a2 = index_row(con, "agency", "AG0002")                                # assessed in 2025-Q3 (q - 1)
    assert (a2["practice_score"], a2["practice_quarter"]) == (approx(AG2_PRACTICE), Q3)
    assert a2["index_score"] == approx(0.6 * AG2_WORKFORCE + 0.4 * AG2_PRACTICE)  # 44.03
    assert a2["stage"] == "Developing"
    a3_q3 = index_row(con, "agency", "AG0003", Q3)                         # assessed in 2025-Q2 (q - 1)
    assert a3_q3["practice_score"] == approx(50.0)                         # every item 2, FAM_YOUTH left out
    assert a3_q3["index_score"] == approx(0.4 * 50 / 1.0)                  # workforce 0 (supervision, billing)
    a3 = index_row(con, "agency", "AG0003")                                # 2025-Q2 is q - 2: not used
    assert (a3["practice_score"], a3["index_basis"]) == (None, "workforce only")
    assert a3["index_score"] == approx(AG3_WORKFORCE)
    assert a3["stage"] == "Emerging"


def test_family_and_youth_item_left_out_for_an_agency_not_serving_children(con):
    # counted, AG0002's 0 on FAM_YOUTH_PEERS would give 25 x 9 / 6 = 37.5
    assert index_row(con, "agency", "AG0002")["practice_score"] == approx(45.0)
    # AG0001 serves children: its FAM_YOUTH_PEERS rating (1) counts
    assert index_row(con, "agency", "AG0001")["practice_score"] == approx(25 * 13.5 / 6)


def test_no_peer_workforce_is_its_own_stage(con):
    a4 = index_row(con, "agency", "AG0004")
    assert (a4["stage"], a4["stage_order"]) == ("No peer workforce", 0)
    assert a4["index_score"] is None and a4["workforce_score"] is None and a4["index_basis"] is None


def test_region_and_state_pool_practice_rows(con):
    r1 = index_row(con, "region", "R1")
    # AG0001's 2025-Q4 rows (weights 6, ratings 13.5) and AG0002's 2025-Q3 rows (5, 9): 25 x 22.5 / 11
    assert r1["practice_score"] == approx(25 * 22.5 / 11)
    assert r1["practice_quarter"] == Q4
    # R1 workforce: ratio 12 / 30 = 0.4 -> 52.5; certified 13 / 15 -> 75; supervision 14 / 2 = 7 -> 80;
    # billing 8 of 12 FTE paid (66.7 %) -> 46.67
    workforce = (52.5 + 75 + 80 + 70 * (200 / 3 - 40) / 40) / 4
    assert r1["workforce_score"] == approx(workforce)
    assert r1["index_score"] == approx(0.6 * workforce + 0.4 * 25 * 22.5 / 11)
    # R2: AG0003's 2025-Q2 assessment is outside the window; AG0005 alone
    assert index_row(con, "region", "R2")["practice_score"] == approx(AG5_PRACTICE)
    # state: 25 x (13.5 + 9 + 16.5) / (6 + 5 + 5)
    assert index_row(con, "state", "STATE")["practice_score"] == approx(25 * 39 / 16)


def test_stage_thresholds_are_read_from_targets(con):
    con.execute("begin")
    try:
        con.execute("update targets set target = 71 where component = 'stage_integrated'")
        metrics.refresh(con)
        assert index_row(con, "agency", "AG0001")["stage"] == "Developing"      # 70.95 < 71
        con.execute("update targets set target = 45 where component = 'stage_developing'")
        metrics.refresh(con)
        assert index_row(con, "agency", "AG0002")["stage"] == "Emerging"        # 44.03 < 45
    finally:
        con.execute("rollback")
    assert index_row(con, "agency", "AG0001")["stage"] == "Integrated"


# --- practice domains ------------------------------------------------------------------------------------

def domain(con, level, entity_id, name, quarter=Q4):
    return one(con, "select * from kpi_practice_domains where level = ? and entity_id = ? and domain = ? and "
                    "quarter = ?", [level, entity_id, name, quarter])


def test_domain_ratings_and_peer_voice_gap(con):
    lead = domain(con, "agency", "AG0001", "LEADERSHIP")
    # LEAD_CHAMPION 4 / 2 (5 peers), LEAD_FUNDING 3 / no peer rating
    assert (lead["items_count"], lead["leadership_rating"], lead["peers_rating"]) == (2, 3.5, 2.0)
    assert lead["combined_score"] == approx(25 * (3 + 3) / 2)
    assert lead["peer_voice_gap"] == approx(2.0)                          # over LEAD_CHAMPION only
    assert lead["peer_respondents_count"] == 5
    assert domain(con, "agency", "AG0001", "CULTURE_INCLUSION")["peer_voice_gap"] == approx(3.0)
    assert domain(con, "agency", "AG0002", "LEADERSHIP")["peers_rating"] is None
    assert domain(con, "agency", "AG0001", "ALL")["combined_score"] == approx(AG1_PRACTICE)


def test_domains_pooled_for_the_state(con):
    st = domain(con, "state", "STATE", "ALL")
    assert (st["agencies_assessed_count"], st["items_count"]) == (3, 5 + 4 + 4)
    # leadership: AG0001 4 + 3 + 2 x 2 + 4 + 1 = 16, AG0002 2 + 2 + 2 x 1 + 3 = 9, AG0005 4 + 4 + 2 x 3 + 4 = 18
    assert st["leadership_rating"] == approx(43 / 16)
    # peers: AG0001 2 + 2 x 2 + 1 + 1 = 8 (weights 5), AG0005 4 + 3 + 2 x 3 + 2 = 15 (weights 5)
    assert st["peers_rating"] == approx(23 / 10)
    # leadership on the same items: AG0001 4 + 2 x 2 + 4 + 1 = 13, AG0005 18 -> (31 - 23) / 10
    assert st["peer_voice_gap"] == approx(0.8)
    assert st["combined_score"] == approx(25 * 39 / 16)
    assert (st["peer_respondents_count"], st["agencies_with_peer_rating_count"]) == (5 + 0 + 8, 2)
    assert domain(con, "region", "R2", "ALL", Q3)["agencies_assessed_count"] == 1   # AG0003 (2025-Q2)


# --- action plans ----------------------------------------------------------------------------------------

def test_action_plans_overdue_against_the_as_of_date(con):
    found = {(r["agency_id"], r["quarter"], r["practice_code"]): r for r in rows(
        con, "select * from kpi_action_plans")}
    assert set(found) == {("AG0001", Q4, "LEAD_CHAMPION"), ("AG0001", Q4, "SUP_TRAINED"),
                          ("AG0001", Q4, "CULT_INCLUSION"), ("AG0001", Q2, "SUP_TRAINED"),
                          ("AG0002", Q3, "LEAD_FUNDING"), ("AG0003", Q2, "CULT_INCLUSION")}

    def flags(key):
        r = found[key]
        return r["is_latest"], r["is_open"], r["is_overdue"], r["quarters_overdue"]

    assert flags(("AG0001", Q4, "LEAD_CHAMPION")) == (True, False, False, 0)   # DONE
    assert flags(("AG0001", Q4, "SUP_TRAINED")) == (True, True, False, 0)      # due 2026-Q1, not yet ended
    assert flags(("AG0001", Q4, "CULT_INCLUSION")) == (True, True, True, 1)    # 2025-Q4 ended 2025-12-31
    assert flags(("AG0001", Q2, "SUP_TRAINED")) == (False, True, True, 2)      # superseded assessment
    assert flags(("AG0002", Q3, "LEAD_FUNDING")) == (True, True, True, 2)      # due 2025-Q3
    assert flags(("AG0003", Q2, "CULT_INCLUSION")) == (True, True, True, 3)    # due 2025-Q2
    assert found[("AG0002", Q3, "LEAD_FUNDING")]["domain"] == "LEADERSHIP"
    con.execute("begin")
    try:
        warehouse.set_setting(con, "as_of", "2025-12-31")                  # the last day of 2025-Q4
        assert not one(con, "select is_overdue from kpi_action_plans where agency_id = 'AG0001' and quarter = ? "
                            "and practice_code = 'CULT_INCLUSION'", [Q4])["is_overdue"]
    finally:
        con.execute("rollback")


def test_action_plan_status_counts(con):
    def status(level, entity_id, quarter, name="ALL"):
        r = one(con, "select * from kpi_action_plan_status where level = ? and entity_id = ? and quarter = ? "
                     "and domain = ?", [level, entity_id, quarter, name])
        return (r["agencies_assessed_count"], r["actions_open_count"], r["actions_overdue_count"],
                r["actions_done_count"], r["agencies_with_open_actions_count"])

    # 2025-Q4, latest assessments: AG0001 Q4 (2 open, CULT_INCLUSION overdue, 1 done), AG0002 Q3 (1 overdue),
    # AG0003 Q2 (1 overdue), AG0005 Q4 (none)
    assert status("state", "STATE", Q4) == (4, 4, 3, 1, 3)
    assert status("region", "R1", Q4) == (2, 3, 2, 1, 2)
    assert status("agency", "AG0001", Q4, "SUPERVISION") == (1, 1, 0, 0, 1)
    # 2025-Q3: AG0001's Q2 action due 2025-Q3 is overdue once the quarter closed; so are AG0002's and AG0003's
    assert status("state", "STATE", Q3) == (3, 3, 3, 0, 3)
    # 2025-Q2: only AG0003's action (due 2025-Q2) is overdue; AG0001's is due next quarter
    assert status("state", "STATE", Q2) == (2, 2, 1, 0, 2)


# --- stage transitions -----------------------------------------------------------------------------------

def test_stage_transitions_against_four_quarters_before(con):
    # 2024-Q4: AG0001 ratio 0.8 -> 88, supervision 10 -> 50, billing 0 -> (88 + 50 + 0) / 3 = 46 Developing;
    # AG0002 (17.5 + 100 + 0) / 3 = 39.2 Emerging; AG0003 supervision 8 -> 70, billing 100 -> 85 Integrated;
    # AG0004 No peer workforce. AG0005 has no 2024-Q4: no transition.
    assert index_row(con, "agency", "AG0001", Y0)["index_score"] == approx(46.0)
    agency = {r["entity_id"]: (r["from_stage"], r["to_stage"], r["direction"], r["agencies_count"]) for r in rows(
        con, "select * from kpi_stage_transitions where level = 'agency' and quarter = ?", [Q4])}
    assert agency == {"AG0001": ("Developing", "Integrated", "up", 1),
                      "AG0002": ("Emerging", "Developing", "up", 1),
                      "AG0003": ("Integrated", "Emerging", "down", 1),
                      "AG0004": ("No peer workforce", "No peer workforce", "same", 1)}
    r2 = {(r["from_stage"], r["to_stage"]): r["agencies_count"] for r in rows(
        con, "select * from kpi_stage_transitions where level = 'region' and entity_id = 'R2' and quarter = ?",
        [Q4])}
    assert r2 == {("Integrated", "Emerging"): 1, ("No peer workforce", "No peer workforce"): 1}
    by_direction = dict(con.execute("select direction, sum(agencies_count) from kpi_stage_transitions "
                                    "where level = 'state' and quarter = ? group by direction", [Q4]).fetchall())
    assert by_direction == {"up": 2, "down": 1, "same": 1}
    assert one(con, "select from_quarter from kpi_stage_transitions where entity_id = 'AG0001'")["from_quarter"] == Y0


def test_contracts_shape_the_fixture_tables():
    assert "practice_code" in REPORTS["practices"].names
    assert "applies_to" in REFERENCE["integration_practices"].names
