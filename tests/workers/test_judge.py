"""success_if, retry.statuses and emit.data: pure functions of an action and what came back."""

from __future__ import annotations

from workers.actions.http import Attempt
from workers.engine import _carried, judge
from workers.rules import load_rules_text
from workers.rules.schema import Action


def action(extra: str) -> Action:
    text = f"name: r\non: push\ndo:\n  - http: {{url: 'https://x.example'}}\n{extra}"
    rules, errors = load_rules_text(text, "r.yaml")
    assert errors == [], errors
    return rules[0].do[0]


def attempt(status: int, json: object = None, error: str | None = None) -> Attempt:
    return Attempt(number=1, started_at="", request={}, status=status, json=json, error=error)


def test_default_success_is_2xx():
    assert attempt(204).succeeded
    got = attempt(404, error="HTTP 404")
    judge(action(""), got, {})
    assert not got.succeeded and not got.retryable


def test_success_if_can_fail_a_200_and_accept_a_404():
    graphql = action("    success_if: \"not response.json.get('errors')\"\n")
    failed = attempt(200, {"errors": [{"message": "nope"}]})
    judge(graphql, failed, {})
    assert not failed.succeeded
    assert failed.error == "success_if \"not response.json.get('errors')\" is false (HTTP 200)"
    gone = action('    success_if: "response.status in (200, 404)"\n')
    already = attempt(404, error="HTTP 404")
    judge(gone, already, {})
    assert already.succeeded and already.error is None


def test_success_if_that_cannot_be_evaluated_fails_with_the_cause():
    broken = action('    success_if: "response.json.deployment.id"\n')
    got = attempt(200, None)
    judge(broken, got, {})
    assert not got.succeeded and got.error.startswith("success_if failed:")


def test_retry_statuses_choose_what_is_retried():
    only_409 = action("    retry: {attempts: 3, statuses: [409]}\n")
    conflict, outage = attempt(409, error="HTTP 409"), attempt(503, error="HTTP 503")
    judge(only_409, conflict, {})
    judge(only_409, outage, {})
    assert conflict.retryable and not outage.retryable
    default = attempt(429, error="HTTP 429")
    judge(action(""), default, {})
    assert default.retryable


def test_emit_data_extracts_from_the_response():
    deploy = action(
        "    emit:\n      type: deploy.started\n      data:\n"
        "        deployment_id: '{{ response.json.id }}'\n        ref: '{{ event.sha }}'\n"
    )
    carried = _carried(deploy, attempt(201, {"id": 77}), {"event": {"sha": "abc"}})
    assert carried == {"deployment_id": 77, "ref": "abc"}
