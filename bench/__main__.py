"""`python -m bench [--quick] [--only NAME ...]`: run the scenarios, print the table, update BENCHMARKS.md."""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.context import Context, default_shared
from bench.procs import REPO, BenchError, Processes, start_redis
from bench.report import Result, write_figures

SCENARIOS = ("ingest", "end_to_end", "workers", "rules", "memory", "redis_limit")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="a short smoke run: tiny loads, figures meaningless"
    )
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, help="run only these scenarios")
    parser.add_argument(
        "--redis-url",
        default=None,
        help="Redis to use (its database is FLUSHED between runs); default: a private redis-server",
    )
    parser.add_argument(
        "--shared", type=Path, default=default_shared(), help="folder holding fixtures/github/"
    )
    parser.add_argument(
        "--output", type=Path, default=REPO / "BENCHMARKS.md", help="file whose figures to rewrite"
    )
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    options = parser.parse_args(argv)
    names = options.only or list(SCENARIOS)

    results: list[Result] = []
    started = time.monotonic()
    with Processes() as procs:
        redis_url = options.redis_url or start_redis(procs)
        ctx = Context(
            quick=options.quick,
            redis_url=redis_url,
            shared=options.shared,
            seconds=2.0 if options.quick else 10.0,
        )
        for name in names:
            module = importlib.import_module(f"bench.scenarios.{name}")
            print(f"== {name} ...", file=sys.stderr, flush=True)
            try:
                result = module.run(ctx)
            except (BenchError, FileNotFoundError) as exc:
                result = Result(f"{name}: could not run", ["problem"], rows=[[str(exc).splitlines()[0]]])
            results.append(result)
            print(result.markdown(), flush=True)
        ctx.flush()
    header = (
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by "
        f"`python -m bench{' --quick' if options.quick else ''}"
        f"{' --only ' + ' '.join(options.only) if options.only else ''}` on {os.cpu_count()} CPU(s), "
        f"Python {platform.python_version()}, in {time.monotonic() - started:.0f} s."
        + (" **Quick run: loads too small for the figures to mean anything.**" if options.quick else "")
        + "\n"
    )
    if not options.no_write:
        write_figures(options.output, header, results, partial=bool(options.only))
        print(f"figures written to {options.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
