"""Does the connected Redis keep what hookchain acknowledges? Warnings for the start-up log.

An acknowledged webhook is only as durable as Redis: an evicting Redis (any `maxmemory-policy`
but `noeviction`) silently drops queued jobs under memory pressure, and a Redis with neither AOF
nor snapshots loses everything on restart. See `deploy/redis.conf` for the settings to use.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import redis
import redis.asyncio

log = logging.getLogger("hookchain")

ADVICE = "see deploy/redis.conf (appendonly yes, maxmemory-policy noeviction)"


def durability_warnings(
    memory: Mapping[str, Any], persistence: Mapping[str, Any], save: str | None
) -> list[str]:
    """Warnings from `INFO memory`, `INFO persistence` and `CONFIG GET save` (None: not allowed)."""
    problems: list[str] = []
    policy = str(memory.get("maxmemory_policy", "noeviction"))
    if policy != "noeviction":
        problems.append(
            f"Redis maxmemory-policy is {policy}: under memory pressure it evicts keys, "
            "queued events and jobs included, without telling anyone"
        )
    aof = str(persistence.get("aof_enabled", "0")) == "1"
    if not aof:
        if save is not None and not save.strip():
            problems.append(
                "Redis keeps nothing on disk (no AOF, no snapshots): a Redis restart loses every "
                "acknowledged event not yet processed"
            )
        else:
            problems.append(
                "Redis AOF is off: a Redis crash loses what was acknowledged since the last snapshot"
            )
    return [f"{problem}; {ADVICE}" for problem in problems]


def check_sync(client: redis.Redis) -> list[str]:
    try:
        memory = client.info("memory")
        persistence = client.info("persistence")
    except redis.RedisError as exc:
        return [f"could not read Redis' persistence settings ({type(exc).__name__}): {ADVICE}"]
    try:
        save = str(client.config_get("save").get("save", ""))
    except redis.RedisError:
        save = None  # managed Redis without CONFIG: judge by INFO alone
    return durability_warnings(memory, persistence, save)


async def check_async(client: redis.asyncio.Redis) -> list[str]:
    try:
        memory = await client.info("memory")
        persistence = await client.info("persistence")
    except (redis.RedisError, OSError) as exc:
        return [f"could not read Redis' persistence settings ({type(exc).__name__}): {ADVICE}"]
    try:
        save = str((await client.config_get("save")).get("save", ""))
    except redis.RedisError:
        save = None
    return durability_warnings(memory, persistence, save)


def warn(problems: list[str]) -> None:
    for problem in problems:
        log.warning("durability: %s", problem)
