"""Reading hookchain.yaml: named sources (with `${ENV}` secrets) and settings not given otherwise.

```yaml
sources:
  - name: github-acme
    provider: github
    secrets: ["${ACME_GITHUB_SECRET}", "${ACME_GITHUB_SECRET_OLD}"]   # both accepted while rotating
  - name: deploys
    provider: standard
    secrets: ["${DEPLOYER_WHSEC}"]
    replay_window: 120
replay_window: 300
```
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from router.errors import ConfigError

DEFAULT_CONFIG = Path("hookchain.yaml")
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def default_config_path() -> Path | None:
    """./hookchain.yaml when it exists: with no config file, sources come from the environment alone."""
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


def read_config_file(path: Path, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Settings values from the file, secrets expanded; a ConfigError says what and where."""
    environ = os.environ if env is None else env
    try:
        loaded = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: the top level must be a mapping (sources:, replay_window:, ...)")
    values = dict(loaded)
    sources = values.get("sources", [])
    if not isinstance(sources, list):
        raise ConfigError(f"{path}: sources must be a list of {{name, provider, secrets}}")
    expanded = []
    for index, source in enumerate(sources):
        if not isinstance(source, dict):
            raise ConfigError(f"{path}: sources[{index}] must be a mapping with name and provider")
        expanded.append(_expand_secrets(source, f"{path}: source {source.get('name', index)!r}", environ))
    names = [source.get("name") for source in expanded]
    duplicates = sorted({str(name) for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"{path}: source names must be unique; repeated: {', '.join(duplicates)}")
    if "sources" in values:
        values["sources"] = expanded
    return values


def _expand_secrets(source: dict[str, Any], where: str, env: Mapping[str, str]) -> dict[str, Any]:
    result = dict(source)
    for key in ("secret", "secrets"):
        if key not in result:
            continue
        raw = result[key]
        items = raw if isinstance(raw, list) else [raw]
        if not all(isinstance(item, str) for item in items):
            raise ConfigError(f"{where}: {key} must be a string or a list of strings")
        result[key] = (
            [_expand(item, where, env) for item in items]
            if isinstance(raw, list)
            else _expand(raw, where, env)
        )
    return result


def _expand(value: str, where: str, env: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if not env.get(name):
            raise ConfigError(f"{where}: secret ${{{name}}} is not set in the environment")
        return env[name]

    return _REFERENCE.sub(replace, value)
