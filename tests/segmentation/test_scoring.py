from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.segmentation import (
    Comparison,
    Prepared,
    SegmentationError,
    SegmentationResult,
    compare,
    run,
    score,
)

from .samples import BLOB_CENTERS


def _reopened(result: SegmentationResult) -> SegmentationResult:
    """The run as another process would see it after storing and reading it back."""
    again = SegmentationResult.from_dict(json.loads(json.dumps(result.to_dict())))
    blob = result.model_bytes()
    if blob is not None:
        again.load_model(blob)
    return again


def _newcomers(seed: int = 5) -> pd.DataFrame:
    """Two new customers close to each blob centre, ids 'N1'..."""
    rng = np.random.default_rng(seed)
    points = np.repeat(BLOB_CENTERS, 2, axis=0) + rng.normal(scale=0.5, size=(8, 3))
    frame = pd.DataFrame(points, columns=["a", "b", "c"])
    frame.insert(0, "id", [f"N{i}" for i in range(1, 9)])
    return frame


def _segment_of_each_centre(result: SegmentationResult, blob_frame: pd.DataFrame) -> list[int]:
    labels = np.asarray(result.labels)
    x = blob_frame[["a", "b", "c"]].to_numpy()
    nearest = [np.argmin(((x - c) ** 2).sum(axis=1)) for c in BLOB_CENTERS]
    return [int(labels[i]) for i in nearest]


def test_kmeans_scoring_of_the_training_customers_reproduces_their_labels(
    seed_customers: pd.DataFrame, seed_prepared: Prepared
) -> None:
    result = run(seed_prepared, algorithm="kmeans", params={"k": 5}, projection=False)
    reopened = _reopened(result)
    assert result.model_bytes() is None and not reopened.needs_model
    scored = score(reopened, seed_customers)
    assert list(scored.index) == list(result.customer_ids)
    assert scored.tolist() == list(result.labels)


def test_kmeans_scores_new_customers_into_the_segment_of_their_blob(
    blob_prepared: Prepared, blob_frame: pd.DataFrame
) -> None:
    result = _reopened(run(blob_prepared, algorithm="kmeans", params={"k": 4}))
    expected = np.repeat(_segment_of_each_centre(result, blob_frame), 2)
    assert score(result, _newcomers()).tolist() == expected.tolist()


def test_hdbscan_scores_new_customers_after_storing_and_reloading_the_model(
    blob_prepared: Prepared, blob_frame: pd.DataFrame
) -> None:
    result = run(blob_prepared, algorithm="hdbscan")
    reopened = _reopened(result)
    assert reopened.needs_model and reopened.fitted_model is not None
    scored = score(reopened, _newcomers())
    expected = np.repeat(_segment_of_each_centre(result, blob_frame), 2)
    assert list(scored.index) == [f"N{i}" for i in range(1, 9)]
    assert scored.tolist() == expected.tolist()
    assert score(result, _newcomers()).tolist() == scored.tolist()


def test_dbscan_scores_near_customers_into_segments_and_far_ones_as_noise(
    blob_prepared: Prepared, blob_frame: pd.DataFrame
) -> None:
    result = _reopened(run(blob_prepared, algorithm="dbscan"))
    newcomers = pd.concat(
        [_newcomers(), pd.DataFrame({"id": ["far"], "a": [500.0], "b": [0.0], "c": [0.0]})]
    )
    scored = score(result, newcomers)
    expected = np.repeat(_segment_of_each_centre(result, blob_frame), 2).tolist()
    assert scored.tolist() == [*expected, -1]


def test_a_reopened_density_run_cannot_score_before_its_model_is_loaded(
    blob_prepared: Prepared,
) -> None:
    result = run(blob_prepared, algorithm="hdbscan", projection=False)
    bare = SegmentationResult.from_dict(result.to_dict())
    with pytest.raises(SegmentationError, match="load_model"):
        score(bare, _newcomers())


def test_model_bytes_of_another_run_are_refused(blob_prepared: Prepared) -> None:
    a = run(blob_prepared, algorithm="hdbscan", projection=False)
    b = run(blob_prepared, algorithm="dbscan", projection=False)
    bare = SegmentationResult.from_dict(a.to_dict())
    with pytest.raises(SegmentationError, match="do not belong"):
        bare.load_model(b.model_bytes() or b"")
    with pytest.raises(SegmentationError, match="no model"):
        run(blob_prepared, algorithm="kmeans", params={"k": 2}).load_model(b"x")


def test_scoring_needs_the_runs_feature_columns(blob_prepared: Prepared) -> None:
    result = run(blob_prepared, algorithm="kmeans", params={"k": 4}, projection=False)
    with pytest.raises(SegmentationError, match="c"):
        score(result, _newcomers().drop(columns=["c"]))


def test_compare_gives_ari_one_for_a_renumbered_copy() -> None:
    a = pd.Series([0, 0, 1, 1, 2, 2], index=["1", "2", "3", "4", "5", "6"])
    renumbered = a.map({0: 7, 1: 4, 2: 1}).iloc[::-1]  # other numbers, other order
    comparison = compare(a, renumbered.to_dict())
    assert comparison.ari == pytest.approx(1.0)
    assert comparison.common == 6 and comparison.only_in_a == comparison.only_in_b == 0
    assert comparison.crosstab.loc[0, 7] == 2 and comparison.crosstab.loc[0, 4] == 0


def test_compare_counts_moves_between_segments_on_common_customers() -> None:
    before = {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1, "6": 1}
    after = pd.Series([0, 0, 1, 1, 1, 2], index=[1.0, 2.0, 3.0, 4.0, 5.0, 7.0])
    comparison = compare(before, after)
    assert comparison.common == 5 and comparison.only_in_a == 1 and comparison.only_in_b == 1
    assert comparison.crosstab.to_dict() == {0: {0: 2, 1: 0}, 1: {0: 1, 1: 2}}
    assert comparison.ari is not None and comparison.ari < 1
    again = Comparison.from_dict(json.loads(json.dumps(comparison.to_dict())))
    assert again.crosstab.equals(comparison.crosstab) and again.ari == comparison.ari


def test_compare_takes_two_runs_directly(blob_prepared: Prepared) -> None:
    kmeans = run(blob_prepared, algorithm="kmeans", params={"k": 4}, projection=False)
    hdb = run(blob_prepared, algorithm="hdbscan", projection=False)
    comparison = compare(kmeans, hdb)
    assert comparison.common == 800
    assert comparison.ari == pytest.approx(1.0)
