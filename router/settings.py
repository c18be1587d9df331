"""One typed settings object, read once at start from flags, then the environment, then hookchain.yaml."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from router.config_file import default_config_path, read_config_file
from router.connection import sentinel_target
from router.errors import ConfigError
from router.providers import PROVIDERS

PROVIDER_NAMES: tuple[str, ...] = tuple(PROVIDERS)

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
    "HOOKCHAIN_REPLAY_WINDOW": "replay_window",
    "HOOKCHAIN_CONFIG": "config_file",
    "HOOKCHAIN_LOG_FORMAT": "log_format",
    "HOOKCHAIN_BODY_TIMEOUT": "body_timeout",
    "HOOKCHAIN_JOB_LEASE": "job_lease",
    "HOOKCHAIN_MAINTENANCE_INTERVAL": "maintenance_interval",
    "HOOKCHAIN_RULE_RATE": "rule_rate",
    "HOOKCHAIN_RECOVER_REPOS": "recover_repos",
    "HOOKCHAIN_RECOVER_EVERY": "recover_every",
    "GITHUB_TOKEN": "github_token",
    "GITHUB_API_URL": "github_api_url",
}


class SourceSettings(BaseModel):
    """A named endpoint, `/hooks/<name>`, bound to a provider and its secrets (several while rotating)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    provider: str
    secrets: tuple[SecretStr, ...] = ()
    insecure: bool = False
    """Accept requests without any check when the source has no secret (trusted networks only)."""
    replay_window: int | None = Field(default=None, gt=0)
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _one_secret(cls, values: Any) -> Any:
        """`secret: x` is shorthand for `secrets: [x]`."""
        if isinstance(values, dict) and "secret" in values:
            values = dict(values)
            if "secrets" in values:
                raise ValueError("give either secret or secrets, not both")
            values["secrets"] = [values.pop("secret")]
        return values

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, provider: str) -> str:
        if provider not in PROVIDERS:
            raise ValueError(f"unknown provider {provider!r}; one of {', '.join(PROVIDERS)}")
        return provider

    @field_validator("secrets")
    @classmethod
    def _not_empty(cls, secrets: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        if any(not secret.get_secret_value() for secret in secrets):
            raise ValueError("a secret must not be empty")
        return secrets

    def secret_values(self) -> tuple[str, ...]:
        return tuple(secret.get_secret_value() for secret in self.secrets)


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
    config_file: Path | None = None
    """The hookchain.yaml the sources (and any other setting not given otherwise) came from."""
    replay_window: int = Field(default=300, gt=0)
    """Seconds a provider's signed timestamp may be from now; a source can set its own."""
    sources: tuple[SourceSettings, ...] = ()
    """Sources declared in the config file; see `all_sources` for the ones served."""
    log_format: Literal["json", "text"] | None = None
    """None: JSON lines for `web` and `worker`, readable text for `dev`."""
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
        """Flags (`overrides`, None values ignored) win over the environment, which wins over the file."""
        env = os.environ if environ is None else environ
        flags = {k: v for k, v in (overrides or {}).items() if v is not None}
        config_path = flags.get("config_file") or env.get("HOOKCHAIN_CONFIG") or default_config_path()
        values: dict[str, Any] = read_config_file(Path(config_path), env) if config_path else {}
        if config_path:
            values["config_file"] = Path(config_path)
        for var, field in _ENV_FIELDS.items():
            raw = env.get(var)
            if raw not in (None, ""):
                values[field] = raw
        sentinels = env.get("HOOKCHAIN_REDIS_SENTINELS", "").strip()
        service = env.get("HOOKCHAIN_REDIS_SENTINEL_SERVICE", "").strip()
        if sentinels or service:
            if not (sentinels and service):
                raise ConfigError(
                    "set both HOOKCHAIN_REDIS_SENTINELS (host:port,...) and HOOKCHAIN_REDIS_SENTINEL_SERVICE"
                )
            if values.get("redis_url"):
                raise ConfigError("set REDIS_URL or the HOOKCHAIN_REDIS_SENTINEL* settings, not both")
            values["redis_url"] = f"redis+sentinel://{sentinels.replace(' ', '')}/{service}"
        for listed in ("allowed_targets", "recover_repos"):
            if listed in values:
                values[listed] = tuple(part.strip() for part in values[listed].split(",") if part.strip())
        values["provider_secrets"] = {
            name: env[f"HOOKCHAIN_{name.upper()}_SECRET"]
            for name in PROVIDER_NAMES
            if env.get(f"HOOKCHAIN_{name.upper()}_SECRET")
        }
        values.update(flags)
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise ConfigError(f"invalid settings: {problems}") from None

    def all_sources(self) -> tuple[SourceSettings, ...]:
        """The declared sources, plus `/hooks/<provider>` for each provider whose
        HOOKCHAIN_<PROVIDER>_SECRET is set and whose name no declared source takes."""
        declared = {source.name for source in self.sources}
        from_env = tuple(
            SourceSettings(name=provider, provider=provider, secrets=(secret,))
            for provider, secret in self.provider_secrets.items()
            if provider not in declared
        )
        return self.sources + from_env

    @field_validator("redis_url")
    @classmethod
    def _known_redis_url(cls, value: str | None) -> str | None:
        if value is not None:
            sentinel_target(value)  # a malformed Sentinel URL is refused at start, with an example
        return value

    def secret_for(self, provider: str) -> str | None:
        secret = self.provider_secrets.get(provider)
        return secret.get_secret_value() if secret is not None else None
