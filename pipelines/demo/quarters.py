"""The demo calendar: quarters, their first and last days, and day numbers (days since 1970-01-01)."""

from __future__ import annotations

import datetime as dt

EPOCH = dt.date(1970, 1, 1)
DEMO_FIRST_QUARTER = "2023-Q4"
DEMO_LAST_QUARTER = "2026-Q3"
DEMO_AS_OF = "2026-11-15"
FAR = 10**7  # "never" in day arithmetic


def days(value: str | dt.date) -> int:
    """Day number of a date (or ISO date text)."""
    d = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return (d - EPOCH).days


def iso(day: int) -> str:
    """ISO date text of a day number."""
    return (EPOCH + dt.timedelta(days=int(day))).isoformat()


def quarter_start(quarter: str) -> dt.date:
    return dt.date(int(quarter[:4]), 3 * (int(quarter[-1]) - 1) + 1, 1)


def quarter_end(quarter: str) -> dt.date:
    year, n = int(quarter[:4]), int(quarter[-1])
    nxt = dt.date(year + 1, 1, 1) if n == 4 else dt.date(year, 3 * n + 1, 1)
    return nxt - dt.timedelta(days=1)


def next_quarter(quarter: str) -> str:
    year, n = int(quarter[:4]), int(quarter[-1])
    return f"{year + 1}-Q1" if n == 4 else f"{year}-Q{n + 1}"


def quarter_range(first: str, last: str) -> list[str]:
    """Quarters from first to last inclusive, e.g. 2023-Q4 .. 2026-Q3."""
    out = [first]
    while out[-1] != last:
        out.append(next_quarter(out[-1]))
        if len(out) > 400:
            raise ValueError(f"bad quarter range {first}..{last}")
    return out


def last_quarters(n: int, last: str = DEMO_LAST_QUARTER) -> list[str]:
    """The n quarters ending with `last`."""
    year, q = int(last[:4]), int(last[-1])
    k = year * 4 + q - 1 - (n - 1)
    return quarter_range(f"{k // 4}-Q{k % 4 + 1}", last)


DEMO_QUARTERS = quarter_range(DEMO_FIRST_QUARTER, DEMO_LAST_QUARTER)
