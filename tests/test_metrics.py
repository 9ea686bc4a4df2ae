"""The kpi_* views against numbers worked out by hand on a tiny fixture warehouse.

Fixture (all in 2025-Q4 unless said otherwise):

  regions   R1 North 1,000,000 people; R2 South 500,000 people
  agencies  AG0001 CMHC (R1), AG0002 RCO (R1), AG0003 SUD_TREATMENT (R2), AG0004 PEER_RUN (R2)
  targets   floor / target / stretch (weight): peer_to_clinician_ratio 0.1 / 0.5 / 1.0 (1), pct_certified
            60 / 85 / 95 (2), supervision_coverage (lower is better) 15 / 8 / 5 (1), retention_12m 45 / 70 / 85
            (1), billing_sustainability 40 / 80 / 95 (1); pillars workforce and practice 0.5 each; stages
            Developing from 40, Integrated from 70. No practices rows: every index is the workforce pillar.

  headcount 2025-Q4  peers hc / FTE / vacancies, trained supervisors, clinician FTE
            AG0001  MH 6 / 5.0 / 2 + SUD 4 / 3.0 / 0  -> 10 / 8.0 / 2, trained 1, clinician 16.0
            AG0002  SUD 5 / 4.0 / 1                     -> 5 / 4.0 / 1,   trained 1, clinician 1.0
            AG0003  SUD 8 / 8.0 / 3 + FORENSIC 2 / 1.0 / 0 -> 10 / 9.0 / 3, trained 0, clinician 10.0
            AG0004  MH 3 / 2.0 / 0                      -> 3 / 2.0 / 0,   no supervisor, no clinician
  AG0001 earlier peer headcount: 2024-Q4 20, 2025-Q1 8, Q2 10, Q3 12.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest

from pipelines import metrics, targets, warehouse
from pipelines.contracts import PEER_ROLES, REFERENCE, REPORTS

D = dt.date.fromisoformat
Q4 = "2025-Q4"


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    """Insert dicts into a fact table (missing columns are null)."""
    names = ["submission_id", "source_row"] + REPORTS[table].names
    values = [[1, i + 2] + [row.get(n) for n in REPORTS[table].names] for i, row in enumerate(rows)]
    con.executemany(f"insert into {table} ({', '.join(names)}) values ({', '.join('?' * len(names))})", values)


def hc(agency, quarter, role, headcount, fulltime, fte, vacancies, trained=None):
    return dict(agency_id=agency, quarter=quarter, role=role, headcount=headcount, headcount_fulltime=fulltime,
                fte=fte, vacancies=vacancies, trained_peer_supervisors=trained, primary_funding="MEDICAID_MCO")


def cert(agency, quarter, peer, status, expiration="2027-06-30", role="PEER_SPECIALIST_MH"):
    return dict(agency_id=agency, quarter=quarter, peer_id=peer, role=role, credential_code="CPS", status=status,
                issue_date=D("2023-06-30"), expiration_date=D(expiration) if expiration else None,
                training_hours=40, supervised_hours=500, ce_hours_cycle=10)


def bill(agency, quarter, payer, modifier, billed, paid, denied, amount_paid, beneficiaries):
    return dict(agency_id=agency, quarter=quarter, payer_type=payer, payer_id=payer + "-1", hcpcs="H0038",
                modifier=modifier, claims_submitted=billed // 4, claims_paid=paid // 4, claims_denied=denied // 4,
                units_billed=billed, units_paid=paid, units_denied=denied, amount_billed=billed * 20.0,
                amount_paid=amount_paid, unique_beneficiaries=beneficiaries)


def event(agency, quarter, peer, kind, date, hire, band="18-20.99", reason=None):
    return dict(agency_id=agency, quarter=quarter, peer_id=peer, event=kind, event_date=D(date),
                hire_date=D(hire), employment_type="FT", hourly_wage_band=band,
                separation_type="VOLUNTARY" if kind == "SEPARATION" else None,
                separation_reason=reason)


def load_fixture(con: duckdb.DuckDBPyConnection) -> None:
    for table in REFERENCE:
        con.execute(f"delete from {table}")
    con.execute("insert into regions values ('R1', 'North', 1000000, 10.0), ('R2', 'South', 500000, 60.0)")
    con.execute("""insert into agencies (agency_id, name, region_id, local_authority, agency_type, ownership,
        medicaid_enrolled, serves_children, active_from) values
        ('AG0001', 'North CMHC', 'R1', 'LA1', 'CMHC', 'public', true, true, '2020-01-01'),
        ('AG0002', 'North Recovery Community', 'R1', 'LA1', 'RCO', 'nonprofit', false, false, '2020-01-01'),
        ('AG0003', 'South SUD Treatment', 'R2', 'LA2', 'SUD_TREATMENT', 'forprofit', true, false, '2020-01-01'),
        ('AG0004', 'South Peer Run', 'R2', 'LA2', 'PEER_RUN', 'nonprofit', true, false, '2020-01-01')""")
    con.execute("""insert into targets (component, label, pillar, metric, direction, floor, target, stretch, weight,
        contractual) values
        ('peer_to_clinician_ratio', 'Peer FTE per clinician FTE', 'workforce', 'peer_to_clinician_ratio', 'higher',
         0.1, 0.5, 1.0, 1, false),
        ('pct_certified', 'Peers certified', 'workforce', 'certified_pct', 'higher', 60, 85, 95, 2, true),
        ('supervision_coverage', 'Peers per trained supervisor', 'workforce', 'peers_per_trained_supervisor',
         'lower', 15, 8, 5, 1, false),
        ('retention_12m', '12-month retention', 'workforce', 'retention_12m_pct', 'higher', 45, 70, 85, 1, true),
        ('billing_sustainability', 'Peer FTE at billing agencies', 'workforce', 'billing_sustainability_pct',
         'higher', 40, 80, 95, 1, true),
        ('workforce', 'Workforce pillar', 'index', 'workforce_score', 'higher', 0, 70, 100, 0.5, false),
        ('practice', 'Practice pillar', 'index', 'practice_score', 'higher', 25, 75, 100, 0.5, false),
        ('stage_developing', 'Developing from', 'stage', null, null, null, 40, null, null, false),
        ('stage_integrated', 'Integrated from', 'stage', null, null, null, 70, null, null, false)""")
    con.execute("""insert into billing_codes values
        ('H0038', null, 'Peer services, individual', 15, 20.0, 16, 'individual', '2020-01-01', null),
        ('H0038', 'HQ', 'Peer services, group', 15, 5.0, 16, 'group', '2020-01-01', null)""")

    insert(con, "headcount", [
        hc("AG0001", "2024-Q4", "PEER_SPECIALIST_MH", 20, 10, 16.0, 0),
        hc("AG0001", "2025-Q1", "PEER_SPECIALIST_MH", 8, 4, 6.0, 0),
        hc("AG0001", "2025-Q2", "PEER_SPECIALIST_MH", 10, 5, 8.0, 0),
        hc("AG0001", "2025-Q3", "PEER_SPECIALIST_MH", 12, 6, 10.0, 0),
        hc("AG0001", Q4, "PEER_SPECIALIST_MH", 6, 4, 5.0, 2),
        hc("AG0001", Q4, "PEER_RECOVERY_SUD", 4, 2, 3.0, 0),
        hc("AG0001", Q4, "PEER_SUPERVISOR", 1, 1, 1.0, 0, trained=1),
        hc("AG0001", Q4, "CLINICAL_LICENSED", 20, 18, 16.0, 4),
        hc("AG0002", Q4, "PEER_RECOVERY_SUD", 5, 3, 4.0, 1),
        hc("AG0002", Q4, "PEER_SUPERVISOR", 1, 1, 1.0, 0, trained=1),
        hc("AG0002", Q4, "CLINICAL_LICENSED", 1, 1, 1.0, 0),
        hc("AG0003", Q4, "PEER_RECOVERY_SUD", 8, 8, 8.0, 3),
        hc("AG0003", Q4, "FORENSIC_PEER", 2, 0, 1.0, 0),
        hc("AG0003", Q4, "PEER_SUPERVISOR", 1, 1, 1.0, 0, trained=0),
        hc("AG0003", Q4, "CLINICAL_LICENSED", 10, 10, 10.0, 0),
        hc("AG0004", Q4, "PEER_SPECIALIST_MH", 3, 1, 2.0, 0),
    ])

    certs = [
        # AG0001: 10 peers, 8 CERTIFIED_ACTIVE -> 80 %; plus a certified supervisor (not a peer)
        cert("AG0001", Q4, "P01", "CERTIFIED_ACTIVE", "2026-01-15"),   # as_of + 0 days: expiring
        cert("AG0001", Q4, "P02", "CERTIFIED_ACTIVE", "2026-04-15"),   # as_of + 90 days: expiring
        cert("AG0001", Q4, "P03", "CERTIFIED_ACTIVE", "2026-04-16"),   # as_of + 91 days: not
        *[cert("AG0001", Q4, f"P0{i}", "CERTIFIED_ACTIVE", role="PEER_RECOVERY_SUD") for i in range(4, 9)],
        cert("AG0001", Q4, "P09", "PROVISIONAL"),
        cert("AG0001", Q4, "P10", "LAPSED", "2025-06-30"),
        cert("AG0001", Q4, "S01", "CERTIFIED_ACTIVE", "2026-02-01", role="PEER_SUPERVISOR"),  # expiring
        # AG0001 2025-Q3: not its latest quarter, so P99 is not on the action list
        cert("AG0001", "2025-Q3", "P01", "CERTIFIED_ACTIVE", "2026-01-15"),
        cert("AG0001", "2025-Q3", "P99", "CERTIFIED_ACTIVE", "2026-02-01"),
        # AG0002: 5 of 5 -> 100 %
        *[cert("AG0002", Q4, f"Q0{i}", "CERTIFIED_ACTIVE", role="PEER_RECOVERY_SUD") for i in range(1, 6)],
        # AG0003: 7 active, 2 in training, 1 grace (expiring date but not active) -> 70 %
        *[cert("AG0003", Q4, f"R0{i}", "CERTIFIED_ACTIVE", role="PEER_RECOVERY_SUD") for i in range(1, 8)],
        cert("AG0003", Q4, "R08", "IN_TRAINING", None, role="PEER_RECOVERY_SUD"),
        cert("AG0003", Q4, "R09", "IN_TRAINING", None, role="FORENSIC_PEER"),
        cert("AG0003", Q4, "R10", "EXPIRED_GRACE", "2026-01-20", role="FORENSIC_PEER"),
        # AG0004: 1 active, 2 in training -> 33.3 %
        cert("AG0004", Q4, "T01", "CERTIFIED_ACTIVE"),
        cert("AG0004", Q4, "T02", "IN_TRAINING", None),
        cert("AG0004", Q4, "T03", "IN_TRAINING", None),
    ]
    insert(con, "certification", certs)

    insert(con, "billing", [
        bill("AG0001", Q4, "MCO", None, 1000, 850, 100, 17000.0, 60),
        bill("AG0001", Q4, "MCO", "HQ", 200, 180, 20, 900.0, 25),
        # AG0002 bills nothing
        bill("AG0003", Q4, "FFS", None, 900, 600, 300, 10800.0, 50),
        bill("AG0004", Q4, "FFS", None, 100, 0, 100, 0.0, 10),      # billed, all denied: no paid units
    ])

    insert(con, "retention", [
        # AG0001 hires in 2024 (the 12-month cohort of 2025-Q4)
        event("AG0001", "2024-Q1", "H1", "HIRE", "2024-02-01", "2024-02-01", "18-20.99"),
        event("AG0001", "2024-Q2", "H2", "HIRE", "2024-05-10", "2024-05-10", "15-17.99"),
        event("AG0001", "2024-Q3", "H3", "HIRE", "2024-08-20", "2024-08-20", "15-17.99"),
        event("AG0001", "2024-Q4", "H4", "HIRE", "2024-11-05", "2024-11-05", "21-24.99"),
        # AG0001 separations
        event("AG0001", "2024-Q4", "P82", "SEPARATION", "2024-10-15", "2020-01-01", "<15", "PAY"),
        event("AG0001", "2024-Q4", "P83", "SEPARATION", "2024-11-15", "2020-01-01", "<15", "PAY"),
        event("AG0001", "2025-Q1", "H2", "SEPARATION", "2025-03-01", "2024-05-10", "15-17.99", "BURNOUT"),
        event("AG0001", "2025-Q3", "P80", "SEPARATION", "2025-08-01", "2022-01-01", "<15", "PAY"),
        event("AG0001", "2025-Q3", "H3", "SEPARATION", "2025-09-15", "2024-08-20", "15-17.99", "PAY"),
        event("AG0001", Q4, "P81", "SEPARATION", "2025-11-10", "2023-06-01", "18-20.99", "ROLE_DRIFT"),
        # AG0002 hire in 2025-Q4
        event("AG0002", Q4, "P50", "HIRE", "2025-10-01", "2025-10-01", "18-20.99"),
        # AG0003
        event("AG0003", "2024-Q1", "G1", "HIRE", "2024-03-01", "2024-03-01", "15-17.99"),
        event("AG0003", "2024-Q2", "G2", "HIRE", "2024-06-01", "2024-06-01", "15-17.99"),
        event("AG0003", "2024-Q4", "G1", "SEPARATION", "2024-12-01", "2024-03-01", "15-17.99", "OWN_HEALTH"),
        event("AG0003", Q4, "P90", "SEPARATION", "2025-10-20", "2021-01-01", "<15", "PAY"),
    ])
    warehouse.set_setting(con, "as_of", "2026-01-15")
    metrics.refresh(con)  # facts were inserted directly, not through a load


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    connection = warehouse.connect(tmp_path_factory.mktemp("metrics") / "w.duckdb")
    warehouse.init(connection)
    load_fixture(connection)
    yield connection
    connection.close()


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> dict:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    assert len(rows) == 1, f"expected one row, got {len(rows)}: {sql}"
    return rows[0]


def agency(con, agency_id, quarter=Q4):
    return one(con, "select * from kpi_agency_quarter where agency_id = ? and quarter = ?", [agency_id, quarter])


def region(con, region_id, quarter=Q4):
    return one(con, "select * from kpi_region_quarter where region_id = ? and quarter = ?", [region_id, quarter])


def state(con, quarter=Q4):
    return one(con, "select * from kpi_state_quarter where quarter = ?", [quarter])


def index_row(con, level, entity_id, quarter=Q4):
    return one(con, "select * from kpi_integration_index where level = ? and entity_id = ? and quarter = ?",
               [level, entity_id, quarter])


approx = pytest.approx


# --- workforce -------------------------------------------------------------------------------------------

def test_peer_fte_per_100k(con):
    assert region(con, "R1")["peer_fte_per_100k"] == approx(1.2)        # (8 + 4) / 1,000,000 x 100,000
    assert region(con, "R2")["peer_fte_per_100k"] == approx(2.2)        # (9 + 2) / 500,000 x 100,000
    assert state(con)["peer_fte_per_100k"] == approx(23 / 15)           # 23 / 1,500,000 x 100,000 = 1.533
    assert state(con)["population_count"] == 1_500_000


def test_peer_headcount_and_fte(con):
    a1 = agency(con, "AG0001")
    assert (a1["peer_headcount_count"], a1["peer_fte"]) == (10, 8.0)   # 6 + 4 (supervisor and clinicians excluded)
    assert a1["peer_fulltime_pct"] == approx(60.0)                      # (4 + 2) / 10
    assert state(con)["peer_headcount_count"] == 28                     # 10 + 5 + 10 + 3


def test_peer_to_clinician_ratio(con):
    assert agency(con, "AG0001")["peer_to_clinician_ratio"] == approx(0.5)  # 8 / 16
    assert agency(con, "AG0002")["peer_to_clinician_ratio"] == approx(4.0)  # 4 / 1
    assert agency(con, "AG0004")["peer_to_clinician_ratio"] is None         # no clinicians: not applicable


def test_region_and_state_are_ratios_of_sums(con):
    # R1 = (8 + 4) / (16 + 1) = 0.706, not the mean of the agency ratios (0.5 + 4.0) / 2 = 2.25
    assert region(con, "R1")["peer_to_clinician_ratio"] == approx(12 / 17)
    # R1 % certified = (8 + 5) / (10 + 5) = 86.7 %, not (80 + 100) / 2 = 90 %
    assert region(con, "R1")["certified_pct"] == approx(100 * 13 / 15)
    # state = (8 + 4 + 9 + 2) / (16 + 1 + 10) = 23 / 27
    assert state(con)["peer_to_clinician_ratio"] == approx(23 / 27)
    # state 12-month retention = (3 + 1) / (4 + 2) = 66.7 %, not (75 + 50) / 2 = 62.5 %
    assert state(con)["retention_12m_pct"] == approx(100 * 4 / 6)


def test_vacancy_rate_peer_roles(con):
    assert agency(con, "AG0001")["peer_vacancy_rate_pct"] == approx(100 * 2 / 12)  # 2 / (10 + 2); clinician 4 ignored
    assert agency(con, "AG0003")["peer_vacancy_rate_pct"] == approx(100 * 3 / 13)  # 3 / (10 + 3)
    assert region(con, "R2")["peer_vacancy_rate_pct"] == approx(100 * 3 / 16)      # (3 + 0) / (13 + 3)
    assert state(con)["peer_vacancy_rate_pct"] == approx(100 * 6 / 34)             # (2+1+3+0) / (28 + 6)


def test_supervision_coverage(con):
    assert agency(con, "AG0001")["peers_per_trained_supervisor"] == approx(10.0)  # 10 / 1
    assert agency(con, "AG0002")["peers_per_trained_supervisor"] == approx(5.0)   # 5 / 1
    assert agency(con, "AG0003")["peers_per_trained_supervisor"] is None          # 10 / 0
    assert region(con, "R1")["peers_per_trained_supervisor"] == approx(7.5)       # 15 / 2
    assert state(con)["peers_per_trained_supervisor"] == approx(14.0)             # 28 / 2


def test_workforce_by_role_and_setting(con):
    row = one(con, """select * from kpi_workforce_by_role where level = 'state' and agency_type = 'ALL'
                      and role = 'PEER_RECOVERY_SUD' and quarter = ?""", [Q4])
    assert (row["headcount_count"], row["fte"], row["vacancy_count"]) == (17, 15.0, 4)  # 4+5+8, 3+4+8, 0+1+3
    assert row["vacancy_rate_pct"] == approx(100 * 4 / 21)
    rco = one(con, """select * from kpi_workforce_by_role where level = 'state' and agency_type = 'RCO'
                      and role = 'PEER_RECOVERY_SUD' and quarter = ?""", [Q4])
    assert rco["headcount_count"] == 5


# --- certification ---------------------------------------------------------------------------------------

def test_pct_certified(con):
    assert agency(con, "AG0001")["certified_pct"] == approx(80.0)       # 8 / 10 (supervisor S01 excluded)
    assert agency(con, "AG0004")["certified_pct"] == approx(100 / 3)    # 1 / 3
    assert region(con, "R2")["certified_pct"] == approx(100 * 8 / 13)   # (7 + 1) / (10 + 3)
    assert state(con)["certified_pct"] == approx(75.0)                  # (8 + 5 + 7 + 1) / 28


def test_certification_status_mix(con):
    rows = con.sql("""select status, peer_count, status_share_pct from kpi_certification_status
                      where level = 'agency' and entity_id = 'AG0003' and quarter = '2025-Q4' and role = 'ALL'
                      order by status""").fetchall()
    assert rows == [("CERTIFIED_ACTIVE", 7, approx(70.0)), ("EXPIRED_GRACE", 1, approx(10.0)),
                    ("IN_TRAINING", 2, approx(20.0))]
    r2 = one(con, """select * from kpi_certification_status where level = 'region' and entity_id = 'R2'
                     and quarter = '2025-Q4' and role = 'ALL' and status = 'IN_TRAINING'""")
    assert (r2["peer_count"], r2["status_share_pct"]) == (4, approx(100 * 4 / 13))  # R08, R09, T02, T03


def test_expiring_certifications_in_90_days(con):
    rows = con.sql("""select agency_id, peer_id, quarter, days_to_expiry, as_of_date
                      from kpi_expiring_certifications order by agency_id, peer_id""").fetchall()
    as_of = dt.date(2026, 1, 15)
    # P01 expires on the as-of date, P02 90 days later (Jan 16 + Feb 28 + Mar 31 + Apr 15 = 90), S01 17 days;
    # P03 (91 days), P99 (AG0001's earlier quarter), R10 (grace, not active) are left out.
    assert rows == [("AG0001", "P01", Q4, 0, as_of), ("AG0001", "P02", Q4, 90, as_of),
                    ("AG0001", "S01", Q4, 17, as_of)]


# --- retention -------------------------------------------------------------------------------------------

def turnover(con, level, entity_id, quarter=Q4):
    return one(con, "select * from kpi_turnover where level = ? and entity_id = ? and quarter = ?",
               [level, entity_id, quarter])


def test_annualized_turnover_rolling_window(con):
    t = turnover(con, "agency", "AG0001")
    # window 2025-Q1..Q4 (2024-Q4 is 4 quarters back, outside): separations 1 + 0 + 2 + 1 = 4,
    # mean headcount (8 + 10 + 12 + 10) / 4 = 10 -> 4 / 10 x 4 / 4 = 40 %
    assert (t["window_quarters_count"], t["window_separations_count"]) == (4, 4)
    assert t["annualized_turnover_pct"] == approx(40.0)
    assert agency(con, "AG0001")["annualized_turnover_pct"] == approx(40.0)
    # 2025-Q1: window 2024-Q2..2025-Q1 has headcount in 2024-Q4 (20) and 2025-Q1 (8) only:
    # separations 2 + 1 = 3, mean headcount 14 -> 3 / 14 x 4 / 2 = 42.9 %
    t = turnover(con, "agency", "AG0001", "2025-Q1")
    assert t["window_quarters_count"] == 2
    assert t["annualized_turnover_pct"] == approx(100 * 3 / 14 * 2)
    # AG0003: one quarter with headcount (Q4, 10 peers), 1 separation -> 1 / 10 x 4 / 1 = 40 %;
    # its 2024-Q4 separation has no headcount report beside it and does not count
    assert turnover(con, "agency", "AG0003")["annualized_turnover_pct"] == approx(40.0)
    # R1 headcount Q1..Q4 = 8, 10, 12, 10 + 5 = 15 -> mean 11.25; separations 4 -> 35.6 %
    assert turnover(con, "region", "R1")["annualized_turnover_pct"] == approx(100 * 4 / 11.25)
    # R2: only Q4, headcount 10 + 3 = 13, 1 separation -> 1 / 13 x 4 = 30.8 %
    assert region(con, "R2")["annualized_turnover_pct"] == approx(100 * 4 / 13)
    # state: headcount 8, 10, 12, 28 -> mean 14.5; separations 4 + 1 = 5 -> 34.5 %
    assert state(con)["annualized_turnover_pct"] == approx(100 * 5 / 14.5)


def test_retention_12m(con):
    # 2025-Q4 cohort: hires in (2023-12-31, 2024-12-31]. AG0001 H1..H4; H2 left after 9 months (lost),
    # H3 left after 12 months 26 days (retained) -> 3 / 4 = 75 %
    a1 = agency(con, "AG0001")
    assert (a1["retention_cohort_hires_count"], a1["retained_12m_count"]) == (4, 3)
    assert a1["retention_12m_pct"] == approx(75.0)
    # 2025-Q3 cohort: hires in (2023-09-30, 2024-09-30] = H1, H2, H3 -> 2 / 3
    assert agency(con, "AG0001", "2025-Q3")["retention_12m_pct"] == approx(200 / 3)
    # AG0003: G1 left after 9 months, G2 stays -> 1 / 2
    assert agency(con, "AG0003")["retention_12m_pct"] == approx(50.0)
    # no hires in the cohort -> null
    assert agency(con, "AG0002")["retention_12m_pct"] is None
    assert region(con, "R1")["retention_12m_pct"] == approx(75.0)   # (3 + 0) / (4 + 0)
    assert region(con, "R2")["retention_12m_pct"] == approx(50.0)


def test_tenure_survival(con):
    curve = {r["tenure_month"]: r for r in con.sql(
        "select * from kpi_tenure_survival where level = 'state' order by tenure_month").pl().to_dicts()}
    # spells in months: H1 22 (censored at 2025-12-31), H2 9 (left), H3 12 (left), H4 13 (censored),
    # G1 9 (left), G2 18 (censored), P50 2 (censored)
    assert curve[9]["at_risk_count"] == 6 and curve[9]["separations_count"] == 2
    assert curve[9]["still_employed_pct"] == approx(100.0)
    assert curve[10]["still_employed_pct"] == approx(100 * 2 / 3)          # 1 - 2/6
    assert curve[12]["at_risk_count"] == 4
    assert curve[13]["still_employed_pct"] == approx(50.0)                 # 2/3 x (1 - 1/4)
    assert curve[0]["median_tenure_months"] == 13
    assert max(curve) == 23                                                # up to the longest spell + 1


def test_separation_reasons_pareto(con):
    rows = con.sql("""select separation_reason, reason_rank, separations_count, share_pct, cumulative_share_pct
                      from kpi_separation_reasons where level = 'state' and quarter = '2025-Q4'
                      order by reason_rank""").fetchall()
    # window 2025-Q1..Q4: PAY (P80, H3, P90), BURNOUT (H2), ROLE_DRIFT (P81); 2024-Q4 ones are outside
    assert rows == [("PAY", 1, 3, approx(60.0), approx(60.0)),
                    ("BURNOUT", 2, 1, approx(20.0), approx(80.0)),
                    ("ROLE_DRIFT", 3, 1, approx(20.0), approx(100.0))]


def test_wage_bands(con):
    rows = {r["hourly_wage_band"]: r for r in con.sql(
        "select * from kpi_wage_bands where level = 'state' and quarter = '2025-Q4'").pl().to_dicts()}
    # separations in the window by band: <15 P80, P90; 15-17.99 H2, H3; 18-20.99 P81. Hires: P50 (18-20.99)
    assert {b: r["separations_count"] for b, r in rows.items()} == {"<15": 2, "15-17.99": 2, "18-20.99": 1}
    assert rows["<15"]["share_of_separations_pct"] == approx(40.0)
    assert rows["18-20.99"]["share_of_hires_pct"] == approx(100.0)
    assert rows["<15"]["band_order"] == 1


# --- billing ---------------------------------------------------------------------------------------------

def test_denial_rate(con):
    assert agency(con, "AG0001")["denial_rate_pct"] == approx(100 * 120 / 1150)  # (100 + 20) / (1030 + 120)
    assert agency(con, "AG0003")["denial_rate_pct"] == approx(100 * 300 / 900)
    assert region(con, "R2")["denial_rate_pct"] == approx(40.0)                  # (300 + 100) / (600 + 400)
    assert state(con)["denial_rate_pct"] == approx(100 * 520 / 2150)             # 520 / (1630 + 520)
    assert agency(con, "AG0002")["denial_rate_pct"] is None                      # nothing adjudicated


def test_units_and_dollars_paid(con):
    a1 = agency(con, "AG0001")
    assert (a1["units_paid_count"], a1["amount_paid_usd"]) == (1030, 17900.0)  # 850 + 180; 17,000 + 900
    assert state(con)["amount_paid_usd"] == approx(28700.0)                     # 17,900 + 10,800


def test_group_share(con):
    assert agency(con, "AG0001")["group_share_pct"] == approx(100 * 200 / 1200)  # HQ units / all units billed
    assert state(con)["group_share_pct"] == approx(100 * 200 / 2200)


def test_units_and_beneficiaries_per_fte(con):
    a1 = agency(con, "AG0001")
    assert a1["units_billed_per_peer_fte"] == approx(150.0)          # 1,200 / 8
    assert a1["beneficiaries_per_peer_fte"] == approx(85 / 8)        # (60 + 25) / 8
    assert region(con, "R1")["units_billed_per_peer_fte"] == approx(100.0)           # 1,200 / (8 + 4)
    assert region(con, "R1")["units_billed_per_billing_peer_fte"] == approx(150.0)   # AG0002 bills nothing
    assert state(con)["units_billed_per_peer_fte"] == approx(2200 / 23)


def test_share_of_agencies_with_peers_that_bill_nothing(con):
    assert agency(con, "AG0002")["bills_nothing"] is True
    assert agency(con, "AG0004")["bills_nothing"] is False          # billed 100 units, all denied
    assert region(con, "R1")["peer_agencies_billing_nothing_pct"] == approx(50.0)  # AG0002 of 2
    assert region(con, "R2")["peer_agencies_billing_nothing_pct"] == approx(0.0)
    assert state(con)["peer_agencies_billing_nothing_pct"] == approx(25.0)         # 1 of 4


def test_billing_sustainability(con):
    assert agency(con, "AG0001")["billing_sustainability_pct"] == approx(100.0)
    assert agency(con, "AG0004")["billing_sustainability_pct"] == approx(0.0)       # no paid units
    assert region(con, "R1")["billing_sustainability_pct"] == approx(100 * 8 / 12)  # FTE of AG0001 / all
    assert state(con)["billing_sustainability_pct"] == approx(100 * 17 / 23)        # (8 + 9) / 23


def test_billing_codes(con):
    rows = {r["modifier"]: r for r in con.sql("""select * from kpi_billing_codes
              where level = 'state' and quarter = '2025-Q4'""").pl().to_dicts()}
    assert rows[""]["units_billed_count"] == 2000                    # 1,000 + 900 + 100
    assert rows[""]["denial_rate_pct"] == approx(100 * 500 / 1950)   # (100 + 300 + 100) / (1,450 + 500)
    assert rows["HQ"]["denial_rate_pct"] == approx(10.0)             # 20 / (180 + 20)
    assert rows["HQ"]["service_kind"] == "group"
    assert rows["HQ"]["share_of_units_billed_pct"] == approx(100 * 200 / 2200)


# --- integration index -----------------------------------------------------------------------------------

@pytest.fixture
def extended(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """The fixture plus: AG0003 billing in 2025-Q3 (100 of 1,000 units denied, 10%), an AG0002 billing pair
    that rises 5% -> 25% on only 80 units, and a GRANT-funded FAMILY_PEER at AG0004 (2.0 FTE)."""
    connection = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.init(connection)
    load_fixture(connection)
    insert(connection, "billing", [bill("AG0003", "2025-Q3", "FFS", None, 1000, 900, 100, 16200.0, 40),
                                   bill("AG0002", "2025-Q3", "FFS", None, 40, 38, 2, 700.0, 5),
                                   bill("AG0002", Q4, "FFS", None, 40, 30, 10, 550.0, 5)])
    insert(connection, "headcount", [{**hc("AG0004", Q4, "FAMILY_PEER", 2, 2, 2.0, 0), "primary_funding": "GRANT"}])
    metrics.refresh(connection)
    yield connection
    connection.close()


def test_denial_spikes(extended):
    rows = extended.sql("select agency_id, quarter, round(denial_rate_pct, 2), round(prior_denial_rate_pct, 2), "
                        "adjudicated_units_count, is_spike from kpi_denial_spikes order by all").fetchall()
    assert rows == [
        ("AG0001", Q4, 10.43, None, 1150, False),          # 120 / (1,030 + 120); no earlier quarter
        ("AG0002", "2025-Q3", 5.0, None, 40, False),
        ("AG0002", Q4, 25.0, 5.0, 40, False),              # +20 points but only 40 units adjudicated
        ("AG0003", "2025-Q3", 10.0, None, 1000, False),
        ("AG0003", Q4, 33.33, 10.0, 900, True),            # 300 / 900: >= 20% and +23.3 points
        ("AG0004", Q4, 100.0, None, 100, False),           # all denied, but nothing to compare with
    ]


def test_credential_mix(extended):
    rows = extended.sql("select level, entity_id, credential_code, peer_count, certified_active_count, share_pct "
                        "from kpi_credential_mix where quarter = ? order by level, entity_id", params=[Q4]).fetchall()
    # peer roles only: AG0001 P01-P10 (S01 is a supervisor), AG0002 5, AG0003 10, AG0004 3; every one CPS
    assert ("state", "STATE", "CPS", 28, 8 + 5 + 7 + 1, 100.0) in rows
    assert ("region", "R1", "CPS", 15, 13, 100.0) in rows
    assert ("agency", "AG0003", "CPS", 10, 7, 100.0) in rows


def test_funding_mix(extended):
    rows = dict(extended.sql("select primary_funding, round(share_of_peer_fte_pct, 2) from kpi_funding_mix "
                             "where level = 'state' and quarter = ?", params=[Q4]).fetchall())
    # peer FTE: AG0001 8.0, AG0002 4.0, AG0003 9.0, AG0004 2.0 (MCO) + 2.0 (GRANT) = 25.0
    assert rows == {"MEDICAID_MCO": 92.0, "GRANT": 8.0}
    r2 = dict(extended.sql("select primary_funding, peer_fte from kpi_funding_mix where level = 'region' and "
                           "entity_id = 'R2' and quarter = ?", params=[Q4]).fetchall())
    assert r2 == {"MEDICAID_MCO": 11.0, "GRANT": 2.0}


def scale(value, floor, target, stretch):
    """The sub-score scale worked by hand: 0 at the floor, 70 at the target, 100 at the stretch, linear between."""
    if (value - floor) * (target - floor) <= 0:
        return 0.0
    if (value - target) * (target - floor) < 0:
        return 70 * (value - floor) / (target - floor)
    if (value - stretch) * (target - floor) < 0:
        return 70 + 30 * (value - target) / (stretch - target)
    return 100.0


def test_integration_index_agency(con):
    a1 = index_row(con, "agency", "AG0001")
    # ratio 0.5 = target -> 70; certified 80 -> 70 x 20 / 25 = 56; supervision 10 (lower: 15 / 8 / 5)
    # -> 70 x 5 / 7 = 50; retention 75 -> 70 + 30 x 5 / 15 = 80; billing 100 -> 100 (at or beyond 95)
    # weights 1, 2, 1, 1, 1 -> (70 + 2 x 56 + 50 + 80 + 100) / 6 = 68.67; no practices: workforce only
    assert a1["peer_to_clinician_ratio_score"] == approx(70.0)
    assert a1["pct_certified_score"] == approx(56.0)
    assert a1["supervision_coverage_score"] == approx(50.0)
    assert a1["supervision_coverage_value"] == approx(10.0)
    assert a1["supervision_coverage_target"] == approx(8.0)
    assert a1["retention_12m_score"] == approx(80.0)
    assert a1["billing_sustainability_score"] == approx(100.0)
    assert a1["workforce_score"] == approx(412 / 6)
    assert a1["index_score"] == approx(412 / 6)
    assert (a1["practice_score"], a1["index_basis"]) == (None, "workforce only")
    assert (a1["stage"], a1["stage_order"]) == ("Developing", 2)
    assert a1["components_scored_count"] == 5

    a4 = index_row(con, "agency", "AG0004")
    # ratio: no clinicians -> left out; certified 33.3 <= floor 60 -> 0 (w 2); supervision: peers and no
    # trained supervisor -> 0; retention: no cohort -> left out; billing 0 -> 0. (0 + 0 + 0) / 4 = 0
    assert a4["peer_to_clinician_ratio_score"] is None
    assert a4["supervision_coverage_score"] == 0.0
    assert a4["components_scored_count"] == 3
    assert a4["index_score"] == approx(0.0)
    assert (a4["stage"], a4["stage_order"]) == ("Emerging", 1)

    a2 = index_row(con, "agency", "AG0002")
    # ratio 4 >= 1.0 -> 100; certified 100 -> 100; supervision 5 <= 5 -> 100; retention n/a; billing 0 -> 0
    # -> (100 + 200 + 100 + 0) / 5 = 80
    assert a2["index_score"] == approx(80.0)
    assert a2["stage"] == "Integrated"


def test_integration_index_region_and_state(con):
    r2 = index_row(con, "region", "R2")
    # ratio 11/10 = 1.1 -> 100; certified 61.54 -> 70 x 1.54 / 25 = 4.31 (w 2); supervision: 13 peers,
    # 0 trained -> 0; retention 50 -> 70 x 5 / 25 = 14; billing (9 FTE paid of 11) 81.8 -> 70 + 30 x 1.8 / 15
    expected = (100 + 2 * 70 * (800 / 13 - 60) / 25 + 0 + 14 + 70 + 30 * (900 / 11 - 80) / 15) / 6
    assert r2["index_score"] == approx(expected)
    assert r2["stage"] == "Emerging"
    assert r2["billing_sustainability_value"] == approx(100 * 9 / 11)

    r1 = index_row(con, "region", "R1")
    # ratio 12/17 = 0.706 -> 70 + 30 x 0.206 / 0.5 = 82.35; certified 86.7 -> 70 + 30 x 1.67 / 10 = 75;
    # supervision 7.5 -> 70 + 30 x 0.5 / 3 = 75; retention 75 -> 80; billing 66.7 -> 70 x 26.7 / 40 = 46.67
    billing = 70 * (200 / 3 - 40) / 40
    assert r1["billing_sustainability_score"] == approx(billing)
    assert r1["index_score"] == approx((70 + 30 * (12 / 17 - 0.5) / 0.5 + 2 * 75 + 75 + 80 + billing) / 6)
    assert r1["stage"] == "Integrated"                              # 434.0 / 6 = 72.3

    st = index_row(con, "state", "STATE")
    # ratio 23/27 = 0.85 -> 91.1; certified 75 -> 42; supervision 28/2 = 14 -> 70 x 1 / 7 = 10;
    # retention 66.7 -> 60.7; billing 73.9 -> 59.3
    expected = (scale(23 / 27, 0.1, 0.5, 1.0) + 2 * 42 + 10 + scale(200 / 3, 45, 70, 85)
                + scale(1700 / 23, 40, 80, 95)) / 6
    assert st["index_score"] == approx(expected)
    components = con.sql("""select component, pillar, weight, sub_score, band from kpi_integration_components
                            where level = 'state' and quarter = '2025-Q4' order by component_order""").fetchall()
    assert [c[0] for c in components] == ["peer_to_clinician_ratio", "pct_certified", "supervision_coverage",
                                          "retention_12m", "billing_sustainability", "practice"]
    assert components[1][2] == 2
    assert components[5][1:] == ("practice", 0.5, None, None)     # no assessment: no practice pillar
    # bands: certified 75 in [72.5, 85) amber; supervision 14 above the midpoint 11.5 (lower is better) red
    assert (components[1][4], components[2][4]) == ("amber", "red")


def test_missing_target_drops_the_component(con):
    con.execute("begin")
    try:
        con.execute("delete from targets where component = 'pct_certified'")
        metrics.refresh(con)
        a1 = index_row(con, "agency", "AG0001")
        assert a1["pct_certified_score"] is None
        assert a1["index_score"] == approx((70 + 50 + 80 + 100) / 4)
    finally:
        con.execute("rollback")


# --- structure -------------------------------------------------------------------------------------------

def test_every_registry_column_exists(con):
    columns = {(r[0], r[1]) for r in con.execute(
        "select table_name, column_name from information_schema.columns").fetchall()}
    for m in metrics.METRICS:
        for view in m.views:
            assert (view, m.column) in columns, f"{m.id}: {view}.{m.column} missing"
    ids = [m.id for m in metrics.METRICS]
    assert len(ids) == len(set(ids))


def test_views_match_sql_files():
    files = {p.stem for p in metrics.SQL_DIR.glob("*.sql")}
    assert files == {v.name for v in metrics.VIEWS}
    for v in metrics.VIEWS:
        sql = metrics.view_sql(v.name)
        assert re.search(rf"create or replace view {v.name} as", sql), v.name
        code = re.sub(r"--[^\n]*|'[^']*'", "", sql)          # lower-case SQL, comments and literals aside
        assert code == code.lower(), v.name
    assert list(metrics.view_descriptions()) == [v.name for v in metrics.VIEWS]


def test_kpi_views_hold_no_hugeint(con):
    types = con.execute("""select table_name, column_name from information_schema.columns
                           where data_type = 'HUGEINT' and list_contains(?, table_name)""",
                        [[v.name for v in metrics.VIEWS]]).fetchall()
    assert types == []


def test_materialized_views_hold_exactly_what_their_sql_computes(con):
    materialized = [v for v in metrics.VIEWS if v.materialized]
    assert {v.name for v in materialized} >= {"int_agency_quarter", "kpi_scorecard", "kpi_integration_index"}
    kinds = dict(con.execute("select table_name, 'table' from duckdb_tables()").fetchall())
    for v in materialized:
        assert kinds.get(v.name) == "table", v.name
        con.execute(metrics.view_sql(v.name).replace(f"create or replace view {v.name} as",
                                                     f"create or replace temp view check_{v.name} as", 1))
        stored, computed = (con.execute(f"select count(*) from {t}").fetchall()[0][0]
                            for t in (v.name, f"check_{v.name}"))
        differing = con.execute(f"select count(*) from (select * from {v.name} except all "
                                f"select * from check_{v.name})").fetchall()[0][0]
        assert stored == computed > 0 and differing == 0, v.name


def test_peer_roles_match_contracts(con):
    peers = [r[0] for r in con.execute("select role from dim_role where is_peer order by role_order").fetchall()]
    assert tuple(peers) == PEER_ROLES


def test_views_create_on_an_empty_warehouse_and_twice(tmp_path: Path):
    empty = warehouse.connect(tmp_path / "empty.duckdb")
    warehouse.init(empty)
    metrics.create_views(empty)                      # idempotent
    for v in metrics.VIEWS:
        empty.execute(f"select * from {v.name}").fetchall()
    assert empty.execute("select count(*) from kpi_state_quarter").fetchall() == [(0,)]
    empty.close()


def test_header_only_submission_counts_as_reported_zero(con):
    con.execute("begin")
    try:
        con.execute("""insert into submissions (agency_id, quarter, report, sha256, rows, status)
                       values ('AG0002', '2025-Q3', 'headcount', 'x', 0, 'accepted')""")
        metrics.refresh(con)
        row = agency(con, "AG0002", "2025-Q3")
        assert row["headcount_reported"] is True and row["peer_headcount_count"] == 0
        assert agency(con, "AG0001", "2025-Q3")["certification_reported"] is True
        assert agency(con, "AG0001", "2025-Q1")["certified_pct"] is None    # no certification report
    finally:
        con.execute("rollback")


def test_as_of_defaults_to_today(tmp_path: Path):
    c = warehouse.connect(tmp_path / "a.duckdb")
    warehouse.init(c)
    assert c.execute("select as_of_date, is_fixed from dim_as_of").fetchall() == [(dt.date.today(), False)]
    warehouse.set_setting(c, "as_of", "2026-03-01")
    assert c.execute("select as_of_date, is_fixed from dim_as_of").fetchall() == [(dt.date(2026, 3, 1), True)]
    c.close()


def test_format_value():
    assert metrics.metric("denial_rate_pct").format_value(12.345) == "12.3%"
    assert metrics.metric("amount_paid_usd").format_value(12345.6) == "$12,346"
    assert metrics.metric("peer_to_clinician_ratio").format_value(None) == "—"


def test_docs_match_registry():
    assert metrics.DOC_PATH.read_text(encoding="utf-8") == metrics.metrics_markdown(), (
        "docs/metrics.md is stale: run python -c 'from pipelines import metrics; metrics.write_docs()'")


def test_stage_thresholds_come_from_targets(con):
    for name in ("kpi_integration_index", "kpi_integration_components", "kpi_stage_transitions"):
        code = re.sub(r"--[^\n]*", "", metrics.view_sql(name))
        assert not re.search(r"(?<![\w.])(40|70)(?![\w.])", code), name
    assert targets.stages(targets.from_warehouse(con)) == [("Emerging", 0.0), ("Developing", 40.0),
                                                           ("Integrated", 70.0)]


def test_score_and_band_macros_match_python(con):
    for direction, scale_points in (("higher", (60, 85, 95)), ("lower", (15, 8, 5))):
        t = targets.Target("x", "X", "workforce", "x", direction, *scale_points, 1.0, False)
        for value in (0, 5, 6.5, 8, 10, 11.5, 12, 15, 20, 60, 70, 72.5, 85, 90, 95, 99):
            got = con.execute("select score_of(?, ?, ?, ?, ?), band_of(?, ?, ?, ?)",
                              [value, direction, *scale_points, value, direction, *scale_points[:2]]).fetchone()
            assert got == (approx(t.score(value)), t.band(value)), (direction, value)
