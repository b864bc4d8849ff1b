"""Reciprocal rank fusion, against rankings worked out by hand."""

from __future__ import annotations

import pytest

from qa.fusion import reciprocal_rank_fusion


def test_an_item_both_rankings_like_beats_one_only_the_first_ranks_higher():
    fused = reciprocal_rank_fusion([[1, 2, 3], [3, 1]], k=1)

    assert [item for item, _ in fused] == [1, 3, 2]
    assert [score for _, score in fused] == pytest.approx([1 / 2 + 1 / 3, 1 / 4 + 1 / 2, 1 / 3])


def test_a_larger_k_flattens_the_lead_of_the_top_rank():
    sharp = dict(reciprocal_rank_fusion([[1, 2]], k=1))
    flat = dict(reciprocal_rank_fusion([[1, 2]], k=60))

    assert sharp[1] / sharp[2] > flat[1] / flat[2] > 1
