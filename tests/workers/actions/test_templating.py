"""Templates render event data safely: sandboxed, capped, and type-preserving for one expression."""

from __future__ import annotations

import time

import pytest

from workers.actions.templating import RenderError, check_template, render_string, render_value

CONTEXT = {
    "event": {
        "repo": "acme/api",
        "pr": 42,
        "sha": "abcdef123",
        "data": {"title": "{{ 7 * 7 }}"},
        "branch": None,
    }
}


def test_single_expression_keeps_its_type():
    assert render_string("{{ event.pr }}", CONTEXT) == 42
    assert render_string("{{ event.branch }}", CONTEXT) == ""
    assert render_string("#{{ event.pr }}", CONTEXT) == "#42"
    assert render_value({"n": "{{ event.pr }}", "list": ["{{ event.repo }}", 3]}, CONTEXT) == {
        "n": 42,
        "list": ["acme/api", 3],
    }


def test_event_data_is_never_rendered_as_a_template():
    assert render_string("{{ event.data.title }}", CONTEXT) == "{{ 7 * 7 }}"
    assert render_string("title: {{ event.data.title }}", CONTEXT) == "title: {{ 7 * 7 }}"


def test_missing_values_are_errors_not_blanks():
    with pytest.raises(RenderError, match="nope"):
        render_string("{{ event.nope }}", CONTEXT)
    assert render_string("{{ event.nope | default('x') }}", CONTEXT) == "x"


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ event.__class__ }}{{ cycler.__init__.__globals__ }}",
        "{{ 'a' * 200000000 }}",
        "{{ [1] * 100000000 }}",
        "{{ 10 ** 100000 }}",
        "{{ event.update({'x': 1}) }}",
    ],
)
def test_sandbox_refuses_internals_and_huge_allocations(template):
    with pytest.raises(RenderError):
        render_string(template, CONTEXT)


def test_output_is_capped():
    with pytest.raises(RenderError, match="over"):
        render_string("{% for i in range(2000) %}" + "x" * 1000 + "{% endfor %}", CONTEXT)


def test_syntax_check():
    assert check_template("{{ event.sha }") is not None
    assert check_template("{{ event.sha }}") is None
    assert check_template("plain") is None


def test_a_render_is_capped_in_time():
    slow = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}done"
    started = time.monotonic()
    with pytest.raises(RenderError, match="time cap"):
        render_string(slow, {})
    assert time.monotonic() - started < 10  # 10^10 iterations would take hours
    assert render_string("{% for a in range(3) %}{{ a }}{% endfor %}", {}) == "012"  # the cap is per render
