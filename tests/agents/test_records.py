"""An event's status, from its match record and its action records."""

from __future__ import annotations

import pytest

from agents.records import event_status

MATCHED = [{"rule": "r", "matched": True, "reason": None}]


@pytest.mark.parametrize(
    ("matches", "actions", "status"),
    [
        (None, {}, "pending"),
        ([{"rule": "r", "matched": False, "reason": "on: …"}], {}, "unmatched"),
        ([], {}, "unmatched"),
        (MATCHED, {}, "running"),
        (MATCHED, {"r/0": {"status": "running"}}, "running"),
        (MATCHED, {"r/0": {"status": "succeeded"}}, "succeeded"),
        (MATCHED, {"r/0": {"status": "succeeded"}, "s/0": {"status": "failed"}}, "failed"),
    ],
)
def test_event_status(matches, actions, status):
    assert event_status(matches, actions) == status
