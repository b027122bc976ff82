"""`python -m core`: the command line.

    python -m core ingest PATH --dataset {stock_movements,deliveries,customers}
                          [--sheet S] [--dry-run] [--json]
    python -m core demo {stock_movements,deliveries,customers} OUT --rows N [--seed S]
    python -m core rebuild-deliveries


`ingest` prints the validation report and, unless `--dry-run`, publishes the valid rows for
the worker to store. Exit codes: 0 when the file was read, 1 when it was read but nothing
could be committed (columns missing, bus unreachable), 2 when it could not be read at all
(one line on stderr).

`rebuild-deliveries` rebuilds the relational projection of the delivery documents (the
tables the deliveries screens and dashboards read) from the document store; the worker does
it by itself on its first start. It refuses to run while a worker runs on the same data folder.
Exit 0 when done, 1 when a store cannot be reached or a worker runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.domain.schemas import DATASET_NAMES
from core.errors import FileRejected, PipeworksError


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["demo"]:
        from core.demo import main as demo_main

        return demo_main(args[1:])
    parser = argparse.ArgumentParser(prog="python -m core", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    ingest = commands.add_parser("ingest", help="validate a workbook and commit its valid rows")
    ingest.add_argument("path", type=Path)
    ingest.add_argument("--dataset", required=True, choices=DATASET_NAMES)
    ingest.add_argument("--sheet")
    ingest.add_argument("--dry-run", action="store_true", help="validate only, commit nothing")
    ingest.add_argument("--json", action="store_true", help="print the report as JSON")
    ingest.add_argument("--force", action="store_true", help="commit even if already loaded")
    commands.add_parser("demo", help="write demo workbooks (see python -m core demo --help)")
    commands.add_parser(
        "rebuild-deliveries",
        help="rebuild the delivery tables of the relational store from the delivery documents",
    )
    options = parser.parse_args(args)
    if options.command == "rebuild-deliveries":
        return _rebuild_deliveries()
    return _ingest(options)


def _rebuild_deliveries() -> int:
    from core.bootstrap import build_services
    from core.settings import load_settings
    from core.usecases.delivery_projection import rebuild_projection
    from core.worker_lock import acquire_lock

    try:
        settings = load_settings()
        lock = acquire_lock(settings.data_dir)
        if lock is None:
            print(
                f"pipeworks: a worker runs on the data folder {settings.data_dir}: stop it "
                "first (it rebuilds the delivery tables by itself when they are missing)",
                file=sys.stderr,
            )
            return 1
        with lock:
            services = build_services(settings)
            try:
                documents = rebuild_projection(services.sql, services.documents)
            finally:
                services.close()
    except PipeworksError as exc:
        print(f"pipeworks: {exc}", file=sys.stderr)
        return 1
    print(f"delivery projection rebuilt from {documents:,} delivery documents")
    return 0


def _ingest(options: argparse.Namespace) -> int:
    from core.bootstrap import build_services
    from core.ingest.limits import ParseLimits
    from core.settings import load_settings
    from core.usecases.ingest_file import check_file, commit_check, report_summary

    if not options.path.is_file():
        print(f"{options.path}: no such file", file=sys.stderr)
        return 2
    try:
        settings = load_settings()
        services = build_services(settings)
        check = check_file(
            options.path,
            dataset=options.dataset,
            sql=services.sql,
            limits=ParseLimits.from_settings(settings),
            sheet=options.sheet,
        )
    except FileRejected as exc:
        print(f"{options.path.name}: {exc}", file=sys.stderr)
        return 2
    except PipeworksError as exc:
        print(f"pipeworks: {exc}", file=sys.stderr)
        return 1
    summary = report_summary(check)
    status = 0
    if not options.dry_run:
        try:
            result = commit_check(check, services, source="cli", force=options.force)
        except PipeworksError as exc:
            summary["commit"] = {"error": str(exc)}
            status = 1
        else:
            summary["commit"] = {
                "upload_id": result.upload_id,
                "published": result.published,
                "already_loaded": bool(result.already_loaded),
            }
    print(json.dumps(summary, indent=2, default=str) if options.json else _text(summary))
    return status


def _text(summary: dict) -> str:  # type: ignore[type-arg]
    counts = summary["counts"]
    lines = [
        f"{summary['file']} · sheet {summary['sheet']} · {summary['dataset']}",
        f"rows {counts['total']}: valid {counts['valid']}, rejected {counts['rejected']}, "
        f"duplicates {counts['duplicates']}",
    ]
    if summary["missing_required"]:
        lines.append("missing required columns: " + ", ".join(summary["missing_required"]))
    if summary["unexpected_columns"]:
        lines.append("unexpected columns: " + ", ".join(summary["unexpected_columns"]))
    lines += [f"header: {m}" for m in summary["header_problems"]]
    for e in summary["errors"][:50]:
        lines.append(
            f"  {e['sheet']} row {e['row']} column {e['column']} ({e['letter']}): {e['reason']}"
        )
    if len(summary["errors"]) > 50:
        lines.append(f"  … {len(summary['errors']) - 50} more (use --json for all)")
    if summary["already_loaded"]:
        lines.append(f"already loaded on {summary['already_loaded']['on']}")
    commit = summary.get("commit")
    if commit:
        if "error" in commit:
            lines.append(f"not committed: {commit['error']}")
        elif commit["already_loaded"]:
            lines.append("already loaded: nothing new committed")
        else:
            lines.append(f"published {commit['published']} rows (upload {commit['upload_id']})")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
