"""W3C traceparent for outgoing calls, derived from the chain."""

from __future__ import annotations

import re

from workers.actions.http import OutgoingRequest
from workers.actions.tracing import trace_id, traceparent, with_traceparent

W3C = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01")


def test_a_uuid_correlation_id_is_the_trace_id_itself():
    assert trace_id("DB6E6525-e63a-4733-9393-dc6f918d7387") == "db6e6525e63a47339393dc6f918d7387"


def test_other_correlation_ids_are_hashed_to_a_valid_trace_id():
    for odd in ("12345", "not-hex-at-all", "0" * 32):
        found = trace_id(odd)
        assert re.fullmatch(r"[0-9a-f]{32}", found) and found.strip("0"), odd
    assert trace_id("12345") == trace_id("12345") != trace_id("12346")


def test_every_attempt_is_its_own_span_of_the_chain_trace():
    first = traceparent("chain-1", "ev", "rule", "0", "1")
    retry = traceparent("chain-1", "ev", "rule", "0", "2")
    assert W3C.fullmatch(first) and W3C.fullmatch(retry)
    assert first.split("-")[1] == retry.split("-")[1]
    assert first.split("-")[2] != retry.split("-")[2]


def test_a_traceparent_the_rule_set_itself_is_kept():
    own = OutgoingRequest(method="POST", url="http://x", headers={"TraceParent": "00-mine"})
    assert with_traceparent(own, "c", "s").headers == {"TraceParent": "00-mine"}
    plain = OutgoingRequest(method="POST", url="http://x", headers={"A": "b"})
    added = with_traceparent(plain, "c", "s").headers
    assert added["A"] == "b" and W3C.fullmatch(added["traceparent"])
