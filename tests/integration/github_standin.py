"""A local stand-in of GitHub's hook deliveries API, on loopback, that redelivers for real.

It serves `GET /repos/{repo}/hooks`, `GET /repos/{repo}/hooks/{id}/deliveries` (newest first,
two per page, cursor pagination through the Link header as GitHub does) and
`POST /repos/{repo}/hooks/{id}/deliveries/{delivery}/attempts`, which sends the delivery's
payload, signed, to the hook's URL, as GitHub would.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson

from tests.conftest import github_signature

PAGE = 2


@dataclass
class StoredDelivery:
    id: int
    guid: str
    delivered_at: datetime
    event: str
    status_code: int
    payload: bytes
    action: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "guid": self.guid,
            "delivered_at": self.delivered_at.isoformat().replace("+00:00", "Z"),
            "redelivery": False,
            "duration": 0.1,
            "status": "OK" if 200 <= self.status_code < 300 else "failed",
            "status_code": self.status_code,
            "event": self.event,
            "action": self.action,
            "installation_id": None,
            "repository_id": 1,
        }


@dataclass
class GitHubStandIn:
    secret: str
    hooks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    deliveries: dict[int, list[StoredDelivery]] = field(default_factory=dict)
    redeliveries: list[str] = field(default_factory=list)
    authorizations: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def redeliver(self, hook: dict[str, Any], delivery: StoredDelivery) -> None:
        self.redeliveries.append(delivery.guid)
        answer = httpx.post(
            hook["config"]["url"],
            content=delivery.payload,
            headers={
                "Content-Type": "application/json",
                "X-GitHub-Event": delivery.event,
                "X-GitHub-Delivery": delivery.guid,
                "X-Hub-Signature-256": github_signature(self.secret, delivery.payload),
            },
            timeout=10,
        )
        delivery.status_code = answer.status_code


def _handler(api: GitHubStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            raw = orjson.dumps(body)
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            api.authorizations.add(self.headers.get("Authorization", ""))
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            if found := re.fullmatch(r"/repos/([^/]+/[^/]+)/hooks", parts.path):
                return self._answer(200, api.hooks.get(found.group(1), []))
            if found := re.fullmatch(r"/repos/([^/]+/[^/]+)/hooks/(\d+)/deliveries", parts.path):
                listed = sorted(api.deliveries.get(int(found.group(2)), []), key=lambda d: -d.id)
                start = int(query.get("cursor", ["0"])[0])
                page = listed[start : start + PAGE]
                headers = {}
                if start + PAGE < len(listed):
                    headers["Link"] = f'<{api.url}{parts.path}?cursor={start + PAGE}>; rel="next"'
                return self._answer(200, [d.to_api() for d in page], headers)
            return self._answer(404, {"message": "Not Found"})

        def do_POST(self) -> None:
            found = re.fullmatch(r"/repos/([^/]+/[^/]+)/hooks/(\d+)/deliveries/(\d+)/attempts", self.path)
            if found is None:
                return self._answer(404, {"message": "Not Found"})
            hook = next(h for h in api.hooks[found.group(1)] if h["id"] == int(found.group(2)))
            delivery = next(d for d in api.deliveries[hook["id"]] if d.id == int(found.group(3)))
            api.redeliver(hook, delivery)
            return self._answer(202, {})

    return Handler
