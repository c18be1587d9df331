"""Baseline (a), the floor of hookchain's design: verify the HMAC, LPUSH the raw body, answer 202."""

import hashlib
import hmac
import os

import redis.asyncio
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

SECRET, REDIS = os.environ["BENCH_SECRET"].encode(), redis.asyncio.Redis.from_url(os.environ["REDIS_URL"])


async def hook(request):
    body, given = await request.body(), request.headers.get("x-hub-signature-256", "")
    if not hmac.compare_digest(given, "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()):
        return Response(b'{"error":"bad signature"}', 401, media_type="application/json")
    await REDIS.lpush("bench:floor", body)
    return Response(b'{"ok":true}', 202, media_type="application/json")


app = Starlette(routes=[Route("/hooks/github", hook, methods=["POST"])])
