"""Log lines: JSON objects with the event's ids, or readable text in dev."""

from __future__ import annotations

import logging

import orjson

from hookchain.logs import JSONFormatter, TextFormatter


def record(**extra: object) -> logging.LogRecord:
    line = logging.LogRecord("hookchain.worker", logging.INFO, "f.py", 1, "action %s done", ("x",), None)
    for key, value in extra.items():
        setattr(line, key, value)
    return line


def test_a_json_line_carries_the_message_and_the_ids():
    line = orjson.loads(JSONFormatter().format(record(event_id="e1", correlation_id="c1", rule="r")))
    assert line["message"] == "action x done"
    assert line["level"] == "info" and line["logger"] == "hookchain.worker"
    assert (line["event_id"], line["correlation_id"], line["rule"]) == ("e1", "c1", "r")
    assert line["time"].endswith("+00:00")


def test_an_exception_stays_on_one_line():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        failing = logging.LogRecord("x", logging.ERROR, "f.py", 1, "failed", (), sys.exc_info())
    text = JSONFormatter().format(failing)
    assert "\n" not in text
    assert "ValueError: boom" in orjson.loads(text)["exception"]


def test_dev_text_names_the_chain():
    text = TextFormatter().format(record(event_id="e1", correlation_id="c1"))
    assert text.endswith("hookchain.worker: action x done  [chain=c1]")
    assert TextFormatter().format(record()).endswith("action x done")
