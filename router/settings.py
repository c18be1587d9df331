"""One typed settings object, read once at start from flags, then the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from router.errors import ConfigError

PROVIDER_NAMES = (
    "github",
    "gitlab",
    "bitbucket",
    "circleci",
    "buildkite",
    "slack",
    "linear",
    "jira",
    "standard",
    "generic",
)

DAY = 24 * 3600

# environment variable -> settings field
_ENV_FIELDS = {
    "REDIS_URL": "redis_url",
    "HOOKCHAIN_RULES": "rules_dir",
    "HOOKCHAIN_MAX_BODY_BYTES": "max_body_bytes",
    "HOOKCHAIN_DEDUPE_TTL": "dedupe_ttl",
    "HOOKCHAIN_EVENT_TTL": "event_ttl",
    "HOOKCHAIN_MAX_DEPTH": "max_depth",
    "HOOKCHAIN_ALLOWED_TARGETS": "allowed_targets",
    "HOOKCHAIN_ADMIN_TOKEN": "admin_token",
    "HOOKCHAIN_REDIS_TIMEOUT": "redis_timeout",
    "HOOKCHAIN_LOG_LEVEL": "log_level",
    "HOOKCHAIN_BODY_TIMEOUT": "body_timeout",
    "HOOKCHAIN_JOB_LEASE": "job_lease",
    "HOOKCHAIN_MAINTENANCE_INTERVAL": "maintenance_interval",
    "HOOKCHAIN_RULE_RATE": "rule_rate",
    "HOOKCHAIN_RECOVER_REPOS": "recover_repos",
    "HOOKCHAIN_RECOVER_EVERY": "recover_every",
    "GITHUB_TOKEN": "github_token",
    "GITHUB_API_URL": "github_api_url",
}


class Settings(BaseModel):
    """Everything hookchain's processes are configured by. Secrets never print."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    redis_url: str | None = None
    """None means the embedded in-process Redis (only `hookchain dev` accepts that)."""
    rules_dir: Path = Path("rules")
    provider_secrets: dict[str, SecretStr] = Field(default_factory=dict)
    max_body_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    dedupe_ttl: int = Field(default=3 * DAY, gt=0)
    event_ttl: int = Field(default=7 * DAY, gt=0)
    max_depth: int = Field(default=10, ge=0)
    allowed_targets: tuple[str, ...] = ()
    admin_token: SecretStr | None = None
    redis_timeout: float = Field(default=2.0, gt=0)
    log_level: str = "INFO"
    body_timeout: float = Field(default=30.0, gt=0)
    """Seconds a sender has to deliver a request body (slow clients get a 408)."""
    job_lease: int = Field(default=30, ge=3)
    """Seconds a running job stays claimed without a heartbeat from its worker (killed worker → re-run)."""
    maintenance_interval: int = Field(default=15, ge=1)
    """Seconds between the workers' sweeps for abandoned jobs."""
    rule_rate: str | None = None
    """Default cap on the actions a rule may fire, e.g. `60/minute`; a rule's `rate:` wins."""

    recover_repos: tuple[str, ...] = ()
    """GitHub repositories (owner/name) whose missed deliveries the workers ask for again."""
    recover_every: int = Field(default=0, ge=0)
    """Seconds between those runs; 0 turns it off."""
    github_token: SecretStr | None = None
    github_api_url: str = "https://api.github.com"

    @field_validator("rule_rate")
    @classmethod
    def _rate_form(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\s*\d+\s*/\s*(second|minute|hour|day|\d+\s*s)\s*", value):
            raise ValueError(f"{value!r} is not like 60/minute, 10/second or 5/30s")
        return value

    @classmethod
    def load(
        cls, overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """Flags (`overrides`, None values ignored) win over the environment."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for var, field in _ENV_FIELDS.items():
            raw = env.get(var)
            if raw not in (None, ""):
                values[field] = raw
        for listed in ("allowed_targets", "recover_repos"):
            if listed in values:
                values[listed] = tuple(part.strip() for part in values[listed].split(",") if part.strip())
        values["provider_secrets"] = {
            name: env[f"HOOKCHAIN_{name.upper()}_SECRET"]
            for name in PROVIDER_NAMES
            if env.get(f"HOOKCHAIN_{name.upper()}_SECRET")
        }
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise ConfigError(f"invalid settings: {problems}") from None

    def secret_for(self, provider: str) -> str | None:
        secret = self.provider_secrets.get(provider)
        return secret.get_secret_value() if secret is not None else None
