"""The JSON Schema of a rule file, generated from the pydantic models the loader validates with."""

from __future__ import annotations

from typing import Any

from workers.actions.presets import presets
from workers.rules.schema import Rule

SCHEMA_ID = "https://hookchain.dev/schemas/rule-file.json"


def rule_file_schema() -> dict[str, Any]:
    """One rule, or `rules:` with a list of them; editors use it to validate and complete rule files."""
    rule = Rule.model_json_schema(by_alias=True, mode="validation")
    rule["properties"].pop("origin", None)
    definitions = rule.pop("$defs", {})
    action = definitions.get("Action", {}).get("properties", {})
    if "preset" in action:
        action["preset"] = {
            "anyOf": [{"enum": sorted(presets())}, {"type": "null"}],
            "description": "a named call that expands to http; parameters under with:",
        }
    # Each preset's parameters, so editors complete `with:` and flag unknown or missing ones.
    action_definition = definitions.get("Action", {})
    action_definition["allOf"] = [
        {
            "if": {"properties": {"preset": {"const": preset.name}}, "required": ["preset"]},
            "then": {
                "properties": {
                    "with": {
                        "type": "object",
                        "description": preset.description,
                        "properties": {
                            name: {"description": param.description} if param.description else {}
                            for name, param in preset.params.items()
                        },
                        "required": [name for name, param in preset.params.items() if param.required],
                        "additionalProperties": False,
                    }
                },
                "required": ["with"] if any(p.required for p in preset.params.values()) else [],
            },
        }
        for preset in presets().values()
    ]
    # Short forms the loader accepts: a string for a list of one, for emit's type, for a concurrency key.
    rule["properties"]["on"] = {"anyOf": [{"type": "string"}, rule["properties"]["on"]], "title": "On"}
    for name in ("emit", "concurrency"):
        if name in action:
            action[name] = {"anyOf": [{"type": "string"}, action[name]], "title": name.title()}
    definitions["Rule"] = rule
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "hookchain rule file",
        "description": "One reaction rule, or a list of them under rules:",
        "anyOf": [
            {"$ref": "#/$defs/Rule"},
            {
                "type": "object",
                "properties": {"rules": {"type": "array", "items": {"$ref": "#/$defs/Rule"}}},
                "required": ["rules"],
                "additionalProperties": False,
            },
        ],
        "$defs": definitions,
    }
