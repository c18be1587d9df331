"""Ask GitHub to redeliver the webhooks hookchain never accepted (`hookchain recover`, or the workers).

GitHub does not retry a failed delivery by itself, so an outage (or a 503 from hookchain) loses
those events unless someone asks for them again. This lists the recent deliveries of the hooks
that point at hookchain (GitHub's hook deliveries API), keeps those whose delivery id hookchain
has no dedupe mark for and whose event type some rule listens to, and requests a redelivery of
each. The redelivery carries the same `X-GitHub-Delivery`, so running this any number of times
(or while deliveries are still arriving) cannot make an event run twice.

With `HOOKCHAIN_RECOVER_REPOS` and `HOOKCHAIN_RECOVER_EVERY` set, the workers do it themselves:
one of them at a time (a Redis lock) every so many seconds.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from redis import Redis

from router.queue import KEY_PREFIX, dedupe_key
from router.settings import Settings
from workers.rules import RuleSet

log = logging.getLogger("hookchain.worker")
RECOVER_LOCK_KEY = f"{KEY_PREFIX}:recover:lock"
MIN_LOOK_BACK = 2 * 3600

API_URL = "https://api.github.com"
PAGE_SIZE = 100

SEMANTIC_TYPES = {
    "push": ("push",),
    "pull_request": ("pr.opened", "pr.merged", "pr.closed"),
    "check_suite": ("ci.passed", "ci.failed"),
    "workflow_run": ("ci.passed", "ci.failed"),
    "status": ("ci.passed", "ci.failed"),
    "deployment_status": ("deploy.succeeded", "deploy.failed"),
    "release": ("release.published",),
    "ping": ("ping",),
}
"""GitHub event name → the semantic types its deliveries can become (router/providers/github.py)."""

_SPAN = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class RecoverError(Exception):
    pass


def parse_span(text: str) -> timedelta:
    """`30m`, `2h`, `1d`."""
    found = _SPAN.match(text)
    if found is None:
        raise RecoverError(f"--since {text!r} is not like 30m, 2h or 1d")
    return timedelta(seconds=int(found.group(1)) * _SECONDS[found.group(2)])


@dataclass(frozen=True)
class Delivery:
    id: int
    guid: str
    delivered_at: datetime
    event: str
    action: str | None
    status_code: int

    @classmethod
    def from_api(cls, raw: dict[str, Any]) -> Delivery:
        return cls(
            id=int(raw["id"]),
            guid=str(raw["guid"]),
            delivered_at=datetime.fromisoformat(str(raw["delivered_at"]).replace("Z", "+00:00")),
            event=str(raw["event"]),
            action=raw.get("action"),
            status_code=int(raw.get("status_code") or 0),
        )

    def types(self) -> list[str]:
        provider = f"github.{self.event}" + (f".{self.action}" if self.action else "")
        return [*SEMANTIC_TYPES.get(self.event, ()), provider]


class GitHubHooks:
    """The few calls of GitHub's REST API that recovery needs."""

    def __init__(self, token: str, api_url: str = API_URL, timeout: float = 15.0) -> None:
        self.client = httpx.Client(
            base_url=api_url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "hookchain-recover",
            },
            timeout=timeout,
            trust_env=False,
        )

    def _get(self, url: str, **params: Any) -> httpx.Response:
        answer = self.client.get(url, params=params or None)
        if answer.status_code != 200:
            raise RecoverError(
                f"GET {answer.request.url.path}: HTTP {answer.status_code} {answer.text[:200]}"
            )
        return answer

    def hooks(self, repo: str) -> list[dict[str, Any]]:
        return list(self._get(f"/repos/{repo}/hooks", per_page=PAGE_SIZE).json())

    def deliveries(self, repo: str, hook_id: int, since: datetime) -> Iterator[Delivery]:
        """Newest first, following GitHub's cursor pagination, stopping at `since`."""
        answer = self._get(f"/repos/{repo}/hooks/{hook_id}/deliveries", per_page=PAGE_SIZE)
        while True:
            for raw in answer.json():
                delivery = Delivery.from_api(raw)
                if delivery.delivered_at < since:
                    return
                yield delivery
            following = answer.links.get("next", {}).get("url")
            if not following:
                return
            answer = self._get(following)

    def redeliver(self, repo: str, hook_id: int, delivery_id: int) -> bool:
        answer = self.client.post(f"/repos/{repo}/hooks/{hook_id}/deliveries/{delivery_id}/attempts")
        return answer.status_code in (200, 202)

    def close(self) -> None:
        self.client.close()


@dataclass
class Recovery:
    listed: int = 0
    accepted: int = 0
    not_needed: int = 0
    redelivered: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.listed} deliveries listed: {self.accepted} already accepted, {self.not_needed} not "
            f"needed by any rule, {len(self.redelivered)} redelivery requested, {len(self.refused)} refused"
        )


def is_hookchain_hook(hook: dict[str, Any], hook_url: str | None) -> bool:
    url = str((hook.get("config") or {}).get("url", ""))
    if hook_url is not None:
        return url.startswith(hook_url)
    return "/hooks/" in url


def recover(
    api: GitHubHooks,
    redis: Redis,
    rules: RuleSet,
    repos: list[str],
    since: datetime,
    *,
    hook_url: str | None = None,
    source: str = "github",
    dry_run: bool = False,
) -> Recovery:
    result = Recovery()
    for repo in repos:
        for hook in api.hooks(repo):
            if not is_hookchain_hook(hook, hook_url):
                continue
            seen: set[str] = set()
            for delivery in api.deliveries(repo, int(hook["id"]), since):
                result.listed += 1
                if delivery.guid in seen:
                    continue  # an earlier attempt of a delivery already judged
                seen.add(delivery.guid)
                if redis.exists(dedupe_key(source, delivery.guid)):
                    result.accepted += 1
                elif not any(rules.listens_to(t) for t in delivery.types()):
                    result.not_needed += 1
                elif dry_run or api.redeliver(repo, int(hook["id"]), delivery.id):
                    result.redelivered.append(delivery.guid)
                else:
                    result.refused.append(delivery.guid)
    return result


def since_now(span: timedelta) -> datetime:
    return datetime.now(UTC) - span


class PeriodicRecovery(threading.Thread):
    """The workers' own `hookchain recover`: one worker at a time, every `recover_every` seconds."""

    def __init__(self, settings: Settings, redis: Redis, rules: RuleSet) -> None:
        super().__init__(name="hookchain-recover", daemon=True)
        self.settings = settings
        self.redis = redis
        self.rules = rules
        self._stopping = threading.Event()

    def run(self) -> None:
        every = self.settings.recover_every
        token = self.settings.github_token
        if token is None:
            log.warning("HOOKCHAIN_RECOVER_REPOS is set but GITHUB_TOKEN is not: no recovery runs")
            return
        while not self._stopping.is_set():
            try:
                if self.redis.set(RECOVER_LOCK_KEY, 1, nx=True, ex=max(every - 1, 1)):
                    self.run_once(token.get_secret_value())
            except Exception as exc:  # GitHub or Redis away: the next run tries again
                log.warning("recovery run failed: %s", exc)
            self._stopping.wait(every)

    def run_once(self, token: str) -> Recovery:
        api = GitHubHooks(token, self.settings.github_api_url)
        try:
            look_back = timedelta(seconds=max(2 * self.settings.recover_every, MIN_LOOK_BACK))
            found = recover(
                api, self.redis, self.rules, list(self.settings.recover_repos), since_now(look_back)
            )
        finally:
            api.close()
        if found.redelivered or found.refused:
            log.info("recovery: %s", found.summary())
        return found

    def stop(self) -> None:
        self._stopping.set()
