from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.segmentation import (
    NOISE,
    Prepared,
    SegmentationError,
    SegmentationResult,
    choose_k,
    prepare,
    run,
    segments_frame,
    suggest_dbscan,
)
from core.segmentation import algorithms as algorithms_module

from .samples import WHOLESALE_SPENDING


@pytest.fixture(scope="module")
def seed_result(seed_prepared: Prepared) -> SegmentationResult:
    k = choose_k(seed_prepared, k_range=range(2, 7)).suggested_k
    return run(seed_prepared, algorithm="kmeans", params={"k": k}, seed=0)


@pytest.fixture(scope="module")
def blob_kmeans(blob_prepared: Prepared) -> SegmentationResult:
    return run(blob_prepared, algorithm="kmeans", params={"k": 4})


def test_seed_kmeans_reports_metrics_in_their_valid_ranges(
    seed_result: SegmentationResult,
) -> None:
    quality = seed_result.quality
    assert quality.n == 2000 and quality.n_segments == seed_result.params["k"]
    assert -1 <= (quality.silhouette or -2) <= 1
    assert (quality.davies_bouldin or -1) >= 0
    assert (quality.calinski_harabasz or -1) > 0
    assert quality.silhouette_sample_size == 2000
    assert sum(quality.sizes.values()) == 2000 and quality.noise_share == 0


def test_seed_customers_have_little_structure_and_the_result_says_so(
    seed_result: SegmentationResult,
) -> None:
    # The seed file's columns are drawn independently: no segmentation separates them well.
    assert (seed_result.quality.silhouette or 1) < 0.25
    assert any("overlap a lot" in w for w in seed_result.warnings)


def test_every_segment_has_a_unique_readable_name(seed_result: SegmentationResult) -> None:
    names = [p.name for p in seed_result.profiles]
    assert len(set(names)) == len(names) == seed_result.params["k"]
    assert all(any(w in n for w in ("high", "low", "mostly", "average")) for n in names)
    assert seed_result.names == {p.segment: p.name for p in seed_result.profiles}


def test_profiles_compare_each_segment_with_everyone(seed_result: SegmentationResult) -> None:
    profile = seed_result.profiles[0]
    income = next(f for f in profile.features if f.feature == "Annual Income ($)")
    assert income.overall_mean == pytest.approx(110731.8215)
    _, top_effect = profile.distinguishing[0]
    assert abs(top_effect) == max(abs(e) for _, e in profile.distinguishing)
    assert sum(p.size for p in seed_result.profiles) == 2000
    assert sum(p.share for p in seed_result.profiles) == pytest.approx(1)
    assert set(profile.categories["Country"]) <= {
        "Canada", "China", "Finland", "France", "Germany", "India", "Netherlands",
        "Norway", "Sweden", "United Kingdom", "United States",
    }  # fmt: skip
    assert sum(profile.categories["Country"].values()) == pytest.approx(1)


def test_the_customer_id_is_never_a_feature_of_the_run(seed_result: SegmentationResult) -> None:
    assert "CustomerID" not in seed_result.features
    assert "CustomerID" in seed_result.preprocessing.excluded


def test_blobs_get_named_by_their_distinguishing_features(blob_kmeans) -> None:
    assert blob_kmeans.quality.silhouette > 0.7
    assert not blob_kmeans.warnings
    # Three blobs are high on one of a, b, c; the blob at the origin is low on two of them.
    names = set(blob_kmeans.names.values())
    assert {"high a", "high b", "high c"} <= {n.split(",")[0] for n in names}


def test_projections_state_their_explained_variance(blob_kmeans) -> None:
    projection = blob_kmeans.projection
    assert projection is not None
    assert len(projection.pca2) == len(projection.pca3) == len(projection.rows) == 800
    assert 0.5 < projection.explained_2d < projection.explained_3d <= 1 + 1e-9
    assert "of the variance in 2-D" in projection.note


def test_tsne_is_drawn_on_request(blob_prepared: Prepared) -> None:
    result = run(blob_prepared, algorithm="kmeans", params={"k": 4}, tsne=True)
    assert result.projection is not None
    assert len(result.projection.tsne) == len(result.projection.tsne_rows) == 800


def test_dbscan_with_the_suggested_eps_keeps_most_blob_customers_out_of_noise(
    blob_prepared: Prepared,
) -> None:
    result = run(blob_prepared, algorithm="dbscan")
    guide = suggest_dbscan(blob_prepared)
    assert result.params == {"eps": guide.eps, "min_samples": guide.min_samples}
    assert result.quality.noise_share < 0.5
    assert result.quality.n_segments == 4
    assert NOISE not in result.names or result.names[NOISE] == "unassigned (noise)"


def test_a_degenerate_dbscan_run_is_warned_about(blob_prepared: Prepared) -> None:
    tiny = run(blob_prepared, algorithm="dbscan", params={"eps": 0.01, "min_samples": 5})
    assert tiny.quality.n_segments == 0 and tiny.quality.noise_share == 1
    assert any("every customer is noise" in w for w in tiny.warnings)
    assert any("More than half of the customers (100%) are noise" in w for w in tiny.warnings)
    huge = run(blob_prepared, algorithm="dbscan", params={"eps": 100, "min_samples": 5})
    assert huge.quality.n_segments == 1
    assert huge.quality.silhouette is None
    assert any("Only one segment" in w for w in huge.warnings)


def test_a_tiny_segment_is_warned_about(make_blobs_frame) -> None:
    frame = make_blobs_frame(400)
    frame.loc[:2, ["a", "b", "c"]] = 500.0  # three customers far from everyone
    prepared = prepare(frame, id_column="id", features=["a", "b", "c"])
    result = run(prepared, algorithm="kmeans", params={"k": 5})
    assert result.quality.sizes[4] == 3
    assert any(w.startswith("Segment 4 (") and "only 3 customers" in w for w in result.warnings)


def test_hdbscan_defaults_are_explicit_and_small(blob_prepared: Prepared) -> None:
    result = run(blob_prepared, algorithm="hdbscan")
    assert result.params == {"min_cluster_size": 8, "min_samples": 8}
    assert result.quality.n_segments == 4
    assert result.model_bytes() is not None


def test_dbscan_and_hdbscan_sample_large_tables_and_say_so(
    make_blobs_frame, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepared = prepare(make_blobs_frame(1500), id_column="id", features=["a", "b", "c"])
    monkeypatch.setattr(algorithms_module, "DBSCAN_MAX_POINTS", 600)
    monkeypatch.setattr(algorithms_module, "HDBSCAN_MAX_POINTS", 600)
    dbscan = run(prepared, algorithm="dbscan")
    assert any("random sample of 600 of 1,500 customers" in n for n in dbscan.notes)
    assert dbscan.quality.n_segments == 4 and dbscan.quality.noise_share < 0.5
    hdb = run(prepared, algorithm="hdbscan")
    assert any("random sample of 600 of 1,500 customers" in n for n in hdb.notes)
    assert hdb.quality.n_segments == 4 and hdb.quality.noise_share < 0.5


def test_wholesale_runs_on_logged_spending(wholesale: pd.DataFrame) -> None:
    prepared = prepare(
        wholesale,
        id_column=None,
        features=[*WHOLESALE_SPENDING, "Channel"],
        categorical=["Channel"],
        log_features="suggested",
    )
    result = run(prepared, algorithm="kmeans", params={"k": 2})
    assert result.quality.n_segments == 2
    assert "channel" in " ".join(result.names.values())


@pytest.mark.parametrize(
    ("algorithm", "params", "message"),
    [
        ("kmeans", {}, "needs k"),
        ("kmeans", {"k": 2, "eps": 1}, "Unknown kmeans parameters: eps"),
        ("kmeans", {"k": "many"}, "whole number"),
        ("dbscan", {"eps": -1}, "positive"),
        ("hdbscan", {"min_cluster_size": 1}, "at least 2"),
        ("spectral", {}, "Unknown algorithm"),
    ],
)
def test_bad_parameters_are_refused_in_a_sentence(
    blob_prepared: Prepared, algorithm: str, params: dict, message: str
) -> None:
    with pytest.raises(SegmentationError, match=message):
        run(blob_prepared, algorithm=algorithm, params=params)  # type: ignore[arg-type]


def test_a_run_survives_json_and_comes_back_identical(seed_result: SegmentationResult) -> None:
    stored = json.dumps(seed_result.to_dict(), allow_nan=False)
    again = SegmentationResult.from_dict(json.loads(stored))
    assert again.labels == seed_result.labels
    assert again == seed_result
    assert again.to_dict() == seed_result.to_dict()


def test_a_run_is_repeatable_with_the_same_seed(blob_prepared: Prepared) -> None:
    a = run(blob_prepared, algorithm="kmeans", params={"k": 4}, seed=7)
    b = run(blob_prepared, algorithm="kmeans", params={"k": 4}, seed=7)
    assert a.to_dict() == b.to_dict()


def test_segments_are_numbered_by_size(seed_result: SegmentationResult) -> None:
    sizes = [seed_result.quality.sizes[s] for s in sorted(seed_result.names)]
    assert sizes == sorted(sizes, reverse=True)


def test_segments_frame_lists_each_customer_with_segment_and_features(
    seed_result: SegmentationResult, seed_prepared: Prepared, seed_customers: pd.DataFrame
) -> None:
    frame = segments_frame(seed_result, seed_prepared)
    assert list(frame.columns[:3]) == ["customer_id", "segment", "segment_name"]
    assert list(frame.columns[3:]) == list(seed_result.features)
    assert len(frame) == 2000 and frame["customer_id"].iloc[0] == "1"
    assert frame.loc[0, "segment_name"] == seed_result.names[seed_result.labels[0]]
    assert frame.loc[0, "Country"] == "Germany"
    raw = segments_frame(seed_result, seed_customers)
    assert raw.loc[0, "Country"] == "Allemagne"
    assert list(segments_frame(seed_result).columns) == ["customer_id", "segment", "segment_name"]


def test_data_hash_is_recorded_in_the_run(
    seed_result: SegmentationResult, seed_prepared: Prepared
) -> None:
    assert seed_result.data_hash == seed_prepared.data_hash
    assert np.all(np.asarray(seed_result.customer_ids) == np.asarray(seed_prepared.ids))
