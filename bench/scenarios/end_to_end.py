"""Scenario 2, end to end: signed webhook -> matched rule -> HTTP call arriving at a loopback target.

A steady 50 events/s; latency is from just before the webhook is sent to the moment the target
sees the call (one clock: same machine). `dev` (embedded Redis, worker thread) and
`web` + `worker` on the real Redis.
"""

from __future__ import annotations

import time

import httpx

from bench.context import Context, run_id
from bench.procs import BenchError, Processes, free_port, wait_http
from bench.report import Check, Result, ms, num
from bench.stack import (
    hookchain_env,
    opened_body,
    reset,
    send_signed,
    sleep_until,
    start_target,
    wait_for_arrivals,
    write_rules,
)
from bench.stats import percentile

RATE = 50.0
TARGET_P99_MS = 50.0


def start_dev(procs: Processes, ctx: Context, env: dict[str, str]) -> str:
    port = free_port()
    proc = procs.start_python("dev", ["-m", "hookchain", "dev", "--port", str(port)], env)
    url = f"http://127.0.0.1:{port}"
    wait_http(proc, f"{url}/health")
    return url


def start_web_and_worker(procs: Processes, ctx: Context, env: dict[str, str]) -> str:
    port = free_port()
    web = procs.start_python("web", ["-m", "hookchain", "web", "--port", str(port)], env)
    procs.start_python("worker", ["-m", "hookchain", "worker"], env)
    url = f"http://127.0.0.1:{port}"
    wait_http(web, f"{url}/health")
    return url


MODES = {
    "dev (embedded Redis, worker thread)": (start_dev, None),
    "dev with REDIS_URL (real Redis, worker thread)": (start_dev, ""),
    "web + worker (real Redis)": (start_web_and_worker, ""),
}


def drive(url: str, target: str, body: bytes, count: int) -> tuple[list[float], int, int]:
    """Send `count` webhooks at RATE/s; latencies (ms) of the calls that arrived, refused, lost."""
    prefix = run_id()
    sent_at: dict[str, float] = {}
    refused = 0
    with httpx.Client(timeout=10) as client:
        start = time.perf_counter() + 0.1
        for index in range(count):
            sleep_until(start + index / RATE)
            delivery = f"{prefix}-{index}"
            sent_at[delivery] = time.time()
            if send_signed(client, url, body, delivery) != 202:
                refused += 1
    found = wait_for_arrivals(target, count - refused, timeout=30)
    latencies = [(at - sent_at[ident]) * 1000 for ident, at in found if ident in sent_at]
    return latencies, refused, count - refused - len(latencies)


def run(ctx: Context) -> Result:
    seconds = 2.0 if ctx.quick else 20.0
    count = int(RATE * seconds)
    result = Result(
        f"2. End to end: webhook -> rule -> call to a loopback target, {RATE:.0f}/s for {seconds:.0f} s",
        ["deployment", "events", "calls arrived", "p50", "p99", "max", "refused / lost"],
    )
    body = opened_body(ctx)
    for mode, (start, redis_url) in MODES.items():
        ctx.flush()
        with Processes() as procs:
            target = start_target(procs)
            env = hookchain_env(ctx, write_rules(procs, target), redis_url=redis_url)
            url = start(procs, ctx, env)
            warm, _, _ = drive(url, target, body, 10)  # imports, connections, the first job
            if len(warm) < 10:
                raise BenchError(
                    f"{mode}: warm-up calls did not arrive:\n{procs.started[-1].output()[-2000:]}"
                )
            reset(target)
            latencies, refused, lost = drive(url, target, body, count)
        p99 = percentile(latencies, 99)
        result.rows.append(
            [
                mode,
                str(count),
                str(len(latencies)),
                ms(percentile(latencies, 50)),
                ms(p99),
                ms(max(latencies, default=float("nan"))),
                f"{refused} / {lost}",
            ]
        )
        result.checks.append(
            Check(f"{mode}: p99 <= {TARGET_P99_MS:.0f} ms", ms(p99), p99 <= TARGET_P99_MS and not lost)
        )
    result.notes.append(
        "Latency = target's arrival time minus the sender's clock just before the POST; the worker runs "
        f"with its default concurrency. {num(RATE)} events/s, each a ~25 KB pull_request.opened."
    )
    return result
