"""Sources: the named endpoints `/hooks/<name>`, each a provider adapter with its own secrets.

Built once at start from Settings; a bad provider option stops the start with a ConfigError.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from router.errors import ConfigError, WebhookRejected
from router.providers import PROVIDERS, Provider
from router.settings import Settings

log = logging.getLogger("hookchain.router")


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    provider: Provider
    secrets: tuple[str, ...]
    insecure: bool = False

    def __repr__(self) -> str:
        return f"Source({self.name!r}, {self.provider.name}, {len(self.secrets)} secret(s))"

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        """Any of the source's secrets may match (rotation). No secret: refused unless insecure."""
        if self.secrets:
            self.provider.verify(headers, body, self.secrets)
        elif not self.insecure:
            raise WebhookRejected(
                401,
                f"source {self.name!r} has no secret, so every request is refused: give it secrets "
                "in hookchain.yaml (or mark it insecure: true on a trusted network)",
            )


def build_sources(settings: Settings) -> dict[str, Source]:
    sources: dict[str, Source] = {}
    for declared in settings.all_sources():
        where = f"source {declared.name!r}"
        try:
            provider = PROVIDERS[declared.provider].configured(
                declared.options,
                replay_window=declared.replay_window,
                default_window=settings.replay_window,
            )
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        source = Source(declared.name, provider, declared.secret_values(), declared.insecure)
        if not source.secrets:
            if source.insecure:
                log.warning("%s accepts unverified requests (insecure: true)", where)
            else:
                log.warning("%s has no secret: every request to /hooks/%s is refused", where, declared.name)
        sources[declared.name] = source
    return sources


def unknown_source(name: str, sources: Mapping[str, Source]) -> WebhookRejected:
    """404 with what the operator can do. The configured names are not listed to the caller."""
    if name in PROVIDERS:
        return WebhookRejected(
            404,
            f"source {name!r} is not configured: set HOOKCHAIN_{name.upper()}_SECRET "
            "or declare it in hookchain.yaml",
        )
    return WebhookRejected(
        404,
        f"unknown source {name!r}: declare it under sources: in hookchain.yaml "
        "(or use /hooks/<provider> with HOOKCHAIN_<PROVIDER>_SECRET set)",
    )
