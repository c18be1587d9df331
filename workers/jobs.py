"""RQ entry points, named by dotted path from the receiver and from the engine."""

from __future__ import annotations

from workers import engine, runtime


def _context() -> runtime.WorkerContext:
    ctx = runtime.current()
    ctx.refresh_rules()
    return ctx


def process_event(event_id: str) -> list[str]:
    return engine.process_event(_context(), event_id)


def run_action(event_id: str, rule_name: str, index: int, attempt: int = 1) -> str:
    return engine.run_action(_context(), event_id, rule_name, index, attempt)
