"""Segmentation use cases on a real stack (SQLite and embedded stores, or PostgreSQL, MongoDB
and Kafka): features from stored customers and deliveries, runs saved, reopened, renamed,
compared and used to score customers."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.adapters import sql_schema as s
from core.bootstrap import Services
from core.segmentation import (
    SegmentationError,
    choose_k,
    customer_key,
    describe_columns,
    prepare,
    run,
    score,
)
from core.usecases import segmentation as uc
from tests import seeding

from .conftest import SEED_CUSTOMERS, ingest

NUMERIC = [
    "Annual Income ($)",
    "Spending Score (1-100)",
    "Work Experience",
    "Customer size",
    "Founded",
    "Number of employees",
]


def _prepared(features: uc.CustomerFeatures, extra: tuple[str, ...] = ("status",)):
    return prepare(
        features.frame,
        id_column=features.id_column,
        features=[*NUMERIC, *extra],
        log_features="suggested",
        describe=uc.describe_with(features),
    )


def test_ingested_seed_customers_are_segmented_saved_and_reopened_identically(
    seeded: Services, seed_rows: pd.DataFrame
) -> None:
    features = uc.load_customer_features(seeded)
    frame = features.frame.set_index("customer_id")
    assert len(frame) == SEED_CUSTOMERS
    expected = seed_rows.set_index(seed_rows["CustomerID"].map(customer_key))
    for column in NUMERIC:
        assert (frame[column].astype(float) == expected.loc[frame.index, column]).all(), column
    assert (frame["status"] == expected.loc[frame.index, "Status"]).all()
    assert "Allemagne" not in set(frame["country_name"])
    assert (frame["country_name"] == "Germany").sum() == 267
    kinds = {c.name: c.kind for c in describe_columns(features.frame, id_column="customer_id")}
    options = uc.feature_options(features, kinds)
    assert kinds["customer_id"] == "id"
    assert {"customer_id", "name", "country"}.isdisjoint(options)
    assert {*NUMERIC, "status", "country_name"} <= set(options)
    assert features.behaviour == ()

    prepared = _prepared(features)
    choice = choose_k(prepared, k_range=range(2, 7))
    result = run(prepared, algorithm="kmeans", params={"k": choice.suggested_k}, seed=3)
    result.names = uc.check_rename(result.names, 0, "Largest group")

    run_id = uc.save_run(seeded.sql, result, name="  Seed   customers ", source=features.source)

    (summary,) = uc.list_runs(seeded.sql)
    assert (summary.id, summary.name, summary.algorithm) == (run_id, "Seed customers", "kmeans")
    assert summary.n_customers == SEED_CUSTOMERS
    assert summary.n_segments == choice.suggested_k
    assert summary.silhouette == result.quality.silhouette
    assert summary.features == result.features
    again = uc.load_run(seeded.sql, run_id)
    assert again.result.to_dict() == result.to_dict()
    assert again.result.names[0] == "Largest group"
    in_table = uc.assignments(seeded.sql, run_id)
    assert in_table.to_dict() == result.assignments().to_dict()
    with seeded.sql.begin() as conn:
        row = conn.execute(select(s.segmentation_runs)).one()
    assert row.seed == 3 and row.data_hash == prepared.data_hash and row.model is None
    assert row.params == {"k": choice.suggested_k, "n_init": 4}
    assert row.features["columns"] == list(result.features)
    assert row.preprocessing["steps"] == list(prepared.report.steps)
    assert row.metrics == result.quality.to_dict()
    with pytest.raises(SegmentationError, match="does not exist"):
        uc.load_run(seeded.sql, run_id + 1)


def test_behaviour_from_delivery_notes_and_from_stock_movements_agree(stored: Services) -> None:
    ids = [str(i) for i in range(1, 301)]
    rows = seeding.movement_rows(600, seed=11, customer_ids=[*ids, *["X-unknown"] * 20])
    seeding.write_rows(stored.sql, movements=rows)
    seeding.write_deliveries(stored.sql, stored.documents, seeding.delivery_documents(rows))

    from_notes = uc.load_customer_features(stored, behaviour="deliveries")
    from_movements = uc.load_customer_features(stored, behaviour="movements")
    pd.testing.assert_frame_equal(from_notes.frame, from_movements.frame)
    frame = from_notes.frame.set_index("customer_id")
    assert len(frame) == SEED_CUSTOMERS
    assert {"recency_days", "frequency", "monetary", "quantity"} <= set(from_notes.behaviour)
    assert any(c.startswith("share_") for c in from_notes.behaviour)

    delivered = pd.DataFrame([r for r in rows if r["type_mouvement"] == seeding.DELIVERY])
    last_day = delivered["date_creation"].max()
    for customer, lines in delivered[delivered["tiers"].isin(ids)].groupby("tiers"):
        row = frame.loc[customer]
        assert row["monetary"] == pytest.approx(lines["montant_mouvement"].abs().sum())
        assert row["quantity"] == pytest.approx(lines["quantite"].abs().sum())
        assert row["frequency"] == lines["date_creation"].nunique()
        assert row["recency_days"] == (last_day - lines["date_creation"].max()).days
    never = frame.loc[~frame.index.isin(delivered["tiers"])]
    assert len(never) > 0 and (never["frequency"] == 0).all() and (never["monetary"] == 0).all()
    assert (never["recency_days"] > frame["recency_days"].loc[frame["frequency"] > 0].max()).all()
    assert any("not in the customer master data" in step for step in from_notes.steps)

    since = dt.date(2024, 7, 1)
    later = uc.load_customer_features(stored, behaviour="deliveries", since=since)
    count = int((delivered["date_creation"] >= since).sum())
    assert f"{count:,} delivery lines of the delivery notes dated 2024-07-01" in later.steps[1]
    capped = uc.load_customer_features(stored, behaviour="movements", max_lines=10)
    assert any("Reading stopped at 10 lines" in step for step in capped.steps)


def test_a_run_that_cannot_be_stored_whole_leaves_nothing_behind(stored: Services) -> None:
    features = uc.load_customer_features(stored)
    result = run(_prepared(features), algorithm="kmeans", params={"k": 2})
    twice = (*result.customer_ids[:-1], result.customer_ids[0])
    broken = dataclasses.replace(result, customer_ids=twice)

    with pytest.raises(IntegrityError):
        uc.save_run(stored.sql, broken, name="broken", source=features.source)

    assert uc.list_runs(stored.sql) == []
    assert stored.sql.count_rows("segment_assignments") == 0
    with pytest.raises(SegmentationError, match="name"):
        uc.save_run(stored.sql, result, name="   ", source=features.source)


def test_renamed_segments_are_stored_and_clashing_or_empty_names_refused(stored: Services) -> None:
    features = uc.load_customer_features(stored)
    result = run(_prepared(features), algorithm="kmeans", params={"k": 3})
    run_id = uc.save_run(stored.sql, result, name="three", source=features.source)

    names = uc.rename_segment(stored.sql, run_id, 1, "  Key   accounts ")

    assert names == {**result.names, 1: "Key accounts"}
    assert uc.load_run(stored.sql, run_id).result.names == names
    with pytest.raises(SegmentationError, match="already called"):
        uc.rename_segment(stored.sql, run_id, 2, "key ACCOUNTS")
    with pytest.raises(SegmentationError, match="empty"):
        uc.rename_segment(stored.sql, run_id, 2, " ")
    with pytest.raises(SegmentationError, match="no segment 7"):
        uc.rename_segment(stored.sql, run_id, 7, "x")
    with pytest.raises(SegmentationError, match="does not exist"):
        uc.rename_segment(stored.sql, run_id + 1, 0, "x")
    assert uc.load_run(stored.sql, run_id).result.names == names


def test_comparing_two_saved_runs_shows_how_customers_moved(stored: Services) -> None:
    features = uc.load_customer_features(stored)
    prepared = _prepared(features)
    three = run(prepared, algorithm="kmeans", params={"k": 3})
    four = run(prepared, algorithm="kmeans", params={"k": 4})
    a = uc.save_run(stored.sql, three, name="three", source=features.source)
    b = uc.save_run(stored.sql, four, name="four", source=features.source)

    compared = uc.compare_runs(stored.sql, a, b)

    assert (compared.a.id, compared.b.id) == (a, b)
    assert compared.names_a == three.names and compared.names_b == four.names
    c = compared.comparison
    assert c.ari == pytest.approx(adjusted_rand_score(three.labels, four.labels))
    assert (c.common, c.only_in_a, c.only_in_b) == (SEED_CUSTOMERS, 0, 0)
    expected = pd.crosstab(np.array(three.labels), np.array(four.labels))
    assert (c.crosstab.to_numpy() == expected.to_numpy()).all()
    itself = uc.compare_runs(stored.sql, a, a).comparison
    assert itself.ari == pytest.approx(1.0)
    assert (np.diag(itself.crosstab.to_numpy()) == itself.crosstab.sum(axis=1).to_numpy()).all()
    with pytest.raises(SegmentationError, match="does not exist"):
        uc.compare_runs(stored.sql, a, b + 1)


def test_an_hdbscan_run_reopens_with_its_model_and_scores_new_and_changed_customers(
    stored: Services, seed_rows: pd.DataFrame, tmp_path: Path
) -> None:
    features = uc.load_customer_features(stored)
    result = run(_prepared(features), algorithm="hdbscan")
    run_id = uc.save_run(stored.sql, result, name="dense groups", source=features.source)
    saved = uc.load_run(stored.sql, run_id)
    assert saved.result.fitted_model is not None
    assert saved.result.to_dict() == result.to_dict()

    # Twins of the first 30 customers under new IDs, and customer 2 with a new income.
    twins = seed_rows.head(30).assign(CustomerID=seed_rows["CustomerID"].head(30) + 5000)
    changed = seed_rows.iloc[[1]].assign(**{"Annual Income ($)": 189_000.0})
    path = tmp_path / "more_customers.csv"
    pd.concat([twins, changed]).to_csv(path, index=False)
    ingest(stored, path)

    new = uc.score_customers(stored, saved, scope="new").set_index("customer_id")
    assert sorted(new.index) == sorted(str(i) for i in range(5001, 5031))
    assert not new["in_run"].any() and new["run_segment"].isna().all()
    originals = features.frame[features.frame["customer_id"].isin([str(i) for i in range(1, 31)])]
    expected = score(result, originals)
    twin_of = {str(int(i) + 5000): i for i in expected.index}
    assert {k: int(new.loc[k, "segment"]) for k in twin_of} == {
        k: int(expected[v]) for k, v in twin_of.items()
    }
    assert (new["segment_name"] == [saved.result.segment_name(v) for v in new["segment"]]).all()

    moved = uc.score_customers(stored, saved, scope="changed").set_index("customer_id")
    assert set(moved.index) == {*new.index, "2"}
    assert bool(moved.loc["2", "in_run"])
    assert moved.loc["2", "run_segment"] == result.assignments()["2"]
    everyone = uc.score_customers(stored, saved, scope="all")
    assert len(everyone) == SEED_CUSTOMERS + 30
    with pytest.raises(SegmentationError, match="scope"):
        uc.score_customers(stored, saved, scope="some")  # type: ignore[arg-type]


def test_kmeans_scoring_of_customers_in_the_run_gives_back_their_segments(
    stored: Services,
) -> None:
    features = uc.load_customer_features(stored)
    result = run(
        _prepared(features, ("status", "country_name")), algorithm="kmeans", params={"k": 5}
    )
    saved = uc.load_run(
        stored.sql, uc.save_run(stored.sql, result, name="five", source=features.source)
    )

    everyone = uc.score_customers(stored, saved, scope="all", customers=features)

    assert everyone["in_run"].all()
    assert (everyone["segment"].to_numpy() == everyone["run_segment"].to_numpy()).all()
    assert uc.score_customers(stored, saved, scope="new", customers=features).empty


def test_without_master_data_the_customers_are_those_with_deliveries(stack: Services) -> None:
    rows = seeding.movement_rows(200, seed=5, customer_ids=["C1", "C2", "C3"])
    seeding.write_rows(stack.sql, movements=rows)

    features = uc.load_customer_features(stack, behaviour="movements")

    delivered = {r["tiers"] for r in rows if r["type_mouvement"] == seeding.DELIVERY}
    assert sorted(features.frame["customer_id"]) == sorted(delivered)
    assert "The customer master data is empty" in features.steps[-1]
    assert uc.load_customer_features(stack).frame.empty
