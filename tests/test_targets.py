"""The state's targets: floor -> target -> stretch scores and bands, computed by hand, both directions."""

from __future__ import annotations

import pytest

from pipelines import targets
from pipelines.targets import Target


def _target(direction: str, floor: float, target: float, stretch: float) -> Target:
    return Target("x", "X", "workforce", "x", direction, floor, target, stretch, 1.0, False)


@pytest.mark.parametrize(("value", "score", "band"), [
    (40, 0.0, "red"), (60, 0.0, "red"),            # at or below the floor
    (70, 28.0, "red"), (72.5, 35.0, "amber"),       # 70 x 10/25; the midpoint of floor and target is amber
    (84.9, pytest.approx(69.72), "amber"), (85, 70.0, "green"),  # meeting the target is 70, not 100
    (90, 85.0, "green"), (95, 100.0, "green"), (99, 100.0, "green"),
])
def test_higher_is_better(value, score, band):
    t = _target("higher", 60, 85, 95)
    assert t.score(value) == score
    assert t.band(value) == band


@pytest.mark.parametrize(("value", "score", "band"), [
    (20, 0.0, "red"), (15, 0.0, "red"), (12, 30.0, "red"), (11.5, 35.0, "amber"), (8, 70.0, "green"),
    (6.5, 85.0, "green"), (5, 100.0, "green"), (0, 100.0, "green"),
])
def test_lower_is_better_is_mirrored(value, score, band):
    t = _target("lower", 15, 8, 5)
    assert t.score(value) == pytest.approx(score)
    assert t.band(value) == band


def test_missing_values_score_nothing():
    assert _target("higher", 1, 2, 3).score(None) is None
    assert _target("higher", 1, 2, 3).band(None) is None


def test_committed_targets_are_complete_and_ordered():
    found = targets.from_csv()
    workforce = [t for t in found.values() if t.pillar == "workforce"]
    assert {t.component for t in workforce} == {"peer_to_clinician_ratio", "pct_certified", "supervision_coverage",
                                                "retention_12m", "billing_sustainability"}
    for t in [*workforce, *(t for t in found.values() if t.pillar == "kpi")]:
        ordered = (t.floor < t.target < t.stretch) if t.higher else (t.floor > t.target > t.stretch)
        assert ordered, t.component
    assert sum(t.weight for t in found.values() if t.pillar == "index") == pytest.approx(1.0)
    assert targets.stages(found) == [("Emerging", 0.0), ("Developing", 40.0), ("Integrated", 70.0)]
    assert targets.stage_rule(found) == "Emerging < 40 ≤ Developing < 70 ≤ Integrated"


def test_index_target_bands_are_the_stages():
    found = targets.from_csv()
    index = targets.for_metric(found, "integration_index")
    assert [index.band(v) for v in (39.9, 40, 69.9, 70)] == ["red", "amber", "amber", "green"]
    assert targets.for_metric(found, "certified_pct").contractual
    assert targets.for_metric(found, "group_share_pct") is None
