"""A local stand-in for the providers' REST APIs, served for real over HTTP on 127.0.0.1.

It implements the endpoints `hookchain hooks` uses with the methods, paths, status codes,
headers and bodies of the published APIs (GitHub REST v3 repository and organisation webhooks
and deliveries, GitLab v4 project and group hooks, CircleCI v2 webhooks, Buildkite v2
notification services), and it is strict: a wrong auth header, a missing API header or an
unexpected body field is refused the way the provider would refuse it, so a client mistake fails
a test instead of passing silently.
"""

from __future__ import annotations

import threading
import time

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from tests.hooks.fake_ci import buildkite_handlers, circleci_handlers
from tests.hooks.fake_github import github_delivery, github_handlers
from tests.hooks.fake_gitlab import GITLAB_FLAGS, gitlab_handlers
from tests.hooks.fake_state import State

__all__ = ["GITLAB_FLAGS", "FakeProviders", "State", "build_app", "github_delivery"]


def build_app(state: State) -> Starlette:
    github_routes = github_handlers(state)
    return Starlette(
        routes=[
            Mount("/api/v3", routes=github_routes),  # GitHub Enterprise Server
            Mount("/api/v4", routes=gitlab_handlers(state)),
            Mount("/api/v2", routes=circleci_handlers(state)),
            Mount("/v2", routes=buildkite_handlers(state)),
            *github_routes,  # api.github.com serves from the root
        ]
    )


class FakeProviders:
    """The fake APIs under uvicorn in a thread on 127.0.0.1; `url` is its root."""

    def __init__(self) -> None:
        self.state = State()
        config = uvicorn.Config(build_app(self.state), host="127.0.0.1", port=0, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = ""

    def start(self) -> FakeProviders:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not (self.server.started and self.server.servers):
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the fake provider API did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
