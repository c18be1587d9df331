"""W3C trace context for outgoing calls: every call of one chain carries the same trace id.

The trace id comes from the chain's correlation id (the webhook's id), so a team's own tracing
shows hookchain's calls for one webhook as one trace; the span id names the attempt.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

from workers.actions.http import OutgoingRequest

_HEX32 = re.compile(r"[0-9a-f]{32}")
TRACEPARENT = "traceparent"


def trace_id(correlation_id: str) -> str:
    """The correlation id itself when it is 128 bits of hex (a UUID), else a hash of it."""
    compact = correlation_id.replace("-", "").lower()
    if _HEX32.fullmatch(compact) and compact.strip("0"):
        return compact
    return hashlib.sha256(f"hookchain:trace:{correlation_id}".encode()).hexdigest()[:32]


def span_id(*parts: str) -> str:
    digest = hashlib.sha256("/".join(("hookchain:span", *parts)).encode()).hexdigest()[:16]
    return digest if digest.strip("0") else "0000000000000001"


def traceparent(correlation_id: str, *span_parts: str) -> str:
    return f"00-{trace_id(correlation_id)}-{span_id(*span_parts)}-01"


def with_traceparent(request: OutgoingRequest, correlation_id: str, *span_parts: str) -> OutgoingRequest:
    """The request with a `traceparent` header, unless the rule set one itself."""
    if any(name.lower() == TRACEPARENT for name in request.headers):
        return request
    headers = {**request.headers, TRACEPARENT: traceparent(correlation_id, *span_parts)}
    return replace(request, headers=headers)
