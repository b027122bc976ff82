"""Customer tables for the segmentation tests: the shared public files and synthetic blobs."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from core.segmentation import Prepared, prepare

from .samples import SEED_FEATURES, blobs

# The tests assert exact counts of these files (shared/data/README.md lists the same digests).
PINNED = {
    "seed_customers.csv": "1d46acecacece4e905b220143170d7f5f6bb3bd574c728e1d4584c9321a64cff",
    "online_retail_ii_head6000.csv": (
        "0668e394106187592373a9a1ac7caa7205b658d1b245b87900f313522c46c181"
    ),
    "wholesale_customers.csv": "3f0870127f523be113e254149ebcd746442c99fc768a8204e42b49b297247dbd",
}


def _pinned(shared_data: Path, name: str) -> Path:
    path = shared_data / name
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == PINNED[name], f"{name} is not the file these tests were written for"
    return path


@pytest.fixture(scope="session")
def seed_customers(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(_pinned(shared_data, "seed_customers.csv"))


@pytest.fixture(scope="session")
def wholesale(shared_data: Path) -> pd.DataFrame:
    path = _pinned(shared_data, "wholesale_customers.csv")
    return pd.read_csv(path, encoding="cp1252").dropna(axis=1, how="all")


@pytest.fixture(scope="session")
def retail_lines(shared_data: Path) -> pd.DataFrame:
    lines = pd.read_csv(_pinned(shared_data, "online_retail_ii_head6000.csv"))
    return lines.assign(Amount=lines["Quantity"] * lines["Price"])


@pytest.fixture(scope="session")
def seed_prepared(seed_customers: pd.DataFrame) -> Prepared:
    # Every column is offered, the ID included: prepare must leave it out by itself.
    return prepare(
        seed_customers, id_column="CustomerID", features=SEED_FEATURES, describe=["Country"]
    )


@pytest.fixture(scope="session")
def make_blobs_frame() -> Callable[..., pd.DataFrame]:
    return blobs


@pytest.fixture(scope="session")
def blob_frame() -> pd.DataFrame:
    return blobs()


@pytest.fixture(scope="session")
def blob_prepared(blob_frame: pd.DataFrame) -> Prepared:
    return prepare(blob_frame, id_column="id", features=["a", "b", "c"])
