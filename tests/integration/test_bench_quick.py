"""The benchmark suite's quick mode runs end to end (figures are not asserted: they are timings)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import redis

from bench.report import END, START
from tests.conftest import REPO, SHARED, test_redis_url


def test_quick_bench_prints_tables_and_rewrites_only_the_figures(tmp_path: Path, real_redis: redis.Redis):
    output = tmp_path / "BENCHMARKS.md"
    output.write_text(f"# Benchmarks\n\nWhat the figures mean.\n\n{START}\nold figures\n{END}\n\nAfter.\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--only",
            "rules",
            "end_to_end",
            "--redis-url",
            test_redis_url(),
            "--shared",
            str(SHARED),
            "--output",
            str(output),
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "### 5. Rule matching cost per event" in done.stdout
    assert "| 10,000 |" in done.stdout
    assert "web + worker (real Redis)" in done.stdout
    assert "could not run" not in done.stdout

    written = output.read_text()
    assert written.startswith("# Benchmarks\n\nWhat the figures mean.")
    assert written.rstrip().endswith("After.")
    assert "old figures" not in written
    assert "Quick run" in written
    assert written.count(START) == 1 and written.count(END) == 1
    assert "| dev (embedded Redis, worker thread) | 100 | 100 |" in written  # every call arrived
