"""Scenarios 3 and 4, worker throughput from a pre-filled queue, fast and slow (200 ms) target.

hookchain: each event is matched (one RQ job) and its rule's call made (a second RQ job), the
outcome recorded. Baseline in the same run: a bare RQ job doing one httpx POST with a reused
client, queued on the same queue and run by the very same `hookchain worker` command, so the
worker class, concurrency and process count are identical. Rate = calls arrived between the
first and the last call at the target (worker start-up is not counted).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.context import Context, run_id
from bench.procs import BenchError, Processes, rss_mb, wait_until
from bench.report import Check, Result, num, times
from bench.stack import (
    arrivals,
    hookchain_env,
    most_in_flight,
    prefill_bare_jobs,
    prefill_events,
    start_target,
    write_rules,
)
from bench.stats import rate

SLOW = 0.2
CONCURRENCY = 32
RSS_LIMIT_MB = 600


@dataclass
class Run:
    count: int
    arrived: int
    per_second: float
    peak_rss_mb: float
    in_flight: int
    redis_calls: int
    redis_usec: float


def redis_work(ctx: Context) -> tuple[int, float]:
    """Commands Redis ran and the CPU time (µs) it spent on them since the last CONFIG RESETSTAT."""
    client = ctx.redis()
    stats = client.info("commandstats")
    client.close()
    return sum(int(v["calls"]) for v in stats.values()), sum(float(v["usec"]) for v in stats.values())


def measure(ctx: Context, *, bare: bool, processes: int, concurrency: int, delay: float, count: int) -> Run:
    ctx.flush()
    with Processes() as procs:
        target = start_target(procs, delay)
        env = hookchain_env(ctx, write_rules(procs, target))
        if bare:
            prefill_bare_jobs(ctx, count, target, run_id())
        else:
            prefill_events(ctx, count, run_id())
        client = ctx.redis()
        client.config_resetstat()
        client.close()
        argv = ["-m", "hookchain", "worker", "--burst", "--processes", str(processes)]
        worker = procs.start_python("worker", [*argv, "--concurrency", str(concurrency)], env)
        peak = 0.0
        deadline = time.monotonic() + 600
        while worker.alive() and time.monotonic() < deadline:
            peak = max(peak, rss_mb(worker.pid))
            time.sleep(0.2)
        if worker.alive() or worker.popen.returncode != 0:
            raise BenchError(f"worker did not finish its burst:\n{worker.output()[-2000:]}")
        wait_until(lambda: len(arrivals(target)) >= count, timeout=5)
        found = arrivals(target)
        times_seen = sorted(at for _, at in found)
        calls, usec = redis_work(ctx)
        return Run(
            count=count,
            arrived=len(found),
            per_second=rate(len(times_seen), times_seen[0], times_seen[-1]) if times_seen else float("nan"),
            peak_rss_mb=peak,
            in_flight=most_in_flight(target),
            redis_calls=calls,
            redis_usec=usec,
        )


def run(ctx: Context) -> Result:
    fast_count, slow_count = (60, 60) if ctx.quick else (1200, 900)
    result = Result(
        "3-4. Worker throughput from a pre-filled queue (fast target, and one answering after 200 ms)",
        [
            "job",
            "processes x concurrency",
            "target",
            "events",
            "calls arrived",
            "events/s",
            "ratio",
            "most calls in flight",
            "Redis commands / event",
            "peak RSS (all worker processes)",
        ],
    )
    ctx.redis_cost = {}  # type: ignore[attr-defined]
    for processes in (1, 2):
        shape = f"{processes} x {CONCURRENCY}"
        fast = measure(
            ctx, bare=False, processes=processes, concurrency=CONCURRENCY, delay=0, count=fast_count
        )
        bare = measure(
            ctx, bare=True, processes=processes, concurrency=CONCURRENCY, delay=0, count=fast_count
        )
        slow = measure(
            ctx, bare=False, processes=processes, concurrency=CONCURRENCY, delay=SLOW, count=slow_count
        )
        rows = [
            ("bare RQ job: one httpx POST (baseline)", bare, "at once", "1.00x"),
            (
                "hookchain: match + action + outcome",
                fast,
                "at once",
                times(fast.per_second / bare.per_second),
            ),
            ("hookchain: match + action + outcome", slow, "200 ms", times(slow.per_second / fast.per_second)),
        ]
        for name, measured, where, ratio in rows:
            result.rows.append(
                [
                    name,
                    shape,
                    where,
                    str(measured.count),
                    str(measured.arrived),
                    num(measured.per_second, 1),
                    ratio + (" of fast" if where == "200 ms" else " of bare" if "hookchain" in name else ""),
                    str(measured.in_flight),
                    num(measured.redis_calls / measured.count, 0),
                    f"{measured.peak_rss_mb:.0f} MB",
                ]
            )
        result.checks += [
            Check(
                f"{shape}: hookchain >= 70 % of the bare job's events/s",
                f"{fast.per_second / bare.per_second:.0%}",
                fast.per_second >= 0.7 * bare.per_second and fast.arrived == fast.count,
            ),
            Check(
                f"{shape}: 200 ms target >= 70 % of the fast target's events/s",
                f"{slow.per_second / fast.per_second:.0%}",
                slow.per_second >= 0.7 * fast.per_second and slow.arrived == slow.count,
            ),
            Check(
                f"{shape}: all worker processes < {RSS_LIMIT_MB} MB RSS under the slow load",
                f"{slow.peak_rss_mb:.0f} MB",
                slow.peak_rss_mb < RSS_LIMIT_MB,
            ),
        ]
        ctx.redis_cost[processes] = (  # type: ignore[attr-defined]
            fast.redis_calls / fast.count,
            fast.redis_usec / fast.count,
        )
    if not ctx.quick:
        single = measure(ctx, bare=False, processes=1, concurrency=1, delay=SLOW, count=30)
        result.rows.append(
            [
                "hookchain, one job at a time (RQ SimpleWorker)",
                "1 x 1",
                "200 ms",
                str(single.count),
                str(single.arrived),
                num(single.per_second, 1),
                "reference",
                str(single.in_flight),
                num(single.redis_calls / single.count, 0),
                f"{single.peak_rss_mb:.0f} MB",
            ]
        )
    result.notes.append(
        "`hookchain worker --burst --processes N --concurrency M` for every row; the bare jobs are on the "
        "same queue, run by the same command. Redis commands / event counts every command the worker "
        "processes sent (INFO commandstats), the two RQ jobs of a hookchain event included."
    )
    return result
