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
from workers import flow, loops, outcomes, store, telemetry
from workers.actions.http import Attempt, OutgoingRequest, mask_value
from workers.actions.kinds import ACTION_KINDS
from workers.actions.templating import RenderError, evaluate, render_value
from workers.actions.tracing import with_traceparent
from workers.rules.schema import Action, Rule
from workers.runtime import Secrets, WorkerContext

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
    later: list[tuple[Rule, flow.Plan]] = []
    with ctx.redis.pipeline(transaction=True) as pipe:
        pipe.set(
            store.matches_key(event.id),
            orjson.dumps([{"rule": r.rule, "matched": r.matched, "reason": r.reason} for r in results]),
            ex=ctx.settings.event_ttl,
        )
        if not stopped:
            for rule in matched:
                plan = _plan(ctx, event, rule, 0)
                if plan is None:
                    continue
                if plan.delay or plan.rate_limit:
                    later.append((rule, plan))
                    continue
                push_job(
                    pipe,
                    action_job_id(event.id, rule.name, 0, 1),
                    RUN_ACTION,
                    (event.id, rule.name, 0, 1),
                    queue=ACTIONS_QUEUE,
                    timeout=action_job_timeout(rule.do[0]),
                )
        pipe.execute()
    for rule, plan in later:
        _enqueue(ctx, event.id, rule, 0, 1, plan.delay, plan.rate_limit)
    if stopped:
        _stop_chain(ctx, event, [rule.name for rule in matched])
        return []
    if matched:
        names = ", ".join(rule.name for rule in matched)
        log.info("event %s %s matched %s", event.type, event.id, names, extra=telemetry.ids(event))
    return [rule.name for rule in matched]


def _plan(ctx: WorkerContext, event: Event, rule: Rule, index: int) -> flow.Plan | None:
    """When the action runs; None when it does not (throttled, or a key template failed: recorded)."""
    action = rule.do[index]
    if not (action.delay or action.debounce or action.throttle or action.concurrency):
        return flow.Plan()
    try:
        plan = flow.plan(
            ctx.redis,
            action,
            rule.name,
            index,
            event.id,
            template_context(ctx, event, rule, ctx.secrets.fork()),
        )
    except RenderError as exc:
        _finish(ctx, event, rule, index, None, f"template error: {exc}")
        return None
    if plan.skipped:
        _skip(ctx, event, rule, index, plan.skipped)
        return None
    return plan


def _enqueue(
    ctx: WorkerContext,
    event_id: str,
    rule: Rule,
    index: int,
    number: int,
    delay: float,
    rate_limit: Any,
) -> None:
    """Queue a run of an action later and/or under a concurrency key, with RQ's own scheduling."""
    queue = ctx.queues[ACTIONS_QUEUE]
    options: dict[str, Any] = {
        "job_id": action_job_id(event_id, rule.name, index, number),
        "job_timeout": action_job_timeout(rule.do[index]),
        "result_ttl": 0,
        "failure_ttl": FAILED_JOB_TTL,
        "retry": crash_retry(),
    }
    if rate_limit is not None:
        options["rate_limit"] = rate_limit
    args = (event_id, rule.name, index, number)
    if delay > 0:
        queue.enqueue_at(due_at(delay), RUN_ACTION, *args, **options)
    else:
        queue.enqueue(RUN_ACTION, *args, **options)


def _skip(ctx: WorkerContext, event: Event, rule: Rule, index: int, reason: str) -> None:
    log.info("action %s/%s for %s skipped: %s", rule.name, rule.action_label(index), event.id, reason)
    record = {"rule": rule.name, "action": rule.action_label(index), "attempts": [], "status": "skipped"}
    record["reason"] = reason
    store.save_action_record(ctx.redis, event.id, rule.name, index, record, ctx.settings.event_ttl)


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
    log.warning("chain stopped: %s", reason, extra=telemetry.ids(event))
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


def steps_of(records: dict[str, dict[str, Any]], rule: Rule) -> dict[str, Any]:
    """`steps.<name>`: the outcomes of the rule's actions that have finished, by action name."""
    steps = {}
    for index in range(len(rule.do)):
        found = records.get(store.action_field(rule.name, index))
        if found is not None and "outcome" in found:
            steps[rule.action_label(index)] = found["outcome"]
    return steps


def template_context(ctx: WorkerContext, event: Event, rule: Rule, secrets: Any) -> dict[str, Any]:
    records = store.load_action_records(ctx.redis, event.id) if len(rule.do) > 1 else {}
    return {"event": event.to_dict(), "secrets": secrets, "steps": steps_of(records, rule)}


def render_request(action: Action, context: dict[str, Any]) -> Any:
    """The request of an action, rendered by its kind (the same code `rules test` runs)."""
    return ACTION_KINDS[action.kind].render(action, context)


def response_view(attempt: Attempt) -> dict[str, Any]:
    """`response` as `success_if` and `emit.data` see it."""
    return {"status": attempt.status, "headers": attempt.headers, "json": attempt.json, "text": attempt.text}


def judge(action: Action, attempt: Attempt, context: dict[str, Any]) -> None:
    """Apply the action's `success_if` and `retry.statuses` to an attempt that got an answer."""
    if attempt.status is None:
        return
    if action.kind == "http":  # an MCP tool error rides on an HTTP 200: its kind decided already
        attempt.retryable = action.retry.retries_status(attempt.status)
    if action.success_if is None:
        return
    try:
        verdict = bool(evaluate(action.success_if, {**context, "response": response_view(attempt)}))
    except RenderError as exc:
        verdict, cause = False, f"success_if failed: {exc}"
    else:
        cause = f"success_if {action.success_if!r} is false (HTTP {attempt.status})"
    attempt.accepted = verdict
    attempt.error = None if verdict else cause


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
    context = template_context(ctx, event, rule, secrets)
    kind = ACTION_KINDS[action.kind]
    try:
        if number == 1:
            replaced = flow.superseded(ctx.redis, action, rule.name, index, event.id, context)
            if replaced:
                _skip(ctx, event, rule, index, replaced)
                return "skipped"
        request = render_request(action, context)
        if isinstance(request, OutgoingRequest):
            request = with_traceparent(
                request, event.correlation_id, event.id, rule.name, str(index), str(number)
            )
    except RenderError as exc:
        return _finish(ctx, event, rule, index, None, f"template error: {exc}", secrets)
    attempt: Attempt = kind.perform(
        ctx,
        request,
        number=number,
        timeout=action.timeout,
        idempotency_key=idempotency_key(event.id, rule.name, index),
        secrets=secrets.used,
    )
    judge(action, attempt, context)
    _remember_attempt(ctx, event, rule, index, attempt)
    telemetry.attempt_made(ctx, event, rule.name, label, attempt)
    if attempt.succeeded:
        return _finish(ctx, event, rule, index, attempt, None, secrets, context)
    attempts_left = attempt.retryable and number < action.retry.attempts
    if attempts_left:
        delay = retry_delay(action, attempt)
        telemetry.retry_scheduled(rule.name)
        log.info(
            "action %s/%s for %s failed (%s): try %d in %.1fs",
            rule.name,
            label,
            event.id,
            attempt.error,
            number + 1,
            delay,
            extra=telemetry.ids(event, rule=rule.name, action=label),
        )
        _enqueue(
            ctx, event.id, rule, index, number + 1, max(delay, 0.001), flow.concurrency_limit(action, context)
        )
        return "retrying"
    return _finish(ctx, event, rule, index, attempt, attempt.error, secrets)


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


def _carried(action: Action, attempt: Attempt | None, context: dict[str, Any] | None) -> dict[str, Any]:
    """`emit.data`, rendered with the response in view (RenderError when a template fails)."""
    if action.emit is None or not action.emit.data or attempt is None or context is None:
        return {}
    rendered: dict[str, Any] = render_value(action.emit.data, {**context, "response": response_view(attempt)})
    return rendered


def _step_summary(outcome: dict[str, Any]) -> dict[str, Any]:
    """An earlier action's outcome as a later outcome event carries it: its response, not its request."""
    return {key: value for key, value in outcome.items() if key not in ("rule", "request", "steps")}


def _finish(
    ctx: WorkerContext,
    event: Event,
    rule: Rule,
    index: int,
    attempt: Attempt | None,
    error: str | None,
    secrets: Secrets | None = None,
    context: dict[str, Any] | None = None,
) -> str:
    action = rule.do[index]
    label = rule.action_label(index)
    used = secrets.used if secrets is not None else set()
    carried: dict[str, Any] = {}
    if error is None:
        try:
            carried = _carried(action, attempt, context)
        except RenderError as exc:
            error = f"emit.data: {exc}"
    data = outcomes.outcome_data(rule.name, label, attempt, error, secrets=used)
    data.update(mask_value(carried, used))
    records = store.load_action_records(ctx.redis, event.id)
    if index > 0:
        data["steps"] = {name: _step_summary(outcome) for name, outcome in steps_of(records, rule).items()}
    record = records.get(store.action_field(rule.name, index)) or {
        "rule": rule.name,
        "action": label,
        "attempts": [],
    }
    record["status"] = "succeeded" if error is None else "failed"
    record["outcome"] = data
    store.save_action_record(ctx.redis, event.id, rule.name, index, record, ctx.settings.event_ttl)
    telemetry.action_finished(ctx, event, rule.name, "succeeded" if error is None else "failed")
    if error is None:
        log.info(
            "action %s/%s for %s succeeded: HTTP %s",
            rule.name,
            label,
            event.id,
            attempt.status if attempt else "-",
            extra=telemetry.ids(event, rule=rule.name, action=label),
        )
        if action.emit_type:
            outcomes.emit(ctx, event, action.emit_type, data, rule=rule.name, action_index=index)
        outcomes.emit(ctx, event, "action.succeeded", data, rule=rule.name, action_index=index)
        if index + 1 < len(rule.do):
            nxt = index + 1
            plan = _plan(ctx, event, rule, nxt)
            if plan is not None and (plan.delay or plan.rate_limit):
                _enqueue(ctx, event.id, rule, nxt, 1, plan.delay, plan.rate_limit)
            elif plan is not None:
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
    log.warning(
        "action %s/%s for %s failed: %s",
        rule.name,
        label,
        event.id,
        error,
        extra=telemetry.ids(event, rule=rule.name, action=label),
    )
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
