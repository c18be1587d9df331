"""Event → matched rules → action jobs; action job → call → outcome events.

Matching and rendering are pure; this module is the thin part that reads and writes Redis.
"""

from __future__ import annotations

import logging
import math
import random
import time
from datetime import UTC, datetime
from typing import Any

import orjson

from router.events import Event, derived_event_id, utc_now
from router.queue import ACTIONS_QUEUE, FAILED_JOB_TTL, crash_retry, push_job
from workers import loops, outcomes, store
from workers.actions.http import Attempt, OutgoingRequest, send
from workers.actions.templating import RenderError, render_string, render_value
from workers.rules.schema import Action, Rule
from workers.runtime import WorkerContext

log = logging.getLogger("hookchain.worker")

RUN_ACTION = "workers.jobs.run_action"
BACKOFF_FACTOR = 4.0


def action_job_id(event_id: str, rule: str, index: int, attempt: int) -> str:
    return f"act-{derived_event_id('action', event_id, rule, str(index))}-{attempt}"


def idempotency_key(event_id: str, rule: str, index: int) -> str:
    """The same for every retry and re-run of this action for this event."""
    return derived_event_id("idempotency", event_id, rule, str(index))


def action_job_timeout(action: Action) -> int:
    return int((action.timeout or 15.0) * 6) + 30


def process_event(ctx: WorkerContext, event_id: str) -> list[str]:
    """Match the event against the rules and queue the first action of each matched rule."""
    event = store.load_event(ctx.redis, event_id)
    if event is None:
        log.warning("event %s is gone (expired?): nothing to match", event_id)
        return []
    envelope = event.to_dict()
    results = ctx.rules.evaluate(envelope)
    matched = [ctx.rules.rules[result.rule] for result in results if result.matched]
    stopped = bool(matched) and event.depth >= ctx.settings.max_depth
    looping = (
        []
        if stopped
        else loops.revisited_rules(ctx.redis, event, [rule.name for rule in matched], ctx.settings.max_depth)
    )
    if looping:
        _stop_loop(ctx, event, looping)
        matched = [rule for rule in matched if rule.name not in looping]
    with ctx.redis.pipeline(transaction=True) as pipe:
        pipe.set(
            store.matches_key(event.id),
            orjson.dumps([{"rule": r.rule, "matched": r.matched, "reason": r.reason} for r in results]),
            ex=ctx.settings.event_ttl,
        )
        if not stopped:
            for rule in matched:
                push_job(
                    pipe,
                    action_job_id(event.id, rule.name, 0, 1),
                    RUN_ACTION,
                    (event.id, rule.name, 0, 1),
                    queue=ACTIONS_QUEUE,
                    timeout=action_job_timeout(rule.do[0]),
                )
        pipe.execute()
    if stopped:
        _stop_chain(ctx, event, [rule.name for rule in matched])
        return []
    if matched:
        log.info("event %s %s matched %s", event.type, event.id, ", ".join(rule.name for rule in matched))
    return [rule.name for rule in matched]


def _stop_chain(ctx: WorkerContext, event: Event, rules: list[str]) -> None:
    reason = (
        f"depth limit {ctx.settings.max_depth} reached: not running {', '.join(rules)} "
        f"for {event.type} {event.id} (chain {event.correlation_id})"
    )
    _record_stop(ctx, event, rules, reason, "depth")


def _stop_loop(ctx: WorkerContext, event: Event, rules: list[str]) -> None:
    reason = (
        f"loop: chain {event.correlation_id} already ran {', '.join(rules)} for subject "
        f"{event.subject!r}; not running it again for {event.type} {event.id}"
    )
    _record_stop(ctx, event, rules, reason, "loop")


def _record_stop(ctx: WorkerContext, event: Event, rules: list[str], reason: str, cause: str) -> None:
    log.warning("chain stopped: %s", reason)
    stop = event.caused(
        id=derived_event_id(event.id, "chain.stopped"),
        source="hookchain",
        type="chain.stopped",
        data={
            "reason": reason,
            "cause": cause,
            "rules": rules,
            "event_id": event.id,
            "max_depth": ctx.settings.max_depth,
        },
    )
    outcomes.record(ctx, stop, enqueue=False)


def template_context(ctx: WorkerContext, event: Event, rule: Rule, secrets: Any) -> dict[str, Any]:
    records = store.load_action_records(ctx.redis, event.id) if len(rule.do) > 1 else {}
    steps = {}
    for index in range(len(rule.do)):
        found = records.get(store.action_field(rule.name, index))
        if found is not None:
            steps[rule.action_label(index)] = found.get("outcome")
    return {"event": event.to_dict(), "secrets": secrets, "steps": steps}


def render_request(action: Action, context: dict[str, Any]) -> OutgoingRequest:
    spec = action.http
    headers = {str(k): str(v) for k, v in render_value(spec.headers, context).items()}
    return OutgoingRequest(
        method=spec.method,
        url=str(render_string(spec.url, context)),
        headers=headers,
        params=render_value(spec.query, context),
        json=render_value(spec.json_body, context),
        form=render_value(spec.form, context),
        content=None if spec.body is None else str(render_string(spec.body, context)),
        follow_redirects=spec.follow_redirects,
    )


def retry_delay(action: Action, attempt: Attempt) -> float:
    """About 1 s, 4 s, 16 s… with jitter, or what the other side asked for, capped."""
    policy = action.retry
    if attempt.retry_after is not None:
        return min(attempt.retry_after, policy.max_wait)
    base = policy.backoff * BACKOFF_FACTOR ** (attempt.number - 1)
    return min(base * random.uniform(0.75, 1.25), policy.max_wait)


def due_at(delay: float) -> datetime:
    """When a job delayed by `delay` seconds may run, rounded up to a whole second.

    RQ's scheduled-job registry keeps whole seconds and truncates: a retry queued 1.7 s ahead
    would otherwise be due after 1 s, earlier than the `Retry-After` it honours.
    """
    return datetime.fromtimestamp(math.ceil(time.time() + delay), UTC)


def run_action(ctx: WorkerContext, event_id: str, rule_name: str, index: int, number: int) -> str:
    """Try one action once; queue its retry, the rule's next action, or its outcome events."""
    event = store.load_event(ctx.redis, event_id)
    rule = ctx.rules.rules.get(rule_name)
    if event is None or rule is None or index >= len(rule.do):
        missing = "event" if event is None else f"rule {rule_name!r} (or its action {index})"
        log.warning("action %s/%s for %s dropped: the %s is gone", rule_name, index, event_id, missing)
        return "dropped"
    action = rule.do[index]
    label = rule.action_label(index)
    cap = rule.rate or ctx.settings.rule_rate
    if cap is not None:
        wait = loops.wait_for_slot(ctx.redis, rule.name, loops.RateCap.parse(cap))
        if wait > 0:
            log.info("rule %s is over its rate %s: action for %s waits %.1fs", rule.name, cap, event.id, wait)
            ctx.queues[ACTIONS_QUEUE].enqueue_at(
                due_at(wait + random.uniform(0, 0.5)),
                RUN_ACTION,
                event.id,
                rule.name,
                index,
                number,
                job_id=f"{action_job_id(event.id, rule.name, index, number)}-w{time.time_ns()}",
                job_timeout=action_job_timeout(action),
                result_ttl=0,
                failure_ttl=FAILED_JOB_TTL,
                retry=crash_retry(),
            )
            return "rate-limited"
    secrets = ctx.secrets.fork()
    try:
        request = render_request(action, template_context(ctx, event, rule, secrets))
    except RenderError as exc:
        return _finish(ctx, event, rule, index, None, f"template error: {exc}")
    attempt = send(
        ctx.http,
        request,
        number=number,
        timeout=action.timeout,
        allowed=ctx.allowed,
        idempotency_key=idempotency_key(event.id, rule.name, index),
        secrets=secrets.used,
        resolver=ctx.resolver,
    )
    _remember_attempt(ctx, event, rule, index, attempt)
    if attempt.succeeded:
        return _finish(ctx, event, rule, index, attempt, None)
    attempts_left = attempt.retryable and number < action.retry.attempts
    if attempts_left:
        delay = retry_delay(action, attempt)
        log.info(
            "action %s/%s for %s failed (%s): try %d in %.1fs",
            rule.name,
            label,
            event.id,
            attempt.error,
            number + 1,
            delay,
        )
        ctx.queues[ACTIONS_QUEUE].enqueue_at(
            due_at(delay),
            RUN_ACTION,
            event.id,
            rule.name,
            index,
            number + 1,
            job_id=action_job_id(event.id, rule.name, index, number + 1),
            job_timeout=action_job_timeout(action),
            result_ttl=0,
            failure_ttl=FAILED_JOB_TTL,
            retry=crash_retry(),
        )
        return "retrying"
    return _finish(ctx, event, rule, index, attempt, attempt.error)


def _remember_attempt(ctx: WorkerContext, event: Event, rule: Rule, index: int, attempt: Attempt) -> None:
    records = store.load_action_records(ctx.redis, event.id)
    record = records.get(store.action_field(rule.name, index)) or {
        "rule": rule.name,
        "action": rule.action_label(index),
        "attempts": [],
        "status": "running",
    }
    record["attempts"] = [a for a in record["attempts"] if a["number"] != attempt.number] + [
        attempt.to_dict()
    ]
    store.save_action_record(ctx.redis, event.id, rule.name, index, record, ctx.settings.event_ttl)


def _finish(
    ctx: WorkerContext, event: Event, rule: Rule, index: int, attempt: Attempt | None, error: str | None
) -> str:
    action = rule.do[index]
    label = rule.action_label(index)
    data = outcomes.outcome_data(rule.name, label, attempt, error)
    records = store.load_action_records(ctx.redis, event.id)
    record = records.get(store.action_field(rule.name, index)) or {
        "rule": rule.name,
        "action": label,
        "attempts": [],
    }
    record["status"] = "succeeded" if error is None else "failed"
    record["outcome"] = data
    store.save_action_record(ctx.redis, event.id, rule.name, index, record, ctx.settings.event_ttl)
    if error is None:
        log.info(
            "action %s/%s for %s succeeded: HTTP %s",
            rule.name,
            label,
            event.id,
            attempt.status if attempt else "-",
        )
        if action.emit:
            outcomes.emit(ctx, event, action.emit, data, rule=rule.name, action_index=index)
        outcomes.emit(ctx, event, "action.succeeded", data, rule=rule.name, action_index=index)
        if index + 1 < len(rule.do):
            nxt = index + 1
            with ctx.redis.pipeline(transaction=True) as pipe:
                push_job(
                    pipe,
                    action_job_id(event.id, rule.name, nxt, 1),
                    RUN_ACTION,
                    (event.id, rule.name, nxt, 1),
                    queue=ACTIONS_QUEUE,
                    timeout=action_job_timeout(rule.do[nxt]),
                )
                pipe.execute()
        return "succeeded"
    log.warning("action %s/%s for %s failed: %s", rule.name, label, event.id, error)
    store.dead_letter(
        ctx.redis,
        {
            "event_id": event.id,
            "rule": rule.name,
            "action": label,
            "index": index,
            "error": error,
            "time": utc_now(),
            "correlation_id": event.correlation_id,
        },
    )
    outcomes.emit(ctx, event, "action.failed", data, rule=rule.name, action_index=index)
    return "failed"
