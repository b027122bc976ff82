"""Segmentation at scale: 100,000 customers × 10 features (synthetic blobs).

What is measured, each case in a fresh child process (so its peak memory is its own):

    choose_k        prepare + choose_k over k = 2..10 (silhouette on a 5,000-customer sample)
    hdbscan         prepare + run(algorithm="hdbscan") with the defaults (a 20,000-customer
                    fitted sample above that size), metrics, profiles and PCA included
    dbscan          prepare + run(algorithm="dbscan") with the suggested eps and min_samples

against the naive approaches, which are too slow to run at 100,000 here:

    choose_k_naive  K-means per k and the silhouette over every customer (O(n²) per k): run at
                    10,000 and 20,000 customers, compared with choose_k at the same sizes, and
                    extrapolated to 100,000 two ways: the power law through those two points,
                    and K-means time × 5 plus silhouette time × 25 from the 20,000 run
    hdbscan_naive   the `hdbscan` package on every customer with its default min_samples
                    (= min_cluster_size, 1 % of customers): compared at 20,000 customers
    hdbscan_full    the package on every customer with min_samples=10 but no sample: 100,000

Every case runs with the engine's thread policy (one BLAS/OpenMP thread, HDBSCAN's core
distances in-process), so the comparisons measure the approach, not thread contention.
Time is wall-clock seconds of the step (data generation excluded); memory is the child's peak
resident set (ru_maxrss) and its growth over the baseline after generating the data. Results
are printed as a table and written to benchmarks/results/segmentation.json. The machine has 2
cores, possibly shared: compare ratios more than absolute times.

    python benchmarks/segmentation.py            # every case (several minutes)
    python benchmarks/segmentation.py --quick    # skips hdbscan_naive and hdbscan_full
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "segmentation.json"
N = 100_000
FEATURES = 10
CENTERS = 6
NAIVE_SIZES = (10_000, 20_000)
HDBSCAN_NAIVE_SIZE = 20_000
K_RANGE = range(2, 11)
GOAL_CHOOSE_K_S = 10.0
GOAL_HDBSCAN_S = 30.0
CHILD_MEMORY_CAP = 12 * 1024**3
CHILD_TIMEOUT_S = 600


def _data(n: int, seed: int = 0) -> Any:
    import pandas as pd
    from sklearn.datasets import make_blobs

    x, _ = make_blobs(n_samples=n, n_features=FEATURES, centers=CENTERS, random_state=seed)
    frame = pd.DataFrame(x, columns=[f"f{i + 1}" for i in range(FEATURES)])
    frame.insert(0, "customer_id", [f"C{i:07d}" for i in range(1, n + 1)])
    return frame


def _rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def _case(name: str, n: int) -> dict[str, Any]:
    """Run one case in this process and describe it."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from core.segmentation import choose_k, prepare, run
    from core.segmentation.threads import limited_threads

    frame = _data(n)
    features = [c for c in frame.columns if c != "customer_id"]
    baseline = _rss_mb()
    started = time.perf_counter()
    details: dict[str, Any] = {}
    if name in ("choose_k", "hdbscan", "dbscan"):
        prepared = prepare(frame, id_column="customer_id", features=features)
        details["prepare_s"] = round(time.perf_counter() - started, 3)
        if name == "choose_k":
            choice = choose_k(prepared, k_range=K_RANGE)
            details |= {"suggested_k": choice.suggested_k, "sample": choice.sample_size}
        else:
            result = run(prepared, algorithm=name, seed=0)
            details |= {
                "segments": result.quality.n_segments,
                "noise_share": round(result.quality.noise_share, 4),
                "params": result.params,
                "notes": list(result.notes),
            }
    elif name == "choose_k_naive":
        from sklearn.cluster import KMeans
        from sklearn.metrics import silhouette_score
        from sklearn.preprocessing import StandardScaler

        x = StandardScaler().fit_transform(frame[features].to_numpy())
        scores = []
        kmeans_s = silhouette_s = 0.0
        with limited_threads():
            for k in K_RANGE:
                tick = time.perf_counter()
                labels = KMeans(n_clusters=k, n_init=4, random_state=0).fit_predict(x)
                tock = time.perf_counter()
                scores.append(float(silhouette_score(x, labels)))
                kmeans_s += tock - tick
                silhouette_s += time.perf_counter() - tock
        details |= {
            "suggested_k": list(K_RANGE)[int(np.argmax(scores))],
            "kmeans_s": round(kmeans_s, 3),
            "silhouette_s": round(silhouette_s, 3),
        }
    elif name in ("hdbscan_naive", "hdbscan_full"):
        import hdbscan
        from sklearn.preprocessing import StandardScaler

        x = StandardScaler().fit_transform(frame[features].to_numpy())
        size = max(5, round(0.01 * n))
        min_samples = None if name == "hdbscan_naive" else 10
        with limited_threads():
            clusterer = hdbscan.HDBSCAN(
                min_cluster_size=size,
                min_samples=min_samples,
                prediction_data=True,
                core_dist_n_jobs=1,
            ).fit(x)
        details |= {
            "segments": int(clusterer.labels_.max() + 1),
            "min_samples": min_samples or size,
        }
    else:
        raise SystemExit(f"unknown case {name}")
    seconds = time.perf_counter() - started
    peak = _rss_mb()
    return {
        "case": name,
        "n": n,
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(peak, 1),
        "step_rss_mb": round(peak - baseline, 1),
        **details,
    }


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_CAP, CHILD_MEMORY_CAP))


def _in_child(name: str, n: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--case", name, "--n", str(n)]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            preexec_fn=_limit_memory,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"case": name, "n": n, "error": f"timed out after {CHILD_TIMEOUT_S} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"case": name, "n": n, "error": f"exit {done.returncode}: {tail}"}
    return json.loads(lines[-1])


def _power_law(points: list[tuple[int, float]], n: int) -> tuple[float, float]:
    (n1, t1), (n2, t2) = points
    exponent = math.log(t2 / t1) / math.log(n2 / n1)
    return t2 * (n / n2) ** exponent, exponent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case")
    parser.add_argument("--n", type=int, default=N)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(_case(args.case, args.n)))
        return

    plan = [("choose_k", args.n), ("hdbscan", args.n), ("dbscan", args.n)]
    plan += [(case, size) for size in NAIVE_SIZES for case in ("choose_k", "choose_k_naive")]
    if not args.quick:
        plan += [("hdbscan", HDBSCAN_NAIVE_SIZE), ("hdbscan_naive", HDBSCAN_NAIVE_SIZE)]
        plan += [("hdbscan_full", args.n)]
    load_before = os.getloadavg()
    rows = []
    for case, size in plan:
        row = _in_child(case, size)
        rows.append(row)
        shown = row.get("error") or f"{row['seconds']:8.2f} s  {row['step_rss_mb']:8.1f} MB"
        print(f"{case:15} n={size:>7,}  {shown}", flush=True)

    def seconds(case: str, n: int) -> float | None:
        for row in rows:
            if row["case"] == case and row["n"] == n and "seconds" in row:
                return float(row["seconds"])
        return None

    summary: dict[str, Any] = {}
    naive = [(n, seconds("choose_k_naive", n)) for n in NAIVE_SIZES]
    if all(t for _, t in naive):
        estimate, exponent = _power_law([(n, float(t)) for n, t in naive], args.n)
        summary["choose_k_naive_power_law_s"] = round(estimate, 1)
        summary["choose_k_naive_exponent"] = round(exponent, 2)
    largest = next(
        (r for r in rows if r["case"] == "choose_k_naive" and r["n"] == NAIVE_SIZES[-1]), {}
    )
    if "silhouette_s" in largest:
        # K-means grows linearly with n, the full silhouette quadratically.
        scale = args.n / NAIVE_SIZES[-1]
        quadratic = largest["kmeans_s"] * scale + largest["silhouette_s"] * scale**2
        summary["choose_k_naive_quadratic_model_s"] = round(quadratic, 1)
    for n in NAIVE_SIZES:
        ours, theirs = seconds("choose_k", n), seconds("choose_k_naive", n)
        if ours and theirs:
            summary[f"choose_k_speedup_at_{n}"] = round(theirs / ours, 1)
    ours, theirs = (
        seconds("hdbscan", HDBSCAN_NAIVE_SIZE),
        seconds("hdbscan_naive", HDBSCAN_NAIVE_SIZE),
    )
    if ours and theirs:
        summary[f"hdbscan_speedup_at_{HDBSCAN_NAIVE_SIZE}"] = round(theirs / ours, 1)
    full, sampled = seconds("hdbscan_full", args.n), seconds("hdbscan", args.n)
    if full and sampled:
        summary[f"hdbscan_sampling_speedup_at_{args.n}"] = round(full / sampled, 1)
    choose, hdb = seconds("choose_k", args.n), seconds("hdbscan", args.n)
    summary["goal_choose_k_under_s"] = GOAL_CHOOSE_K_S
    summary["goal_choose_k_met"] = choose is not None and choose < GOAL_CHOOSE_K_S
    summary["goal_hdbscan_under_s"] = GOAL_HDBSCAN_S
    summary["goal_hdbscan_met"] = hdb is not None and hdb < GOAL_HDBSCAN_S
    for key, value in summary.items():
        print(f"{key:40} {value}")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": [round(v, 2) for v in load_before],
            "load_average_after": [round(v, 2) for v in os.getloadavg()],
        },
        "data": {"n": args.n, "features": FEATURES, "centers": CENTERS, "kind": "make_blobs"},
        "cases": rows,
        "summary": summary,
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"written {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
