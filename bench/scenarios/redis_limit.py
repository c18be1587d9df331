"""Where Redis itself becomes the limit: redis-benchmark, in the same run, on the commands per event.

Ingest issues one EVALSHA of the accept script per webhook (a ~22 KB event record); the worker
side issues the commands counted in scenario 3 (RQ's bookkeeping of two jobs, the match record,
the action record, the outcome event). redis-benchmark measures both kinds on the benchmark's
Redis with 32 connections; a ceiling is Redis's rate divided by what one event needs.
"""

from __future__ import annotations

import re
import subprocess

from bench.context import Context
from bench.procs import BenchError, require_tool
from bench.report import Result, num
from router.queue import ACCEPT_SCRIPT, pack_fields

EVENT_BYTES = 22_000
FALLBACK_COMMANDS_PER_EVENT = 150.0


def redis_benchmark(ctx: Context, requests: int, *command: str) -> float:
    binary = require_tool("redis-benchmark", "redis-tools")
    host_port = ctx.redis_url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    argv = [binary, "-h", host, "-p", port, "-c", "32", "-n", str(requests), "-r", "1000000", "-q", *command]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    found = re.findall(r"([\d.]+) requests per second", done.stdout)
    if not found:
        raise BenchError(f"redis-benchmark gave no rate:\n{done.stdout}\n{done.stderr}")
    return float(found[-1])


def run(ctx: Context) -> Result:
    requests = 2_000 if ctx.quick else 50_000
    client = ctx.redis()
    sha = client.script_load(ACCEPT_SCRIPT)
    client.close()
    event = '{"data":"' + "x" * EVENT_BYTES + '"}'
    keys = ["bench:dedupe:__rand_int__", "bench:event:__rand_int__", "bench:log", "bench:job:__rand_int__"]
    keys += ["bench:queue", "bench:queues"]
    job = pack_fields([f"field{index}" if index % 2 == 0 else "x" * 24 for index in range(34)]).decode()
    args = ["__rand_int__", "3600", event, "3600", "1700000000", "job-__rand_int__", job]
    accept = redis_benchmark(ctx, requests, "EVALSHA", sha, "6", *keys, *args)
    ctx.flush()
    small = redis_benchmark(ctx, requests * 2, "HSET", "bench:job:__rand_int__", "status", "started")
    piped = redis_benchmark(
        ctx, requests * 4, "-P", "16", "HSET", "bench:job:__rand_int__", "status", "started"
    )
    ctx.flush()
    per_event, usec_per_event = getattr(ctx, "redis_cost", {}).get(
        1, (FALLBACK_COMMANDS_PER_EVENT, float("nan"))
    )
    result = Result(
        "7. At internet scale: where one Redis becomes the limit",
        ["stage", "Redis work per event", "redis-benchmark (32 connections)", "ceiling of one Redis"],
        rows=[
            [
                "ingest (receiver)",
                f"1 EVALSHA of the accept script, {EVENT_BYTES // 1000} KB event record, job queued",
                f"{num(accept)} scripts/s",
                f"~{num(accept)} webhooks/s",
            ],
            [
                "worker (match + one action)",
                f"~{per_event:.0f} small commands, {usec_per_event:.0f} µs of Redis CPU (scenario 3)",
                f"{num(small)} HSET/s; {num(piped)} HSET/s pipelined by 16",
                f"~{num(small / per_event)}-{num(piped / per_event)} events/s by commands; "
                f"~{num(1e6 / usec_per_event)} events/s by Redis CPU",
            ],
        ],
    )
    result.notes.append(
        "Ceilings assume Redis has a core to itself; on this 2-core machine it shares them with the load "
        "generator and hookchain, so the real ceiling here is lower. Past these rates, shard by provider "
        "or repository across Redis instances (each with its own receivers and workers)."
    )
    return result
