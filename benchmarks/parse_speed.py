"""Reading an ERP stock-movement workbook: rows per second from upload to validated rows.

Builds a demo workbook with `core.demo` (58 columns, title rows above the header) once per
size in a temporary folder, then times, through the app's own functions,

    inspect    outline of the workbook (format, sheets, row counts, checksum)
    read       the sheet parsed in the limited child process, back as raw columns
    validate   mapping suggested, every cell coerced, duplicates dropped

and reports rows/s for read + validate, the child's peak memory (max RSS of children) and
the CPU seconds spent, so a busy machine shows as wall >> cpu.

Goal: at least 20,000 rows/s at 100k rows x 58 columns.

    python benchmarks/parse_speed.py [--sizes 100000] [--repeat 1] [--keep DIR]

Results: benchmarks/results/parse_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.domain.schemas import STOCK_MOVEMENTS_DATASET
from core.ingest.limits import ParseLimits
from core.ingest.mapping import suggest_mapping
from core.ingest.reader import inspect_file, read_sheet
from core.ingest.validate import validate
from core.settings import load_settings

GOAL_ROWS_PER_S = 20_000
RESULTS = Path(__file__).resolve().parent / "results" / "parse_speed.json"


def workbook(folder: Path, rows: int) -> Path:
    path = folder / f"movements_{rows}.xlsx"
    if not path.exists():
        command = [sys.executable, "-m", "core.demo", "stock_movements", str(path)]
        subprocess.run([*command, "--rows", str(rows), "--title-rows", "2"], check=True)
    return path


def measure(path: Path, limits: ParseLimits) -> dict[str, float]:
    cpu = _cpu()
    start = time.perf_counter()
    info = inspect_file(path, limits=limits)
    inspected = time.perf_counter()
    table = read_sheet(path, sheet=info.sheets[0].name, limits=limits)
    read = time.perf_counter()
    mapping = suggest_mapping(STOCK_MOVEMENTS_DATASET, table.headers)
    report = validate(STOCK_MOVEMENTS_DATASET, table, mapping, file_name=path.name)
    done = time.perf_counter()
    return {
        "rows": report.total,
        "valid": report.valid,
        "inspect_s": round(inspected - start, 3),
        "read_s": round(read - inspected, 3),
        "validate_s": round(done - read, 3),
        "rows_per_s": round(report.total / (done - inspected)),
        "cpu_s": round(_cpu() - cpu, 2),
        "child_max_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
    }


def _cpu() -> float:
    own, children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="folder to keep the generated workbooks in")
    args = parser.parse_args()
    limits = ParseLimits.from_settings(load_settings())
    folder = args.keep or Path(tempfile.mkdtemp(prefix="pipeworks-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    results = []
    for size in args.sizes:
        path = workbook(folder, size)
        for _ in range(args.repeat):
            result = {"size": size, **measure(path, limits)}
            results.append(result)
            verdict = "ok" if result["rows_per_s"] >= GOAL_ROWS_PER_S else "below goal"
            print(json.dumps(result), verdict)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "load_average": os.getloadavg(),
                "goal_rows_per_s": GOAL_ROWS_PER_S,
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
