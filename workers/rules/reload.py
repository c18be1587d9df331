"""Reloading rules while a worker runs: when a rule file changes, the next job sees the new rules.

A broken edit is reported and the last good rules keep serving. Jobs already queued keep their
place; a job whose rule was removed is dropped with a warning when it runs.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from workers.rules.loader import RuleFileError, load_rules, rule_files
from workers.rules.match import RuleSet

log = logging.getLogger("hookchain.worker")

Signature = tuple[tuple[str, int, int], ...]
CHECK_INTERVAL = 1.0
"""Seconds between looks at the files (a stat per file), so busy workers do not stat per job."""


def signature(root: Path) -> Signature:
    """What changes when a rule file is edited, added or removed."""
    if not root.exists():
        return ()
    found = []
    for file in rule_files(root):
        try:
            stat = file.stat()
        except OSError:
            continue
        found.append((str(file), stat.st_mtime_ns, stat.st_size))
    return tuple(found)


class RulesReloader:
    def __init__(self, root: Path, interval: float = CHECK_INTERVAL) -> None:
        self.root = root
        self.interval = interval
        self.seen = signature(root)
        self._checked = time.monotonic()
        self._lock = threading.Lock()

    def poll(self, *, force: bool = False) -> RuleSet | None:
        """New rules when the files changed and load cleanly; None otherwise (broken edits are logged)."""
        with self._lock:
            return self._poll(force)

    def _poll(self, force: bool) -> RuleSet | None:
        now = time.monotonic()
        if not force and now - self._checked < self.interval:
            return None
        self._checked = now
        current = signature(self.root)
        if current == self.seen:
            return None
        self.seen = current
        try:
            rules = RuleSet(load_rules(self.root))
        except RuleFileError as exc:
            for error in exc.errors:
                log.error("rules not reloaded: %s", error)
            log.error("%d problem(s) in %s: the last good rules keep serving", len(exc.errors), self.root)
            return None
        log.info("rules reloaded from %s: %d rule(s)", self.root, len(rules))
        return rules
