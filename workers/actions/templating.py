"""`{{ }}` templates and `if:` expressions, evaluated in Jinja's immutable sandbox.

Event data comes from the internet: it is only ever a value inside a template, never a
template itself. The sandbox blocks attribute tricks that reach Python internals; on top of it,
`*` and `**` are capped so that `{{ 'a' * 200000000 }}` cannot allocate 200 MB, rendered
output is capped in size, and a render is capped in time (MAX_RENDER_SECONDS).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, Undefined, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from workers.actions.time_cap import TimeCapExceeded, time_capped

MAX_OUTPUT_CHARS = 1_000_000
MAX_SEQUENCE_PRODUCT = 100_000
MAX_POWER_EXPONENT = 64
MAX_RENDER_SECONDS = 1.0

_SINGLE_EXPRESSION = re.compile(r"^\{\{(?P<expr>(?:(?!\}\}|\{\{).)*)\}\}$", re.DOTALL)


class RenderError(Exception):
    """A template or expression failed: the action is recorded as failed with this cause."""


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                too_long = (
                    isinstance(seq, str | list | tuple | bytes)
                    and isinstance(count, int)
                    and len(seq) * count > MAX_SEQUENCE_PRODUCT
                )
                if too_long:
                    raise SecurityError("result of * is too large")
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_POWER_EXPONENT:
            raise SecurityError("exponent of ** is too large")
        return super().call_binop(context, operator, left, right)


class _Omit:
    """`omit` in a template: the field it is the value of is left out of the request."""

    def __repr__(self) -> str:
        return "omit"


OMIT: Any = _Omit()
REGEX_INPUT_CAP = 100_000


def _finalize(value: Any) -> Any:
    return "" if value is None else value


def _regex_search(value: Any, pattern: str, group: int = 0) -> str | None:
    """`{{ text | regex_search('[A-Z]+-[0-9]+') }}`: the first match (or its group), else None."""
    found = re.search(pattern, str(value)[:REGEX_INPUT_CAP])
    return found.group(group) if found else None


ENVIRONMENT = _Sandbox(undefined=StrictUndefined, finalize=_finalize, autoescape=False)
ENVIRONMENT.filters["regex_search"] = _regex_search


@lru_cache(maxsize=4096)
def _template(text: str) -> Any:
    return ENVIRONMENT.from_string(text)


@lru_cache(maxsize=4096)
def _expression(text: str) -> Any:
    return ENVIRONMENT.compile_expression(text, undefined_to_none=False)


def check_template(text: str) -> str | None:
    """The syntax error of a template, or None."""
    try:
        match = _SINGLE_EXPRESSION.match(text)
        if match:
            _expression(match.group("expr"))
        else:
            _template(text)
    except TemplateSyntaxError as exc:
        return f"template syntax: {exc.message}"
    return None


def check_expression(text: str) -> str | None:
    try:
        _expression(text)
    except TemplateSyntaxError as exc:
        return f"expression syntax: {exc.message}"
    return None


def render_string(text: str, context: Mapping[str, Any]) -> Any:
    """A string whose whole content is one `{{ expr }}` keeps the value's type (42 stays a number)."""
    if "{" not in text:
        return text
    try:
        with time_capped(MAX_RENDER_SECONDS):
            return _render(text, context)
    except TimeCapExceeded as exc:
        raise RenderError(f"template {text[:200]!r}: {exc}") from None


def _render(text: str, context: Mapping[str, Any]) -> Any:
    try:
        match = _SINGLE_EXPRESSION.match(text)
        if match:
            value = _expression(match.group("expr"))(**context)
            if isinstance(value, Undefined):
                value._fail_with_undefined_error()
            return _finalize(value)
        size = 0
        parts: list[str] = []
        for chunk in _template(text).generate(**context):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise RenderError(f"template output over {MAX_OUTPUT_CHARS} characters")
            parts.append(chunk)
        return "".join(parts)
    except RenderError:
        raise
    except (TemplateError, SecurityError) as exc:
        raise RenderError(f"template {text!r}: {exc}") from None
    except Exception as exc:  # an operator on the wrong types: the rule author's to fix
        raise RenderError(f"template {text!r}: {type(exc).__name__}: {exc}") from None


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """Render every string inside a JSON-like structure; entries rendered to `omit` are left out."""
    if isinstance(value, str):
        return render_string(value, context)
    if isinstance(value, dict):
        rendered = {
            render_string(k, context) if isinstance(k, str) else k: render_value(v, context)
            for k, v in value.items()
        }
        return {k: v for k, v in rendered.items() if v is not OMIT}
    if isinstance(value, list):
        return [item for item in (render_value(item, context) for item in value) if item is not OMIT]
    return value


def secret_references(text: str, *, expression: bool = False) -> set[str]:
    """Names read as `secrets.NAME` (or `secrets['NAME']`) without a `| default(...)` to fall back on."""
    if "secrets" not in text:
        return set()
    try:
        match = None if expression else _SINGLE_EXPRESSION.match(text)
        source = match.group("expr") if match else text
        tree = ENVIRONMENT.parse("{{ " + source + " }}") if (expression or match) else ENVIRONMENT.parse(text)
    except TemplateSyntaxError:
        return set()
    names: set[str] = set()
    defaulted: set[int] = set()
    for node in tree.find_all(nodes.Filter):
        if node.name == "default" and node.node is not None:
            defaulted.update(id(inner) for inner in node.node.find_all((nodes.Getattr, nodes.Getitem)))
            defaulted.add(id(node.node))
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if id(node) in defaulted:
            continue
        if isinstance(node.node, nodes.Name) and node.node.name == "secrets":
            if isinstance(node, nodes.Getattr):
                names.add(node.attr)
            elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                names.add(node.arg.value)
    return names


def evaluate(expression: str, context: Mapping[str, Any]) -> Any:
    try:
        with time_capped(MAX_RENDER_SECONDS):
            return _expression(expression)(**context)
    except TimeCapExceeded as exc:
        raise RenderError(f"expression {expression[:200]!r}: {exc}") from None
    except (TemplateError, SecurityError) as exc:
        raise RenderError(f"expression {expression!r}: {exc}") from None
    except Exception as exc:
        raise RenderError(f"expression {expression!r}: {type(exc).__name__}: {exc}") from None
