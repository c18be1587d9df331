"""Fault injection on real processes: `hookchain web`, several `hookchain worker`s, Redis, a target."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.faults.target import Call
from tests.integration.conftest import rules_dir, stack  # noqa: F401  (fixtures)

# Short lease and sweep so that crash recovery is seen in seconds; the defaults are tested apart.
FAST_RECOVERY = {"HOOKCHAIN_JOB_LEASE": "6", "HOOKCHAIN_MAINTENANCE_INTERVAL": "2"}


def delivery_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Figures:
    """What a fault test reports: sent, acknowledged, fired, duplicates, lost."""

    name: str
    sent: int = 0
    acknowledged: int = 0
    refused: int = 0
    fired: int = 0
    duplicates: int = 0
    lost: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    def count_calls(
        self, calls: list[Call], expected: set[str], key_of: Callable[[Call], str]
    ) -> dict[str, list[Call]]:
        """Group calls by what they were for; duplicates and lost are counted against `expected`."""
        grouped: dict[str, list[Call]] = {}
        for call in calls:
            grouped.setdefault(key_of(call), []).append(call)
        self.fired = len(calls)
        self.duplicates = sum(len(group) - 1 for key, group in grouped.items() if key in expected)
        self.lost = len(expected - set(grouped))
        return grouped

    def report(self) -> str:
        extra = "".join(f" {k}={v}" for k, v in self.extra.items())
        line = (
            f"[{self.name}] sent={self.sent} acknowledged={self.acknowledged} refused={self.refused} "
            f"fired={self.fired} duplicates={self.duplicates} lost={self.lost}{extra}"
        )
        print(line)
        return line
