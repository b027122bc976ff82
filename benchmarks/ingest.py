"""End to end ingestion: an ERP workbook from upload to rows queryable in PostgreSQL.

A stock-movement export of 58 columns from `core.demo` (cached in /tmp) goes through

    ours      this process acts as the app: `check_file` (the sheet parsed in the limited
              child process, mapped, validated), then `commit_check` (product attributes,
              encoding, publishing to Kafka with acks="all"); a real `python -m background`
              worker consumes it into PostgreSQL (COPY into staging, INSERT ... ON CONFLICT)
              and the delivery documents into the document store. The clock stops when the
              upload's status is 'stored' and every valid row is countable in PostgreSQL.
    replaced  the replaced system's way on the same file: `pd.read_excel(engine="openpyxl")`,
              `astype(str)`, one `executemany` INSERT into a table of 58 VARCHAR(255) columns
              over psycopg2.

The timed run finds the servers warm, as in a running deployment: a Kafka broker just started
spends CPU seconds compiling its hot code, taken from the 2 cores the timed run shares.
Measured on runs of 100,000 rows one after the other from a broker start: the broker used
9.7, 3.4, 2.2 and 1.9 CPU seconds, and the runs took 23.8, 21.3, 19.3 and 18.5 s. So the
memory run (300,000 rows) goes first; without it, an untimed run of three times the timed
rows does (`--warm-up-rows` changes that, 0 skips it).

The timed run is made three times (`--repeat`), the replaced way's run between the first and
the second, and the median run is reported with the ratio of each. The 2 cores are a shared
virtual machine's: the same commit's run took from 17.4 to 26.3 s within ten minutes, its CPU
seconds varying as much, so one 20-second sample says little.

Phases of ours: parse+validate (`check_file`; also the parsing rate), publish (`commit_check`)
and store (from the end of publishing until the rows are countable; the worker stores while
publishing goes on). The worker's own time per batch (decode, documents, relational) comes from
its log.

The document store: the test MongoDB server is FerretDB 1.x on SQLite, whose upserts slow down
with the size of the collection (about 3.7 s for 450 delivery notes into an empty collection,
20-30 s once it holds 1,000-2,000): a 100,000-row upload (some 9,000 delivery notes) would take
hours there. So the timed and memory runs use the embedded document store (`--documents`
changes that), and a smaller run (`--documents-rows`) is made with each store, to show how
much of the store phase the document store takes.

Peak memory, on a larger run: the app side (this process and its parse child, `ru_maxrss` of
RUSAGE_SELF and RUSAGE_CHILDREN) and the worker (VmHWM of its process and of each of its
decoding processes, read before stopping it, and their sum). The worker's CPU seconds include
its decoding processes.

Each run gets a fresh PostgreSQL database, a unique MongoDB database and a unique topic prefix
(as `tests/conftest.py`'s `stack_env` does) and removes them afterwards. Each case runs in a
fresh child process, so its peak memory is its own. The servers are those of
`tests/services/services.sh`; the machine has 2 cores, possibly shared: compare the ratios.

    eval "$(bash tests/services/services.sh env)"
    python benchmarks/ingest.py [--rows 100000] [--memory-rows 300000] [--documents-rows 10000]
                                [--documents embedded|server] [--no-replaced] [--quick]
                                [--warm-up-rows ROWS] [--repeat 3]

Results are printed as a table and written to benchmarks/results/ingest.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results" / "ingest.json"
CACHE = Path(tempfile.gettempdir()) / "pipeworks-bench"
DEFAULT_ROWS = 100_000
DEFAULT_REPEAT = 3
DEFAULT_MEMORY_ROWS = 300_000
QUICK_ROWS = 20_000
QUICK_MEMORY_ROWS = 40_000
DEFAULT_DOCUMENTS_ROWS = 10_000
QUICK_DOCUMENTS_ROWS = 5_000
SEED = 0
GOAL_RATIO = 8.0
GOAL_ROWS_PER_S = 20_000
GOAL_PEAK_MB = 1_536
STORE_TIMEOUT_S = 1_800
READY_TIMEOUT_S = 60
CASE_TIMEOUT_S = 3_600
POLL_S = 0.1
IDLE_POLLS = 3  # the machine is at rest after this many checks in a row ...
IDLE_CPU_S = 0.02  # ... each finding less CPU used than this
SERVER_VARIABLES = ("PIPEWORKS_DATABASE_URL", "PIPEWORKS_MONGO_URL", "PIPEWORKS_KAFKA_BOOTSTRAP")
_BATCH_LINE = re.compile(
    r"stored (\d+) rows, dead-lettered (\d+) in ([\d.]+) s "
    r"\(decode ([\d.]+) s, documents ([\d.]+) s, relational ([\d.]+) s; "
    r"waited ([\d.]+) s for the decoding process\)"
)


# ----------------------------------------------------------------------------- workbooks
def workbook(rows: int) -> tuple[Path, float | None]:
    """The cached demo workbook of `rows` movements and the seconds spent writing it now
    (None when it came from the cache). The cache key includes the generator's source."""
    source = (ROOT / "core" / "demo.py").read_bytes()
    version = hashlib.sha256(source).hexdigest()[:10]
    path = CACHE / f"movements_{rows}_seed{SEED}_{version}.xlsx"
    if path.exists():
        return path, None
    from core.demo import write_stock_movements

    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.xlsx")
    start = time.perf_counter()
    write_stock_movements(partial, rows=rows, seed=SEED)
    elapsed = time.perf_counter() - start
    partial.replace(path)
    return path, elapsed


# ----------------------------------------------------------------------------- one stack
class Stack:
    """A fresh database, MongoDB database and topic prefix on the test servers."""

    def __init__(self, *, documents: str) -> None:
        from sqlalchemy.engine import make_url

        self.name = "bench" + uuid.uuid4().hex[:10]
        self.server_url = os.environ["PIPEWORKS_DATABASE_URL"]
        self.url = make_url(self.server_url).set(database=self.name).render_as_string(False)
        self.folder = Path(tempfile.mkdtemp(prefix="pipeworks-bench-"))
        self.env = {
            "PIPEWORKS_DATA_DIR": str(self.folder / "data"),
            "PIPEWORKS_DATABASE_URL": self.url,
            "PIPEWORKS_KAFKA_BOOTSTRAP": os.environ["PIPEWORKS_KAFKA_BOOTSTRAP"],
            "PIPEWORKS_TOPIC_PREFIX": f"{self.name}.",
            "PIPEWORKS_EMBEDDED_WORKER": "false",
        }
        if documents == "server":
            self.env |= {
                "PIPEWORKS_MONGO_URL": os.environ["PIPEWORKS_MONGO_URL"],
                "PIPEWORKS_MONGO_DB": self.name,
            }
        self._admin("CREATE")

    def _admin(self, verb: str) -> None:
        from sqlalchemy import create_engine, text

        admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if verb == "CREATE":
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            else:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        admin.dispose()

    def process_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEWORKS_")}
        return env | self.env

    def remove(self) -> None:
        self._admin("DROP")
        if "PIPEWORKS_MONGO_URL" in self.env:
            from pymongo import MongoClient

            client: MongoClient[dict[str, Any]] = MongoClient(self.env["PIPEWORKS_MONGO_URL"])
            client.drop_database(self.name)
            client.close()
        from kafka.admin import KafkaAdminClient

        admin = KafkaAdminClient(bootstrap_servers=self.env["PIPEWORKS_KAFKA_BOOTSTRAP"])
        try:
            mine = [t for t in admin.list_topics() if t.startswith(f"{self.name}.")]
            if mine:
                admin.delete_topics(mine)
        finally:
            admin.close()
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)


class Worker:
    """A `python -m background` process of a stack, its log in the stack's folder."""

    def __init__(self, stack: Stack) -> None:
        self.log_path = stack.folder / "worker.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "background"],
            cwd=ROOT,
            env=stack.process_env(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.topic_prefix = stack.env["PIPEWORKS_TOPIC_PREFIX"]
        self.bootstrap = stack.env["PIPEWORKS_KAFKA_BOOTSTRAP"]
        from core.settings import load_settings

        self.group = load_settings(stack.env, secrets_file=None).consumer_group

    def wait_ready(self) -> None:
        """Until the worker's consumer has joined its group and holds the topics."""
        from kafka.admin import KafkaAdminClient
        from kafka.errors import KafkaError

        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        deadline = time.monotonic() + READY_TIMEOUT_S
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the worker stopped: {self.log_path.read_text()[-2000:]}")
                try:  # a broker just started has no group coordinator for a moment
                    groups = admin.describe_groups([self.group])
                except KafkaError:
                    groups = []
                if self.topic_prefix in json.dumps(groups, default=str):
                    return
                time.sleep(0.2)
        finally:
            admin.close()
        raise RuntimeError("the worker did not join its consumer group in time")

    def wait_idle(self) -> None:
        """Until the worker runs its decoding processes and, with the app's parsing child,
        has stopped using CPU: a deployment starts them long before an upload comes, and
        their imports (some 2 CPU seconds each) would otherwise fall into the timed run."""
        from background.worker import DECODERS

        deadline = time.monotonic() + READY_TIMEOUT_S
        last, calm = -1.0, 0
        while calm < IDLE_POLLS and time.monotonic() < deadline:
            time.sleep(POLL_S * 2)
            worker = _process_tree(self.process.pid)
            started = len(worker) > DECODERS  # the worker and them
            used = sum(map(_cpu_s_of, [*worker, *_process_tree(os.getpid())[1:]]))
            calm = calm + 1 if started and used - last < IDLE_CPU_S else 0
            last = used

    def cpu_s(self) -> float:
        """CPU seconds the worker process and its decoding processes have used so far."""
        return sum(map(_cpu_s_of, _process_tree(self.process.pid)))

    def peak_mb(self) -> float:
        """Peak memory of the worker process."""
        return _peak_mb(self.process.pid)

    def children_peak_mb(self) -> list[float]:
        """Peak memory of each process the worker started (its decoding processes)."""
        return [_peak_mb(pid) for pid in _process_tree(self.process.pid)[1:]]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def batches(self) -> dict[str, float]:
        """The worker's own time per phase, summed over the batches it logged."""
        found = [m.groups() for m in _BATCH_LINE.finditer(self.log_path.read_text())]
        names = (
            "stored",
            "dead_lettered",
            "total_s",
            "decode_s",
            "documents_s",
            "relational_s",
            "waited_decoding_s",
        )
        sums = {name: sum(float(g[i]) for g in found) for i, name in enumerate(names)}
        return {"batches": len(found), **{k: round(v, 2) for k, v in sums.items()}}


def _process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (from /proc: the children of each of its threads)."""
    found, index = [pid], 0
    while index < len(found):
        for children in Path(f"/proc/{found[index]}/task").glob("*/children"):
            found.extend(int(p) for p in children.read_text().split())
        index += 1
    return found


def _cpu_s_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:  # it ended meanwhile
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    kib = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]
    return kib / 1024


# ----------------------------------------------------------------------------- cases
def ours(path: Path, *, documents: str) -> dict[str, Any]:
    """Upload to rows countable in PostgreSQL through Kafka and the worker process."""
    from core.bootstrap import build_services
    from core.domain.schemas import STOCK_MOVEMENTS
    from core.ingest.limits import ParseLimits
    from core.ingest.reader import prepare_reader
    from core.settings import load_settings
    from core.usecases.ingest_file import check_file, commit_check

    stack = Stack(documents=documents)
    worker: Worker | None = None
    try:
        settings = load_settings(stack.env, secrets_file=None)
        services = build_services(settings)
        limits = ParseLimits.from_settings(settings)
        worker = Worker(stack)
        # A running app has its engine, schema, producer and parsing child ready (the upload
        # page starts the child): so does this one.
        prepare_reader(limits)
        services.sql.ensure_schema()
        services.bus.publish(settings.topic(STOCK_MOVEMENTS), [])
        worker.wait_ready()
        worker.wait_idle()

        worker_cpu_before = worker.cpu_s()
        cpu = [_cpu_s()]
        start = time.perf_counter()
        check = check_file(path, dataset=STOCK_MOVEMENTS, sql=services.sql, limits=limits)
        checked = time.perf_counter()
        cpu.append(_cpu_s())
        result = commit_check(check, services, source="benchmark")
        published = time.perf_counter()
        cpu.append(_cpu_s())
        expected = check.report.valid
        status = _wait_stored(services.sql, result.upload_id, expected)
        stored = time.perf_counter()

        app_self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        parse_child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        worker_mb = worker.peak_mb()
        decoders_mb = worker.children_peak_mb()
        worker_cpu = worker.cpu_s() - worker_cpu_before
        upload = services.sql.get_upload(result.upload_id) or {}
        services.close()
    finally:
        if worker is not None:
            worker.stop()
        batches = worker.batches() if worker is not None else {}
        stack.remove()
    return {
        "documents": documents,
        "rows": check.report.total,
        "valid": expected,
        "status": status,
        "stored": upload.get("stored"),
        "dead_lettered": upload.get("dead_lettered"),
        "total_s": round(stored - start, 2),
        "parse_validate_s": round(checked - start, 2),
        "publish_s": round(published - checked, 2),
        "store_s": round(stored - published, 2),
        "rows_per_s_parse": round(check.report.total / (checked - start)),
        "cpu_s": {
            "parse_validate": round(cpu[1] - cpu[0], 2),
            "publish": round(cpu[2] - cpu[1], 2),
            "worker": round(worker_cpu, 2),
        },
        "worker": batches,
        "app_peak_mb": round(app_self_mb),
        "parse_child_peak_mb": round(parse_child_mb),
        "worker_peak_mb": round(worker_mb),
        "worker_decoder_peak_mb": round(max(decoders_mb, default=0.0)),  # the largest
        "worker_decoders": len(decoders_mb),
        # the worker and its decoding processes together, each at its own peak
        "worker_all_peak_mb": round(worker_mb + sum(decoders_mb)),
    }


def _cpu_s() -> float:
    """CPU seconds of this process and of its waited-for children (the parse child)."""
    own, children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _wait_stored(sql: Any, upload_id: str, expected: int) -> str:
    deadline = time.monotonic() + STORE_TIMEOUT_S
    status = ""
    while time.monotonic() < deadline:
        status = (sql.get_upload(upload_id) or {}).get("status", "")
        if status == "failed":
            raise RuntimeError("the upload failed")
        if status == "stored" and sql.count_rows("stock_movements") >= expected:
            return status
        time.sleep(POLL_S)
    raise RuntimeError(f"the rows were not stored in time (status {status!r})")


def replaced(path: Path) -> dict[str, Any]:
    """The replaced system: pandas with openpyxl, every value as text, one executemany."""
    import pandas as pd
    import psycopg2
    from sqlalchemy.engine import make_url

    stack = Stack(documents="embedded")
    try:
        dsn = make_url(stack.url).set(drivername="postgresql").render_as_string(False)
        start = time.perf_counter()
        frame = pd.read_excel(path, engine="openpyxl")
        read = time.perf_counter()
        frame = frame.astype(str)
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        with psycopg2.connect(dsn) as conn, conn.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS mv_db")
            definition = ", ".join(f'"{c}" VARCHAR(255)' for c in frame.columns)
            cursor.execute(f"CREATE TABLE mv_db ({definition})")
            marks = ", ".join(["%s"] * len(frame.columns))
            cursor.executemany(
                f"INSERT INTO mv_db ({columns}) VALUES ({marks})", frame.values.tolist()
            )
            conn.commit()
            cursor.execute("SELECT count(*) FROM mv_db")
            count = cursor.fetchone()[0]
        conn.close()
        done = time.perf_counter()
    finally:
        stack.remove()
    return {
        "rows": count,
        "columns": len(frame.columns),
        "total_s": round(done - start, 2),
        "read_s": round(read - start, 2),
        "insert_s": round(done - read, 2),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


CASES = {"ours": ours, "replaced": replaced}


def _run_case(case: str, path: Path, **options: str) -> dict[str, Any]:
    """One case in a fresh interpreter, so that its memory peaks are its own."""
    command = [sys.executable, __file__, "--case", case, "--file", str(path)]
    for name, value in options.items():
        command += [f"--{name}", value]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=CASE_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"case {case} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- report
def _table(results: dict[str, Any]) -> str:
    main, base = results["ours"], results.get("replaced")
    lines = [f"{'':44}{'seconds':>9}{'rows/s':>9}"]

    def line(label: str, seconds: float, rows: int | None = None) -> None:
        rate = f"{rows / seconds:>9,.0f}" if rows and seconds else f"{'':>9}"
        lines.append(f"{label:44}{seconds:>9.2f}{rate}")

    def worker(run: dict[str, Any]) -> None:
        w = run["worker"]
        lines.append(
            f"  worker busy {w['total_s']:.2f} s in {w['batches']} batches: decode "
            f"{w['decode_s']:.2f}, documents {w['documents_s']:.2f}, relational "
            f"{w['relational_s']:.2f}; waited {w.get('waited_decoding_s', 0):.2f} for decoding"
        )

    rows = main["rows"]
    runs = results.get("ours_runs_s", [main["total_s"]])
    if len(runs) > 1:
        listed = ", ".join(f"{s:.2f}" for s in runs)
        lines.append(f"ours, {len(runs)} runs: {listed} s; the median one:")
    line(f"ours, {rows:,} rows, {main['documents']} documents", main["total_s"], rows)
    line("  parse + validate (check_file)", main["parse_validate_s"], rows)
    line("  publish (commit_check)", main["publish_s"], rows)
    line("  store (after publishing)", main["store_s"])
    worker(main)
    cpu = main["cpu_s"]
    lines.append(
        f"  cpu seconds: parse+validate {cpu['parse_validate']:.2f}, publish {cpu['publish']:.2f},"
        f" worker {cpu['worker']:.2f}"
    )
    if base:
        line("replaced, end to end", base["total_s"], base["rows"])
        line("  read_excel(openpyxl)", base["read_s"], base["rows"])
        line("  astype(str) + executemany", base["insert_s"], base["rows"])
        each = ", ".join(f"{r:.1f}" for r in results.get("ratios", []))
        lines.append(
            f"ratio replaced / ours (median run): {results['ratio']:.1f}x (goal {GOAL_RATIO:g}x)"
            + (f"; each run {each}x" if len(results.get("ratios", [])) > 1 else "")
        )
    lines.append(f"parsing rate: {main['rows_per_s_parse']:,} rows/s (goal {GOAL_ROWS_PER_S:,})")
    for run in results.get("documents", []):
        line(
            f"ours, {run['rows']:,} rows, {run['documents']} documents", run["total_s"], run["rows"]
        )
        line("  store (after publishing)", run["store_s"])
        worker(run)
    memory = results.get("memory")
    if memory:
        lines.append(
            f"peak memory at {memory['rows']:,} rows: app {memory['app_peak_mb']:,} MB, parse "
            f"child {memory['parse_child_peak_mb']:,} MB, worker {memory['worker_peak_mb']:,} MB"
            f" and its {memory.get('worker_decoders', 1)} decoding processes up to "
            f"{memory.get('worker_decoder_peak_mb', 0):,} MB each, "
            f"{memory.get('worker_all_peak_mb', 0):,} MB together "
            f"(goal < {GOAL_PEAK_MB:,} MB each); end to end {memory['total_s']:.1f} s"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, help=f"rows of the timed run ({DEFAULT_ROWS:,})")
    parser.add_argument(
        "--memory-rows", type=int, help=f"rows of the memory run ({DEFAULT_MEMORY_ROWS:,}; 0 skips)"
    )
    parser.add_argument(
        "--documents-rows",
        type=int,
        help=f"rows of the document-store comparison ({DEFAULT_DOCUMENTS_ROWS:,}; 0 skips)",
    )
    parser.add_argument("--quick", action="store_true", help="small files, for a smoke run")
    parser.add_argument(
        "--documents",
        choices=("embedded", "server"),
        default="embedded",
        help="document store of the timed and memory runs (embedded)",
    )
    parser.add_argument("--no-replaced", action="store_true", help="skip the replaced system")
    parser.add_argument(
        "--warm-up-rows",
        type=int,
        help="rows of an untimed run warming the servers before the timed one (by default none "
        "after the memory run, else three times the timed rows; 0 skips)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=DEFAULT_REPEAT,
        help=f"timed runs of ours; the median one is reported ({DEFAULT_REPEAT})",
    )
    parser.add_argument("--case", choices=tuple(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    missing = [v for v in SERVER_VARIABLES if not os.environ.get(v)]
    if missing:
        parser.error(f'set {", ".join(missing)}: eval "$(bash tests/services/services.sh env)"')
    if args.case:
        options = {"documents": args.documents} if args.case == "ours" else {}
        print(json.dumps(CASES[args.case](args.file, **options)))
        return 0

    def size(given: int | None, quick: int, default: int) -> int:
        return given if given is not None else quick if args.quick else default

    rows = size(args.rows, QUICK_ROWS, DEFAULT_ROWS)
    memory_rows = size(args.memory_rows, QUICK_MEMORY_ROWS, DEFAULT_MEMORY_ROWS)
    documents_rows = size(args.documents_rows, QUICK_DOCUMENTS_ROWS, DEFAULT_DOCUMENTS_ROWS)
    path, generated_s = workbook(rows)
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_average_before": os.getloadavg(),
        "workbook": {"rows": rows, "columns": 58, "mb": round(path.stat().st_size / 2**20, 1)},
        "generated_s": {str(rows): _rounded(generated_s)},
        "goals": {"ratio": GOAL_RATIO, "rows_per_s": GOAL_ROWS_PER_S, "peak_mb": GOAL_PEAK_MB},
    }
    print(f"workbook {path} ({'cached' if generated_s is None else f'{generated_s:.1f} s'})")
    if memory_rows:  # first: the largest run also warms the servers
        big, big_generated_s = workbook(memory_rows)
        results["generated_s"][str(memory_rows)] = _rounded(big_generated_s)
        results["memory"] = _run_case("ours", big, documents=args.documents)
        print("memory:", json.dumps(results["memory"]))
    warm_up_rows = args.warm_up_rows
    if warm_up_rows is None:  # the memory run warmed them, else three times the timed rows
        warm_up_rows = 0 if memory_rows else 3 * rows
    if warm_up_rows:
        warm, warm_generated_s = workbook(warm_up_rows)
        results["generated_s"].setdefault(str(warm_up_rows), _rounded(warm_generated_s))
        warm_up = _run_case("ours", warm, documents=args.documents)
        results["warm_up"] = {"rows": warm_up["rows"], "total_s": warm_up["total_s"]}
        print("warm-up:", json.dumps(results["warm_up"]))
    runs = []
    for attempt in range(args.repeat):
        runs.append(_run_case("ours", path, documents=args.documents))
        print("ours:", json.dumps(runs[-1]))
        if attempt == 0 and not args.no_replaced:  # between our runs, in the same conditions
            results["replaced"] = _run_case("replaced", path)
            print("replaced:", json.dumps(results["replaced"]))
    results["ours"] = sorted(runs, key=lambda run: run["total_s"])[(len(runs) - 1) // 2]
    results["ours_runs_s"] = [run["total_s"] for run in runs]
    if "replaced" in results:
        replaced_s = results["replaced"]["total_s"]
        results["ratio"] = round(replaced_s / results["ours"]["total_s"], 2)
        results["ratios"] = [round(replaced_s / run["total_s"], 2) for run in runs]
    if documents_rows:
        small, small_generated_s = workbook(documents_rows)
        results["generated_s"][str(documents_rows)] = _rounded(small_generated_s)
        results["documents"] = []
        for documents in ("server", "embedded"):
            run = _run_case("ours", small, documents=documents)
            results["documents"].append(run)
            print(f"ours ({documents} documents):", json.dumps(run))
    results["load_average_after"] = os.getloadavg()
    print()
    print(_table(results))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)


if __name__ == "__main__":
    raise SystemExit(main())
