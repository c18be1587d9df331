"""Reading rule files: YAML with line numbers, validated into Rule objects, every error reported.

PyYAML reads the key `on` as the boolean true (YAML 1.1); mapping keys are taken as written,
so `on:` stays `on`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from router.errors import HookchainError
from workers.actions.templating import check_expression, check_template, secret_references
from workers.rules.schema import (
    Action,
    Auth,
    BasicAuth,
    Concurrency,
    Debounce,
    Emit,
    HttpRequest,
    McpToolCall,
    RetryPolicy,
    Rule,
    Throttle,
)

RULE_SUFFIXES = (".yml", ".yaml")
Location = tuple[int, int]  # 1-based line and column
PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class RuleError:
    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class RuleFileError(HookchainError):
    """One or more rule files are broken; `errors` lists every problem with file and line."""

    def __init__(self, errors: list[RuleError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


class _Document:
    """A YAML document as plain Python values, with the position of every value by path."""

    def __init__(self, node: yaml.Node) -> None:
        self.positions: dict[PathKey, Location] = {}
        self.key_positions: dict[PathKey, Location] = {}
        self._constructor = yaml.SafeLoader("")
        self.value = self._build(node, ())

    def _build(self, node: yaml.Node, path: PathKey) -> Any:
        self.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    key: Any = key_node.value
                else:
                    key = str(self._constructor.construct_object(key_node, deep=True))
                self.key_positions[(*path, key)] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
                result[key] = self._build(value_node, (*path, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self._build(item, (*path, index)) for index, item in enumerate(node.value)]
        return self._constructor.construct_object(node, deep=True)

    def locate(self, path: PathKey, *, key: bool = False) -> Location:
        """Position of the value at `path` (or its key), else of its nearest ancestor."""
        if key and path in self.key_positions:
            return self.key_positions[path]
        for end in range(len(path), -1, -1):
            if path[:end] in self.positions:
                return self.positions[path[:end]]
        return (1, 1)


def _fields(model: type[Any]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items() if name != "origin"}


_FIELDS_BY_MODEL: dict[str, set[str]] = {
    "rule": _fields(Rule),
    "do": _fields(Action),
    "http": _fields(HttpRequest),
    "mcp": _fields(McpToolCall),
    "retry": _fields(RetryPolicy),
    "auth": _fields(Auth),
    "basic": _fields(BasicAuth),
    "emit": _fields(Emit),
    "debounce": _fields(Debounce),
    "throttle": _fields(Throttle),
    "concurrency": _fields(Concurrency),
}


def _known_fields(path: PathKey) -> set[str]:
    names = [p for p in path if isinstance(p, str)]
    if names and names[-1] in _FIELDS_BY_MODEL:
        return _FIELDS_BY_MODEL[names[-1]]
    return _FIELDS_BY_MODEL["rule"]


def _suggestion(path: PathKey) -> str:
    close = difflib.get_close_matches(str(path[-1]), sorted(_known_fields(path[:-1])), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _rule_entries(doc: _Document) -> Iterator[tuple[PathKey, Any]]:
    value = doc.value
    if isinstance(value, dict) and "rules" in value and set(value) == {"rules"}:
        rules = value["rules"]
        if not isinstance(rules, list):
            raise _EntryError(("rules",), "rules: must be a list of rules")
        for index, rule in enumerate(rules):
            yield ("rules", index), rule
    elif isinstance(value, dict):
        yield (), value
    elif value is None:
        return
    else:
        raise _EntryError((), "a rule file holds one rule (a mapping) or a list of them under rules:")


class _EntryError(Exception):
    def __init__(self, path: PathKey, message: str) -> None:
        self.path = path
        self.message = message


def _templates_in(value: Any, path: PathKey) -> Iterator[tuple[PathKey, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _templates_in(key, (*path, key)) if isinstance(key, str) and "{" in key else ()
            yield from _templates_in(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _templates_in(item, (*path, index))


TEMPLATED_ACTION_FIELDS = ("http", "mcp", "with", "emit", "debounce", "throttle", "concurrency")
EXPRESSION_ACTION_FIELDS = ("success_if",)


def _rule_texts(raw: dict[str, Any], base: PathKey) -> Iterator[tuple[PathKey, str, bool]]:
    """Every template (and expression, flagged True) a rule holds, with its path."""
    if isinstance(raw.get("if"), str):
        yield (*base, "if"), raw["if"], True
    for index, action in enumerate(raw.get("do") or []):
        if not isinstance(action, dict):
            continue
        for name in TEMPLATED_ACTION_FIELDS:
            for path, text in _templates_in(action.get(name), (*base, "do", index, name)):
                yield path, text, False
        for name in EXPRESSION_ACTION_FIELDS:
            if isinstance(action.get(name), str):
                yield (*base, "do", index, name), action[name], True


def _check_rule_text(
    raw: dict[str, Any], base: PathKey, environ: Mapping[str, str] | None
) -> Iterator[tuple[PathKey, str]]:
    for path, text, is_expression in _rule_texts(raw, base):
        problem = check_expression(text) if is_expression else check_template(text)
        if problem:
            yield path, problem
        elif environ is not None:
            for name in sorted(secret_references(text, expression=is_expression)):
                if name not in environ:
                    yield path, f"secrets.{name} is not set in the environment (or write | default(...))"


def load_rules_text(
    text: str, file: str, environ: Mapping[str, str] | None = None
) -> tuple[list[Rule], list[RuleError]]:
    """Rules of one file and every problem found in it; with `environ`, unset secrets are problems too."""
    errors: list[RuleError] = []
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return [], [RuleError(file, line, column, f"YAML: {exc.problem or exc}")]
    except yaml.YAMLError as exc:
        return [], [RuleError(file, 1, 1, f"YAML: {exc}")]
    rules: list[Rule] = []
    for node in documents:
        if node is None:
            continue
        doc = _Document(node)
        try:
            entries = list(_rule_entries(doc))
        except _EntryError as exc:
            errors.append(RuleError(file, *doc.locate(exc.path), exc.message))
            continue
        for base, raw in entries:
            if not isinstance(raw, dict):
                errors.append(RuleError(file, *doc.locate(base), "a rule must be a mapping"))
                continue
            valid = True
            try:
                rule = Rule.model_validate({**raw, "origin": f"{file}:{doc.locate(base)[0]}"})
            except ValidationError as exc:
                valid = False
                for err in exc.errors():
                    path = (*base, *err["loc"])
                    if err["type"] == "extra_forbidden":
                        line, column = doc.locate(path, key=True)
                        message = f"unknown field {path[-1]!r}{_suggestion(path)}"
                    else:
                        line, column = doc.locate(path)
                        where = ".".join(str(p) for p in err["loc"]) or "rule"
                        message = f"{where}: {err['msg'].removeprefix('Value error, ')}"
                    errors.append(RuleError(file, line, column, message))
            # Templates, expressions and secrets are checked even when the structure is wrong: every
            # problem of the file at once.
            problems = list(_check_rule_text(raw, base, environ))
            for path, message in problems:
                errors.append(
                    RuleError(file, *doc.locate(path), f"{'.'.join(map(str, path[len(base) :]))}: {message}")
                )
            if valid and not problems:
                rules.append(rule)
    return rules, sorted(errors, key=lambda e: (e.line, e.column))


def rule_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.suffix in RULE_SUFFIXES and p.is_file())


def load_rules(paths: Path | Iterable[Path], environ: Mapping[str, str] | None = None) -> list[Rule]:
    """Every rule under the given files or folders; RuleFileError lists all problems at once.

    With `environ`, a template that reads a secret not set there (and has no default) is a problem.
    """
    roots = [paths] if isinstance(paths, Path) else list(paths)
    rules: list[Rule] = []
    errors: list[RuleError] = []
    for root in roots:
        if not root.exists():
            errors.append(RuleError(str(root), 1, 1, "no such file or folder"))
            continue
        for file in rule_files(root):
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                errors.append(RuleError(str(file), 1, 1, f"cannot read: {exc}"))
                continue
            found, problems = load_rules_text(text, str(file), environ)
            rules.extend(found)
            errors.extend(problems)
    seen: dict[str, Rule] = {}
    for rule in rules:
        if rule.name in seen:
            file, _, line = rule.origin.rpartition(":")
            errors.append(
                RuleError(
                    file, int(line), 1, f"rule name {rule.name!r} is already used at {seen[rule.name].origin}"
                )
            )
        seen.setdefault(rule.name, rule)
    if errors:
        raise RuleFileError(errors)
    return rules
