"""Presets: the calls teams make most, as data. Each is a parameter list plus a small `http` template.

A preset expands, when the rule loads, into a plain `http` action whose templates read
`params.*` (the action's `with:` values, rendered first) and may drop a field with `omit`.
Adding a preset is adding an entry to one of the YAML files here; no code path is its own.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

FOLDER = Path(__file__).parent


@dataclass(frozen=True)
class Param:
    required: bool = False
    default: Any = None
    description: str = ""


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    params: dict[str, Param]
    http: dict[str, Any]
    success_if: str | None = None
    source: str = field(default="", compare=False)


@cache
def presets() -> dict[str, Preset]:
    """Every preset by name, read once from the YAML files in this folder."""
    found: dict[str, Preset] = {}
    for file in sorted(FOLDER.glob("*.yaml")):
        for name, spec in (yaml.safe_load(file.read_text(encoding="utf-8")) or {}).items():
            found[name] = Preset(
                name=name,
                description=spec.get("description", ""),
                params={key: Param(**(value or {})) for key, value in spec.get("params", {}).items()},
                http=spec["http"],
                success_if=spec.get("success_if"),
                source=file.name,
            )
    return found


def _close(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def expand(action: dict[str, Any]) -> dict[str, Any]:
    """An action written with `preset:` and `with:`, as the `http` action it stands for."""
    name = action["preset"]
    known = presets()
    if not isinstance(name, str) or name not in known:
        raise ValueError(
            f"unknown preset {name!r}{_close(str(name), sorted(known))}; known: {', '.join(known)}"
        )
    preset = known[name]
    if action.get("http") is not None:
        raise ValueError("give preset or http, not both")
    given = action.get("with") or {}
    if not isinstance(given, dict):
        raise ValueError("with: must be a mapping of the preset's parameters")
    unknown = [key for key in given if key not in preset.params]
    if unknown:
        key = str(unknown[0])
        raise ValueError(
            f"preset {name} has no parameter {key!r}{_close(key, sorted(preset.params))}; "
            f"it takes {', '.join(preset.params)}"
        )
    missing = [key for key, param in preset.params.items() if param.required and key not in given]
    if missing:
        raise ValueError(f"preset {name} needs with: {', '.join(missing)}")
    params = {key: param.default for key, param in preset.params.items() if param.default is not None}
    expanded = {**action, "http": preset.http, "with": {**params, **given}}
    if preset.success_if is not None and action.get("success_if") is None:
        expanded["success_if"] = preset.success_if
    return expanded
