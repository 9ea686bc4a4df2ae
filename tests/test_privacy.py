"""Small-cell suppression: hand-computed frames, exact cells."""

from __future__ import annotations

import polars as pl

from dashboard.privacy import SMALLEST_SHOWN, SUPPRESSED, Rule, suppress

S = SUPPRESSED


def hidden_rows(result, column: str) -> list[int]:
    return [i for i, h in enumerate(result.mask[column].to_list()) if h]


def test_boundaries_zero_ten_eleven_null():
    # each row its own group, so only the 1-10 rule acts
    frame = pl.DataFrame({"row": [1, 2, 3, 4, 5, 6], "peers": [0, 1, 10, 11, None, 5]})
    result = suppress(frame, Rule(counts=("peers",), groups=("row",)))
    assert SMALLEST_SHOWN == 11
    assert result.mask["peers"].to_list() == [False, True, True, False, False, True]
    assert result.hidden == 3
    assert result.frame["peers"].to_list() == ["0", S, S, "11", None, S]
    assert result.frame["peers"].dtype == pl.String
    assert result.frame["row"].dtype == pl.Int64


def test_nothing_small_nothing_hidden_and_dtype_kept():
    frame = pl.DataFrame({"peers": [0, 11, 250, None]})
    result = suppress(frame, Rule(counts=("peers",)))
    assert result.hidden == 0
    assert result.frame.equals(frame)
    assert result.frame["peers"].dtype == pl.Int64


REGIONS = ["R1", "R2", "R3", "R4", "State"]


def test_complementary_partner_is_smallest_other_detail():
    frame = pl.DataFrame({"region": REGIONS, "peers": [40, 7, 25, 12, 84],
                          "is_state": [False, False, False, False, True]})
    result = suppress(frame, Rule(counts=("peers",), total="is_state"))
    assert result.frame["peers"].to_list() == ["40", S, "25", S, "84"]
    assert result.hidden == 2
    # the state total minus the shown regions now leaves two unknowns, not R2 alone
    details = result.frame["peers"].to_list()[:4]
    unknowns = details.count(S)
    remainder = int(result.frame["peers"][4]) - sum(int(v) for v in details if v != S)
    assert unknowns >= 2
    assert remainder == 19  # R2 + R4: (7, 12), (8, 11), ... all fit
    assert remainder != 7


def test_complementary_ignores_total_row_even_when_smallest():
    frame = pl.DataFrame({"region": ["R1", "R2", "R3", "State"], "peers": [40, 7, 30, 77],
                          "is_state": [False, False, False, True]})
    result = suppress(frame, Rule(counts=("peers",), total="is_state"))
    assert result.frame["peers"].to_list() == ["40", S, S, "77"]


def test_partner_ties_take_first_in_frame_order_and_skip_zero_and_null():
    frame = pl.DataFrame({"region": ["R1", "R2", "R3", "R4", "R5"], "peers": [0, 20, 3, None, 20]})
    result = suppress(frame, Rule(counts=("peers",)))
    assert hidden_rows(result, "peers") == [1, 2]


def test_two_hidden_cells_need_no_partner():
    frame = pl.DataFrame({"region": REGIONS, "peers": [40, 7, 3, 25, 75],
                          "is_state": [False, False, False, False, True]})
    result = suppress(frame, Rule(counts=("peers",), total="is_state"))
    assert result.frame["peers"].to_list() == ["40", S, S, "25", "75"]
    assert result.hidden == 2


def test_only_zeros_left_hides_the_total_row():
    # the state total also counts 8 peers with no region, so it is not itself small
    frame = pl.DataFrame({"region": REGIONS, "peers": [0, 6, None, 0, 14],
                          "is_state": [False, False, False, False, True]})
    result = suppress(frame, Rule(counts=("peers",), total="is_state"))
    assert result.frame["peers"].to_list() == ["0", S, None, "0", S]
    assert result.hidden == 2


def test_total_row_obeys_the_small_cell_rule_and_spreads_nothing():
    frame = pl.DataFrame({"region": ["R1", "R2", "R3", "State"], "peers": [20, 0, 30, 9],
                          "is_state": [False, False, False, True]})
    # inconsistent on purpose: only the state cell is small, and no detail gets hidden for it
    result = suppress(frame, Rule(counts=("peers",), total="is_state"))
    assert result.frame["peers"].to_list() == ["20", "0", "30", S]
    assert result.hidden == 1


def test_groups_by_quarter_stay_separate():
    frame = pl.DataFrame({
        "quarter": ["Q1"] * 4 + ["Q2"] * 4 + ["Q3"] * 4,
        "region": ["R1", "R2", "R3", "R4"] * 3,
        "peers": [40, 7, 25, 12,  30, 11, 22, 14,  18, 3, 20, 16],
    })
    result = suppress(frame, Rule(counts=("peers",), groups=("quarter",)))
    assert result.frame["peers"].to_list() == [
        "40", S, "25", S,
        "30", "11", "22", "14",  # the whole frame as one group would have hidden this 11
        "18", S, "20", S,
    ]
    assert result.hidden == 4


def grid(rows: list[list[int]]) -> pl.DataFrame:
    """A quarter x region table in long form, row-major."""
    return pl.DataFrame({
        "quarter": [f"Q{q + 1}" for q, row in enumerate(rows) for _ in row],
        "region_id": [f"R{r + 1}" for row in rows for r in range(len(row))],
        "peers": [v for row in rows for v in row],
    })


def hidden_grid(result, width: int) -> list[list[bool]]:
    flat = result.mask["peers"].to_list()
    return [flat[i:i + width] for i in range(0, len(flat), width)]


def test_two_dimensional_margins_partner_in_rows_forces_partner_in_columns():
    #       R1  R2  R3
    # Q1     5  12  30   5 is small; Q1's partner is 12
    # Q2    20  14  40   R1 needs a partner (20); 12 makes R2 need one too (14)
    # Q3    25  50  60
    frame = grid([[5, 12, 30], [20, 14, 40], [25, 50, 60]])
    both = suppress(frame, Rule(counts=("peers",), groups=(("quarter",), ("region_id",))))
    assert hidden_grid(both, 3) == [[True, True, False],
                                    [True, True, False],
                                    [False, False, False]]
    assert both.hidden == 4
    # the flat form is one grouping: quarters only
    rows_only = suppress(frame, Rule(counts=("peers",), groups=("quarter",)))
    assert hidden_grid(rows_only, 3) == [[True, True, False],
                                         [False, False, False],
                                         [False, False, False]]


def test_two_dimensional_cascade_repeats_until_stable():
    #       R1  R2  R3
    # Q1     5  12  30   pass 1: Q1 -> 12; R1 -> 20; R2 -> 13
    # Q2    20  40  14   pass 2: Q2 -> 14; Q3 -> 25; R3 (14 alone) -> 30
    # Q3    25  13  60   pass 3: every row and column has 0 or >= 2 hidden
    frame = grid([[5, 12, 30], [20, 40, 14], [25, 13, 60]])
    result = suppress(frame, Rule(counts=("peers",), groups=(("quarter",), ("region_id",))))
    assert hidden_grid(result, 3) == [[True, True, True],
                                      [True, False, True],
                                      [True, True, False]]
    assert result.hidden == 7


def test_derived_columns_follow_their_sources():
    frame = pl.DataFrame({
        "region": ["R1", "R2", "R3", "R4"],
        "peers": [40, 7, 25, 30],
        "certified": [9, 7, 20, 15],
        "certified_pct": [22.5, 100.0, 80.0, 50.0],
        "fte": [31.5, 6.0, 20.25, 28.0],
    })
    rule = Rule(counts=("peers", "certified"), derived={"certified_pct": ("certified", "peers")})
    result = suppress(frame, rule)
    # peers: 7 small, partner 25; certified: 9 and 7 small, no partner needed
    assert result.frame["peers"].to_list() == ["40", S, S, "30"]
    assert result.frame["certified"].to_list() == [S, S, "20", "15"]
    # row 0 via certified only, row 2 via peers only, row 1 via both
    assert result.frame["certified_pct"].to_list() == [S, S, S, "50.0"]
    assert result.hidden == 7
    assert result.mask.columns == ["peers", "certified", "certified_pct"]
    assert result.frame.schema == pl.Schema({"region": pl.String, "peers": pl.String, "certified": pl.String,
                                             "certified_pct": pl.String, "fte": pl.Float64})
    assert result.frame["fte"].to_list() == [31.5, 6.0, 20.25, 28.0]


def test_derived_column_shown_when_sources_shown_keeps_dtype():
    frame = pl.DataFrame({"peers": [40, 0, 25], "certified": [30, 0, 20], "certified_pct": [75.0, None, 80.0]})
    result = suppress(frame, Rule(counts=("peers", "certified"), derived={"certified_pct": ("certified", "peers")}))
    assert result.hidden == 0
    assert result.frame.equals(frame)
    assert result.frame["certified_pct"].dtype == pl.Float64


def test_rule_naming_absent_columns_is_fine():
    frame = pl.DataFrame({"region": ["R1", "R2", "R3", "R4"], "peers": [40, 7, 25, 12],
                          "benef_pct": [1.5, 2.0, 3.0, 4.0]})
    rule = Rule(counts=("peers", "beneficiaries"),
                derived={"peers_per_fte": ("peers", "fte"), "benef_pct": ("beneficiaries",)},
                groups=("quarter", "region_id"), total="is_state")
    result = suppress(frame, rule)
    # no grouping column present: the whole frame is one group
    assert result.frame["peers"].to_list() == ["40", S, "25", S]
    assert result.mask.columns == ["peers"]
    # derived from an absent count only: left alone
    assert result.frame["benef_pct"].dtype == pl.Float64
    assert result.hidden == 2


def test_empty_frame():
    frame = pl.DataFrame(schema={"region": pl.String, "peers": pl.Int64, "pct": pl.Float64})
    result = suppress(frame, Rule(counts=("peers",), derived={"pct": ("peers",)}, groups=("region",)))
    assert result.frame.height == 0
    assert result.frame.schema == frame.schema
    assert result.hidden == 0
    assert result.mask.columns == ["peers", "pct"]
    assert result.mask.height == 0
