"""How the CLI shows events, chains and the system's state: text lines, coloured with click.style.

click.echo drops the colours when the output is not a terminal, so piped output is plain text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import click
import orjson

STATUS_COLOURS = {
    "succeeded": "green",
    "failed": "red",
    "running": "yellow",
    "retrying": "yellow",
    "pending": "yellow",
    "stopped": "magenta",
    "ignored": "bright_black",
}
EXCERPT = 160


def status_text(status: str | None) -> str:
    name = status or "?"
    return click.style(name, fg=STATUS_COLOURS.get(name, "white"), bold=name == "failed")


def clock(epoch: float | None) -> str:
    if not epoch:
        return "-"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


def event_line(event: dict[str, Any]) -> str:
    parts = [
        clock(event.get("received_at")),
        status_text(event.get("status")).ljust(9 + _style_width(event.get("status"))),
        click.style(event.get("type") or "?", bold=True),
        event.get("source") or "",
        event.get("subject") or "-",
        click.style(event.get("id") or "", dim=True),
    ]
    if event.get("replay_of"):
        parts.append(f"(replay of {event['replay_of']})")
    return "  ".join(parts)


def _style_width(status: str | None) -> int:
    name = status or "?"
    return len(status_text(name)) - len(name)


def excerpt(value: Any, limit: int = EXCERPT) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Item:
    label: str
    children: list[Item] = field(default_factory=list)


def event_item(node: dict[str, Any], *, verbose: bool, focus: str | None) -> Item:
    marker = click.style("▶ ", fg="cyan", bold=True) if node["id"] == focus else ""
    head = (
        f"{marker}{click.style(node['type'], bold=True)}  {node['source']}  {status_text(node['status'])}"
        f"  +{node.get('offset_ms', 0):.0f} ms  {click.style(node['id'], dim=True)}"
    )
    if node.get("replay_of"):
        head += f"  (replay of {node['replay_of']})"
    item = Item(head)
    matches = node.get("matches") or []
    if matches:
        verdicts = [
            click.style(f"✓ {m['rule']}", fg="green")
            if m.get("matched")
            else click.style(f"✗ {m['rule']} ({m.get('reason')})", dim=True)
            for m in matches
        ]
        item.children.append(Item("rules: " + ", ".join(verdicts)))
    elif node.get("status") == "ignored":
        item.children.append(Item(click.style("rules: none listens to this type", dim=True)))
    item.children += [action_item(a, verbose=verbose, focus=focus) for a in node.get("actions", ())]
    item.children += [event_item(c, verbose=verbose, focus=focus) for c in node.get("children", ())]
    return item


def action_item(action: dict[str, Any], *, verbose: bool, focus: str | None) -> Item:
    attempts = action.get("attempts") or []
    last = attempts[-1] if attempts else {}
    request = last.get("request") or {}
    took = sum(a.get("duration_ms") or 0 for a in attempts)
    answer = last.get("error") or f"HTTP {last.get('status')}"
    head = (
        f"{click.style('call', fg='cyan')} {action.get('rule')}/{action.get('action')}  "
        f"{request.get('method', '')} {request.get('url', '')} → {answer}  {took:.0f} ms  "
        f"{status_text(action.get('status'))}  ({len(attempts)} attempt{'s' if len(attempts) != 1 else ''})"
    )
    item = Item(head)
    shown = attempts if verbose else attempts[-1:]
    for attempt in shown:
        item.children += attempt_items(attempt, verbose=verbose, numbered=len(attempts) > 1)
    item.children += [event_item(c, verbose=verbose, focus=focus) for c in action.get("children", ())]
    return item


def attempt_items(attempt: dict[str, Any], *, verbose: bool, numbered: bool) -> list[Item]:
    tag = f"#{attempt.get('number')} " if numbered else ""
    request = attempt.get("request") or {}
    items = []
    if verbose:
        items.append(Item(f"{tag}request headers: {excerpt(request.get('headers') or {}, 400)}"))
    if request.get("body"):
        items.append(Item(f"{tag}request: {excerpt(request['body'], 400 if verbose else EXCERPT)}"))
    body = attempt.get("json") if attempt.get("json") is not None else attempt.get("text")
    if attempt.get("status") is not None:
        items.append(
            Item(f"{tag}response {attempt['status']}: {excerpt(body or '', 400 if verbose else EXCERPT)}")
        )
    if attempt.get("error"):
        items.append(Item(click.style(f"{tag}error: {attempt['error']}", fg="red")))
    return items


def tree_lines(roots: list[Item]) -> list[str]:
    lines: list[str] = []
    for root in roots:
        lines.append(root.label)
        _branch(root.children, "", lines)
    return lines


def _branch(items: list[Item], prefix: str, lines: list[str]) -> None:
    for position, item in enumerate(items):
        last = position == len(items) - 1
        lines.append(prefix + ("└─ " if last else "├─ ") + item.label)
        _branch(item.children, prefix + ("   " if last else "│  "), lines)


def trace_lines(detail: dict[str, Any], *, verbose: bool = False) -> list[str]:
    chain = detail["chain"]
    header = [
        f"chain {chain['correlation_id']}: {chain['size']} event(s)"
        + (f", subject {detail['subject']}" if detail.get("subject") else ""),
        "",
    ]
    roots = [event_item(node, verbose=verbose, focus=detail["id"]) for node in chain["roots"]]
    lines = header + tree_lines(roots)
    related = detail.get("related") or []
    if related:
        lines += ["", "same subject, other chains:"] + ["  " + event_line(e) for e in related]
    return lines


def status_lines(status: dict[str, Any], dead: list[dict[str, Any]]) -> list[str]:
    lines = [click.style("queues", bold=True)]
    for name, counts in status["queues"].items():
        lines.append(
            f"  {name:<20} queued {counts['queued']:<5} scheduled {counts['scheduled']:<5} "
            f"running {counts['started']:<5} failed {counts['failed']}"
        )
    workers = status["workers"]
    lines.append(click.style(f"workers: {len(workers)}", bold=True, fg=None if workers else "red"))
    for worker in workers:
        lines.append(
            f"  {worker['name']}  {worker.get('state')}  pid {worker.get('pid')}  "
            f"done {worker.get('successful_jobs')}  heartbeat {worker.get('last_heartbeat')}"
        )
    count = status["dead_letters"]
    lines.append(click.style(f"failures (dead letters): {count}", bold=True, fg="red" if count else "green"))
    for letter in dead:
        lines.append(
            f"  {letter.get('time')}  {letter.get('rule')}/{letter.get('action')}  "
            f"{click.style(str(letter.get('error')), fg='red')}  "
            f"event {letter.get('event_id')}  id {letter['id']}"
        )
    lines.append(f"events in the log: {status['events']}")
    return lines
