from __future__ import annotations

import torch

from models.matching import align, infringement_score, split_segments
from streams.contracts.schemas import PriorArt

CLAIM = (
    "1. A battery electrode comprising: a current collector; a silicon layer deposited on "
    "the collector; and a binder holding the layer, wherein the binder is a polymer."
)


def test_claims_split_into_elements() -> None:
    parts = split_segments(CLAIM)
    assert parts[0].startswith("1. A battery electrode comprising:")
    assert parts[1] == "a current collector;"
    assert len(parts) == 4


def test_short_fragments_join_their_neighbour() -> None:
    assert split_segments("Hi. This sentence is long enough.") == [
        "Hi. This sentence is long enough."
    ]
    assert split_segments("Only this.") == ["Only this."]
    assert split_segments("A long enough first sentence. Ok.") == [
        "A long enough first sentence. Ok."
    ]


def test_align_reports_best_pairs_and_coverage() -> None:
    elements = ["e0", "e1", "e2", "e3"]
    passages = ["p0", "p1"]
    best = torch.tensor([1.0, 0.9, 0.2, 0.8])  # per element: its best passage's similarity
    where = torch.tensor([0, 1, 0, 1])
    evidence, coverage = align(elements, passages, best, where, covered_at=0.7, keep=2)
    assert coverage == 0.75  # e0, e1 and e3 reach 0.7; e2 finds nothing
    assert [(e.element, e.passage, e.similarity) for e in evidence] == [
        ("e0", "p0", 1.0),
        ("e1", "p1", 0.9),
    ]


def test_infringement_score_is_a_monotone_percentage() -> None:
    scores = [infringement_score(s) for s in (-1.0, 0.3, 0.6, 0.8, 0.95, 1.0)]
    assert scores == sorted(scores)
    assert 0 <= scores[0] < 1 and 99 < scores[-1] <= 100


def test_prior_art_is_what_was_filed_earlier_never_the_filing_itself() -> None:
    from models.novelty import Filing, FilingRing, merge, novelty

    a, b, c = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]), torch.tensor([0.6, 0.8])
    ring = FilingRing(capacity=2, dim=2)
    assert ring.nearest([Filing("a", 1.0, a)], 3) == [[]]
    ring.add([Filing("a", 1.0, a), Filing("b", 2.0, b)])
    (found,) = ring.nearest([Filing("c", 3.0, c)], 3)
    assert [(p.record_id, p.similarity) for p in found] == [("b", 0.8), ("a", 0.6)]
    assert novelty(found) == 0.2 and novelty([]) == 1.0
    # Filed before "b": only "a" is its prior art, whenever it arrives; a replay of "b"
    # is not its own.
    assert [p.record_id for p in ring.nearest([Filing("c", 1.5, c)], 3)[0]] == ["a"]
    assert [p.record_id for p in ring.nearest([Filing("b", 2.0, b)], 3)[0]] == ["a"]
    ring.add([Filing("b", 2.0, b)])  # held once
    assert ring.size == 2
    ring.add([Filing("c", 3.0, c)])  # capacity 2: "a" is pushed out
    assert [p.record_id for p in ring.nearest([Filing("d", 4.0, a)], 3)[0]] == ["c", "b"]
    mine, theirs = (
        ring.nearest([Filing("d", 4.0, a)], 3),
        [[PriorArt(record_id="c", similarity=0.6), PriorArt(record_id="z", similarity=0.99)]],
    )
    assert [p.record_id for p in merge(mine, theirs, 2)[0]] == ["z", "c"]


def test_near_ties_order_the_same_whatever_the_float_noise() -> None:
    from models.portfolio import top_k

    by_id = torch.tensor([1, 0, 2])  # item 1 has the smallest id
    for noise in (1e-7, -1e-7):
        scores = torch.tensor([[0.5 + noise, 0.5, 0.2]])
        values, indices = top_k(scores, by_id, 2)
        assert indices.tolist() == [[1, 0]] and values.tolist() == [[0.5, 0.5]]
    best = torch.tensor([0.3, 0.7 + 1e-7, 0.7])
    evidence, _ = align(["a", "b", "c"], ["p"], best, torch.zeros(3, dtype=torch.long), 0.5)
    assert [e.element for e in evidence] == ["b", "c", "a"]
    best = torch.tensor([0.3, 0.7, 0.7 + 1e-7])
    evidence, _ = align(["a", "b", "c"], ["p"], best, torch.zeros(3, dtype=torch.long), 0.5)
    assert [e.element for e in evidence] == ["b", "c", "a"]
