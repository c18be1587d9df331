"""The loopback API the benchmarks' actions call: notes when each call arrives, answers after a delay.

Run: python -m bench.target --port P [--delay 0.2]. POST anything to /call (a JSON body's "id" is
kept with its arrival time); GET /arrivals lists them; POST /reset forgets them.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

arrivals: list[tuple[str, float]] = []
in_flight = 0
most_in_flight = 0
DELAY = 0.0


async def call(request: Request) -> Response:
    global in_flight, most_in_flight
    arrived = time.time()
    body = await request.body()
    try:
        ident = str(orjson.loads(body).get("id", "")) if body else ""
    except (orjson.JSONDecodeError, AttributeError):
        ident = ""
    arrivals.append((ident, arrived))
    in_flight += 1
    most_in_flight = max(most_in_flight, in_flight)
    try:
        if DELAY:
            await asyncio.sleep(DELAY)
    finally:
        in_flight -= 1
    return Response(b'{"ok":true}', media_type="application/json")


async def list_arrivals(request: Request) -> Response:
    return Response(orjson.dumps({"arrivals": arrivals, "most_in_flight": most_in_flight}))


async def reset(request: Request) -> Response:
    global most_in_flight
    arrivals.clear()
    most_in_flight = 0
    return Response(b"{}")


app = Starlette(
    routes=[
        Route("/call", call, methods=["POST"]),
        Route("/arrivals", list_arrivals, methods=["GET"]),
        Route("/reset", reset, methods=["POST"]),
    ]
)


def main() -> None:
    global DELAY
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before answering")
    options = parser.parse_args()
    DELAY = options.delay
    uvicorn.run(app, host="127.0.0.1", port=options.port, log_level="warning", backlog=4096)


if __name__ == "__main__":
    main()
