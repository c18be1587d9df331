"""A wall-clock cap on running template code: `{% for %}` loops nested deep enough run for hours.

Jinja compiles templates to Python functions whose code is named `<template>`. While a render
runs, a trace function is attached to those frames only (other code runs untraced) and checks
the clock every few hundred lines; past the deadline it raises inside the template, which the
renderer reports as a template error. When a debugger or coverage tool already traces, the cap
steps aside rather than break it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

TEMPLATE_FILENAME = "<template>"
CHECK_EVERY = 256


class TimeCapExceeded(Exception):
    pass


@contextmanager
def time_capped(seconds: float) -> Iterator[None]:
    if sys.gettrace() is not None:
        yield
        return
    deadline = time.monotonic() + seconds
    lines = 0

    def in_template(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal lines
        lines += 1
        if lines % CHECK_EVERY == 0 and time.monotonic() > deadline:
            raise TimeCapExceeded(f"template ran past its {seconds:g}s time cap")
        return in_template

    def on_call(frame: FrameType, event: str, arg: Any) -> Any:
        return in_template if frame.f_code.co_filename == TEMPLATE_FILENAME else None

    sys.settrace(on_call)
    try:
        yield
    finally:
        sys.settrace(None)
