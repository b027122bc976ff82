from __future__ import annotations

import numpy as np
import pytest

from core.segmentation import (
    DbscanGuide,
    KChoice,
    Prepared,
    choose_k,
    default_min_samples,
    prepare,
    suggest_dbscan,
)
from core.segmentation.sampling import knee_index


@pytest.fixture(scope="module")
def seed_choice(seed_prepared: Prepared) -> KChoice:
    return choose_k(seed_prepared, seed=0)


def test_choose_k_scores_every_k_and_suggests_the_best_silhouette(seed_choice: KChoice) -> None:
    assert seed_choice.k_values == tuple(range(2, 11))
    assert len(seed_choice.inertia) == len(seed_choice.silhouette) == 9
    assert all(-1 <= s <= 1 for s in seed_choice.silhouette if s is not None)
    best = max(zip(seed_choice.silhouette, seed_choice.k_values, strict=True))[1]
    assert seed_choice.suggested_k == best
    assert seed_choice.elbow_k in seed_choice.k_values
    assert list(seed_choice.inertia) == sorted(seed_choice.inertia, reverse=True)
    assert seed_choice.sample_size == seed_choice.n == 2000


def test_choose_k_says_when_the_elbow_disagrees(seed_choice: KChoice) -> None:
    if seed_choice.elbow_k == seed_choice.suggested_k:
        assert "agree" in seed_choice.note
    else:
        assert f"elbow of the inertia curve is at k={seed_choice.elbow_k}" in seed_choice.note


def test_choose_k_finds_the_four_blobs(blob_prepared: Prepared) -> None:
    choice = choose_k(blob_prepared)
    assert choice.suggested_k == choice.elbow_k == 4
    assert "agree on k=4" in choice.note


def test_choose_k_samples_the_silhouette_and_says_so(make_blobs_frame) -> None:
    prepared = prepare(make_blobs_frame(1200), id_column="id", features=["a", "b", "c"])
    choice = choose_k(prepared, k_range=range(2, 6), sample_size=500)
    assert choice.sample_size == 500 and choice.n == 1200
    assert "random sample of 500 of 1,200 customers" in choice.note
    assert choice.suggested_k == 4


def test_choose_k_reports_progress_after_each_k(blob_prepared: Prepared) -> None:
    seen: list[tuple[int, int]] = []

    def record(done: int, total: int) -> None:
        seen.append((done, total))

    choose_k(blob_prepared, k_range=range(2, 5), progress=record)
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_choose_k_is_repeatable_with_the_same_seed(blob_prepared: Prepared) -> None:
    a = choose_k(blob_prepared, k_range=range(2, 6), seed=3)
    b = choose_k(blob_prepared, k_range=range(2, 6), seed=3)
    assert a == b
    assert KChoice.from_dict(a.to_dict()) == a


def test_min_samples_is_twice_the_dimensions_and_at_least_four() -> None:
    assert default_min_samples(1) == 4
    assert default_min_samples(3) == 6
    assert default_min_samples(19) == 38


def test_suggest_dbscan_reads_eps_at_the_knee_of_the_k_distance_curve(
    blob_prepared: Prepared,
) -> None:
    guide = suggest_dbscan(blob_prepared)
    assert guide.min_samples == 6
    assert list(guide.curve) == sorted(guide.curve)
    assert guide.curve[guide.knee] == pytest.approx(guide.eps, rel=0.05)
    assert guide.curve[0] < guide.eps < guide.curve[-1]
    assert DbscanGuide.from_dict(guide.to_dict()) == guide
    assert "6th nearest neighbour" in guide.note


def test_knee_is_where_a_curve_bends_most() -> None:
    flat_then_steep = np.r_[np.linspace(0, 1, 90), np.linspace(1, 30, 11)[1:]]
    assert knee_index(flat_then_steep) == 89
    falling = [100, 40, 20, 15, 12, 10, 9, 8]
    assert knee_index(falling) == 2
    assert knee_index([3, 3, 3]) == 0
