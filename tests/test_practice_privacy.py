"""An attack on the practice figures restricted readers see: the combined score mixes leadership and peer ratings,
so beside the leadership rating (and the public item weights and agency counts) it gives the peer-voice gap, and
from it the peer rating, exactly. Wherever a peer rating is hidden, the combined score must be hidden too."""

from __future__ import annotations

import duckdb
import pytest


@pytest.fixture(scope="module")
def public(demo_warehouse):
    con = duckdb.connect(str(demo_warehouse.parent / "published" / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def test_the_gap_cannot_be_worked_out_from_leadership_and_combined_scores(public):
    rows = public.execute("""
        select quarter, entity_id, domain, leadership_rating, combined_score, agencies_assessed_count,
               agencies_with_peer_rating_count, peers_rating, peer_voice_gap
        from pub_practice_domains""").fetchall()
    truth = {(q, e, d): (p, g) for q, e, d, p, g in public.execute(
        "select quarter, entity_id, domain, peers_rating, peer_voice_gap from kpi_practice_domains "
        "where level <> 'agency'").fetchall()}
    hidden = recovered = 0
    for quarter, entity, domain, leaders, combined, assessed, with_peers, peers, gap in rows:
        if peers is not None or truth.get((quarter, entity, domain), (None, None))[0] is None:
            continue
        hidden += 1
        if None in (leaders, combined, assessed, with_peers) or not with_peers:
            continue
        # combined / 25 = leaders - gap x (peer weight / all weight) / 2, weights = agencies x items per domain
        worked_out = 2 * (leaders - combined / 25) * assessed / with_peers
        if worked_out == pytest.approx(truth[(quarter, entity, domain)][1], abs=1e-6):
            recovered += 1
    assert hidden > 0, "the demo has hidden peer ratings to attack"
    assert recovered == 0, f"{recovered} of {hidden} hidden peer-voice gaps worked out exactly"


def test_a_hidden_peer_rating_hides_the_places_practice_pillar(public):
    leaks = public.execute("""
        select d.quarter, d.entity_id from pub_practice_domains d
        join pub_integration_index i on i.quarter = d.quarter and i.level = d.level and i.entity_id = d.entity_id
        where d.domain = 'ALL' and d.peers_rating is null and i.practice_score is not null""").fetchall()
    assert leaks == []
