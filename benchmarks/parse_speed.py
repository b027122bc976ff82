"""Reading an ERP stock-movement workbook: rows per second from upload to validated rows.

Builds a demo workbook with `core.demo` (58 columns, title rows above the header) once per
size in a temporary folder, then times, through the app's own functions,

    inspect    outline of the workbook (format, sheets, row counts, checksum)
    read       the sheet parsed in the limited child process, back as raw columns
    validate   mapping suggested, every cell coerced, duplicates dropped

and reports rows/s for read + validate, the CPU seconds spent (so a busy machine shows as
wall >> cpu) and peak memory, sampled every 100 ms from /proc: of the largest parsing process
(`parse_process_peak_mb`, VmHWM of the parsing child and of the workers it forks to read
slices of the sheet side by side), of all of them together (`parse_tree_peak_mb`, summed RSS)
and of this process, which plays the app (`app_max_rss_mb`, so far in the run).
`child_max_rss_mb` (max RSS of children from getrusage) is kept for comparison with older
runs; it also counts the app's pages a child holds between fork and exec, so once the app
is larger than the parsing child it shows the app's size.

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
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.domain.schemas import STOCK_MOVEMENTS_DATASET
from core.ingest.limits import ParseLimits
from core.ingest.mapping import suggest_mapping
from core.ingest.reader import inspect_file, prepare_reader, read_sheet
from core.ingest.validate import validate
from core.settings import load_settings

GOAL_ROWS_PER_S = 20_000
TREE_SAMPLE_S = 0.1
RESULTS = Path(__file__).resolve().parent / "results" / "parse_speed.json"


def workbook(folder: Path, rows: int) -> Path:
    path = folder / f"movements_{rows}.xlsx"
    if not path.exists():
        command = [sys.executable, "-m", "core.demo", "stock_movements", str(path)]
        subprocess.run([*command, "--rows", str(rows), "--title-rows", "2"], check=True)
    return path


def measure(path: Path, limits: ParseLimits) -> dict[str, float]:
    cpu = _cpu()
    tree = TreePeak()
    tree.start()
    start = time.perf_counter()
    info = inspect_file(path, limits=limits)
    inspected = time.perf_counter()
    table = read_sheet(path, sheet=info.sheets[0].name, limits=limits)
    read = time.perf_counter()
    mapping = suggest_mapping(STOCK_MOVEMENTS_DATASET, table.headers)
    report = validate(STOCK_MOVEMENTS_DATASET, table, mapping, file_name=path.name)
    done = time.perf_counter()
    tree.stop()
    return {
        "rows": report.total,
        "valid": report.valid,
        "inspect_s": round(inspected - start, 3),
        "read_s": round(read - inspected, 3),
        "validate_s": round(done - read, 3),
        "rows_per_s": round(report.total / (done - inspected)),
        "cpu_s": round(_cpu() - cpu, 2),
        "child_max_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "parse_process_peak_mb": round(tree.process_peak_kb / 1024),
        "parse_tree_peak_mb": round(tree.peak_kb / 1024),
        "app_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


class TreePeak(threading.Thread):
    """The largest summed resident memory of this process's descendants, sampled."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kb = 0
        self.process_peak_kb = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(TREE_SAMPLE_S):
            sizes = [_memory_kb(pid) for pid in _descendants(os.getpid())]
            self.peak_kb = max(self.peak_kb, sum(rss for rss, _ in sizes))
            self.process_peak_kb = max(self.process_peak_kb, *(hwm for _, hwm in sizes), 0)

    def stop(self) -> None:
        self._done.set()
        self.join()


def _descendants(root: int) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        for listing in Path(f"/proc/{pid}/task").glob("*/children"):
            try:
                children = [int(child) for child in listing.read_text().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


def _memory_kb(pid: int) -> tuple[int, int]:
    """Resident and peak resident memory (VmRSS, VmHWM) of a process, 0 when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0, 0
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    rss, hwm = (int(fields.get(key, "0 kB").split()[0]) for key in ("VmRSS", "VmHWM"))
    return rss, hwm


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
    prepare_reader(limits)  # as the upload page does before a file comes
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
