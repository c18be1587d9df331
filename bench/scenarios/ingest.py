"""Scenario 1, ingest: signed ~28 KB pull_request deliveries from wrk, 32 connections.

Same run, same load: hookchain's receiver, baseline (a) the floor of its design (a Starlette app
that verifies the HMAC and LPUSHes the raw body, on the same Uvicorn settings), baseline (b)
adnanh/webhook running /bin/true behind an HMAC-SHA256 rule.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.context import SECRET, Context, run_id, sign
from bench.procs import REPO, BenchError, Processes, free_port, python_env, require_tool, rss_mb, wait_port
from bench.report import Check, Result, ms, num, times

CONNECTIONS = 32
TEMPLATE = REPO / "bench" / "ingest.lua.tmpl"


@dataclass
class Load:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def lua_long_string(data: str) -> str:
    level = 1
    while f"]{'=' * level}]" in data:
        level += 1
    eq = "=" * level
    return f"[{eq}[{data}]{eq}]"


def write_script(ctx: Context, folder: Path) -> Path:
    bodies = ctx.pull_request_bodies()
    script = TEMPLATE.read_text() % {
        "bodies": ",\n".join(lua_long_string(body.decode()) for body in bodies),
        "signatures": ",\n".join(f'"{sign(body)}"' for body in bodies),
        "run": run_id(),
    }
    path = folder / "ingest.lua"
    path.write_text(script)
    return path


def wrk(url: str, script: Path, seconds: float, connections: int = CONNECTIONS) -> Load:
    binary = require_tool("wrk", "wrk")
    argv = [
        binary,
        "-t2",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        raise BenchError(f"wrk gave no summary:\n{done.stdout}\n{done.stderr}")
    found = json.loads(line[6:])
    errors = sum(found[key] for key in ("connect", "read", "write", "status", "timeout"))
    return Load(
        requests=found["requests"],
        seconds=found["duration_us"] / 1e6,
        errors=errors,
        p50_ms=found["p50_us"] / 1000,
        p99_ms=found["p99_us"] / 1000,
    )


def start_hookchain(procs: Processes, ctx: Context, processes: int, port: int) -> int:
    env = python_env(
        {"REDIS_URL": ctx.redis_url, "HOOKCHAIN_GITHUB_SECRET": SECRET, "HOOKCHAIN_LOG_LEVEL": "WARNING"}
    )
    proc = procs.start_python(
        "hookchain-web", ["-m", "hookchain", "web", "--port", str(port), "--processes", str(processes)], env
    )
    wait_port(proc, port)
    return proc.pid


def start_floor(procs: Processes, ctx: Context, processes: int, port: int) -> int:
    env = python_env({"REDIS_URL": ctx.redis_url, "BENCH_SECRET": SECRET})
    argv = ["-m", "uvicorn", "bench.floor_app:app", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--workers", str(processes), "--log-level", "warning", "--proxy-headers"]
    proc = procs.start_python("floor", argv, env)
    wait_port(proc, port)
    return proc.pid


def start_webhook(procs: Processes, ctx: Context, processes: int, port: int) -> int:
    binary = require_tool("webhook", "webhook")
    hooks = procs.workdir / "hooks.json"
    hooks.write_text(
        json.dumps(
            [
                {
                    "id": "github",
                    "execute-command": "/bin/true",
                    "trigger-rule-mismatch-http-response-code": 401,
                    "trigger-rule": {
                        "match": {
                            "type": "payload-hmac-sha256",
                            "secret": SECRET,
                            "parameter": {"source": "header", "name": "X-Hub-Signature-256"},
                        }
                    },
                }
            ]
        )
    )
    proc = procs.start("webhook", [binary, "-hooks", str(hooks), "-ip", "127.0.0.1", "-port", str(port)])
    wait_port(proc, port)
    return proc.pid


SYSTEMS = {
    "hookchain web": start_hookchain,
    "(a) floor: Starlette + HMAC + LPUSH": start_floor,
    "(b) adnanh/webhook + /bin/true": start_webhook,
}


def measure(ctx: Context, name: str, processes: int, script: Path) -> tuple[Load, float]:
    ctx.flush()
    with Processes() as procs:
        port = free_port()
        pid = SYSTEMS[name](procs, ctx, processes, port)
        url = f"http://127.0.0.1:{port}"
        wrk(url, script, 1)  # warm-up: connections, imports, the script cache
        load = wrk(url, script, ctx.seconds)
        return load, rss_mb(pid)


def run(ctx: Context) -> Result:
    result = Result(
        "1. Ingest: signed pull_request deliveries, wrk -c32",
        ["system", "processes", "req/s", "p50", "p99", "errors", "vs (a) req/s", "vs (b) req/s", "RSS after"],
    )
    with Processes() as scratch:
        script = write_script(ctx, scratch.workdir)
    for processes in (1, 2):
        loads = {name: measure(ctx, name, processes, script) for name in SYSTEMS}
        floor, _ = loads["(a) floor: Starlette + HMAC + LPUSH"]
        webhook, _ = loads["(b) adnanh/webhook + /bin/true"]
        hook, _ = loads["hookchain web"]
        for name, (load, rss) in loads.items():
            result.rows.append(
                [
                    name,
                    str(processes) if not name.startswith("(b)") else "1 (Go, all cores)",
                    num(load.rps),
                    ms(load.p50_ms),
                    ms(load.p99_ms),
                    f"{load.errors} / {load.requests}",
                    times(load.rps / floor.rps if floor.rps else float("nan")),
                    times(load.rps / webhook.rps if webhook.rps else float("nan")),
                    f"{rss:.0f} MB",
                ]
            )
        share = hook.rps / floor.rps if floor.rps else 0.0
        result.checks += [
            Check(
                f"x{processes}: hookchain ≥ 75 % of (a)'s req/s, p99 ≤ 3x (a)'s",
                f"{share:.0%}, p99 {hook.p99_ms:.1f} vs {floor.p99_ms:.1f} ms",
                share >= 0.75 and hook.p99_ms <= 3 * floor.p99_ms and hook.errors == 0,
            ),
            Check(
                f"x{processes}: hookchain ≥ 1.2x (b)'s req/s with a lower p99",
                f"{hook.rps / webhook.rps:.2f}x, p99 {hook.p99_ms:.1f} vs {webhook.p99_ms:.1f} ms",
                hook.rps >= 1.2 * webhook.rps and hook.p99_ms < webhook.p99_ms and hook.errors == 0,
            ),
        ]
    bodies = ctx.pull_request_bodies()
    result.notes.append(
        f"{len(bodies)} pull_request fixtures, {min(map(len, bodies)) // 1024}-"
        f"{max(map(len, bodies)) // 1024} KB, each request with its own X-GitHub-Delivery; "
        f"wrk -t2 -c{CONNECTIONS} -d{round(ctx.seconds)}s after a "
        "1 s warm-up, on the same 2 cores as the server. Errors are non-2xx answers plus socket errors."
    )
    return result
