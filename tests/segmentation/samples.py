"""Column lists and synthetic customers shared by the segmentation tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import make_blobs

SEED_FEATURES = [
    "CustomerID",
    "Status",
    "Annual Income ($)",
    "Spending Score (1-100)",
    "Work Experience",
    "Customer size",
    "Founded",
    "Number of employees",
    "Country",
]
WHOLESALE_SPENDING = ["Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"]
BLOB_CENTERS = np.array([[0.0, 0.0, 0.0], [20.0, 0.0, 0.0], [0.0, 20.0, 0.0], [0.0, 0.0, 20.0]])


def blobs(n: int = 800, *, seed: int = 0, std: float = 1.0) -> pd.DataFrame:
    """Four well-separated round groups in 3 features, with customer IDs 'B0001'..."""
    x, _ = make_blobs(n_samples=n, centers=BLOB_CENTERS, cluster_std=std, random_state=seed)
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame.insert(0, "id", [f"B{i:04d}" for i in range(1, n + 1)])
    return frame
