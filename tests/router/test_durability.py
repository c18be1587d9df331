"""The start-up warnings about a Redis that would lose acknowledged events."""

from __future__ import annotations

import redis

from router.durability import check_sync, durability_warnings


def test_aof_and_noeviction_is_quiet():
    assert durability_warnings({"maxmemory_policy": "noeviction"}, {"aof_enabled": 1}, "3600 1") == []


def test_an_evicting_redis_is_named():
    (problem,) = durability_warnings({"maxmemory_policy": "allkeys-lru"}, {"aof_enabled": 1}, "")
    assert "allkeys-lru" in problem and "evicts" in problem and "deploy/redis.conf" in problem


def test_nothing_on_disk_and_snapshots_only_are_told_apart():
    (nothing,) = durability_warnings({"maxmemory_policy": "noeviction"}, {"aof_enabled": 0}, "")
    assert "keeps nothing on disk" in nothing
    (snapshots,) = durability_warnings({"maxmemory_policy": "noeviction"}, {"aof_enabled": 0}, "3600 1")
    assert "AOF is off" in snapshots
    (unknown,) = durability_warnings({"maxmemory_policy": "noeviction"}, {"aof_enabled": 0}, None)
    assert "AOF is off" in unknown  # CONFIG refused (managed Redis): judged by INFO alone


def test_the_test_redis_is_read_as_it_is(real_redis: redis.Redis):
    policy = real_redis.config_get("maxmemory-policy")["maxmemory-policy"]
    aof = real_redis.config_get("appendonly")["appendonly"] == "yes"
    problems = check_sync(real_redis)
    assert any("evicts" in p for p in problems) == (policy != "noeviction")
    assert any("AOF" in p or "nothing on disk" in p for p in problems) == (not aof)
