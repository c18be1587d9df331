"""The engine's scheduling arithmetic."""

from __future__ import annotations

import time

from workers.engine import due_at


def test_delayed_jobs_are_never_due_early():
    for delay in (0.0, 0.3, 1.0, 1.7, 4.2):
        asked_for = time.time() + delay
        # RQ keeps whole seconds (truncating); the whole second kept must not be before the ask.
        assert int(due_at(delay).timestamp()) >= asked_for
