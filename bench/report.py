"""What a scenario found, printed as a table and written into BENCHMARKS.md."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

START = "<!-- figures:start (written by `python -m bench`; edit outside these markers) -->"
END = "<!-- figures:end -->"


@dataclass
class Check:
    target: str
    measured: str
    met: bool | None  # None: could not be measured

    @property
    def verdict(self) -> str:
        return {True: "met", False: "NOT met", None: "not measured"}[self.met]


@dataclass
class Result:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [f"### {self.title}", ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "|".join("---" for _ in self.columns) + "|")
        lines.extend("| " + " | ".join(row) + " |" for row in self.rows)
        if self.checks:
            lines += ["", "| target | measured | verdict |", "|---|---|---|"]
            lines.extend(f"| {c.target} | {c.measured} | **{c.verdict}** |" for c in self.checks)
        if self.notes:
            lines.append("")
            lines.extend(f"- {note}" for note in self.notes)
        return "\n".join(lines) + "\n"


def num(value: float, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def ms(value: float) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"


def times(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.2f}x"


def section_key(markdown: str) -> str:
    """`3-4.` for a section headed `### 3-4. Worker throughput...`."""
    return markdown.split("\n", 1)[0].removeprefix("### ").split(" ", 1)[0]


def split_sections(body: str) -> tuple[str, dict[str, str]]:
    """The text before the first `### ` heading, and each scenario's section by its key."""
    head, *rest = re.split(r"(?m)^(?=### )", body)
    return head, {section_key(section): section.rstrip("\n") + "\n" for section in rest}


def write_figures(path: Path, header: str, results: list[Result], *, partial: bool = False) -> None:
    """Replace what is between the figure markers of BENCHMARKS.md (create the file if needed).

    `partial` (a run of some scenarios only) keeps the other scenarios' figures and their header.
    """
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{START}\n{END}\n"
    pattern = re.compile(re.escape(START) + r"\n?(.*?)" + re.escape(END), re.DOTALL)
    found = pattern.search(text)
    old_head, sections = split_sections(found.group(1) if found else "")
    kept = bool(sections) and partial
    if not kept:
        sections = {}
    for result in results:
        sections[section_key(result.markdown())] = result.markdown()
    if kept and old_head.strip():
        rerun = ", ".join(section_key(result.markdown()) for result in results)
        header = old_head.rstrip("\n") + f"\nRe-run of scenario(s) {rerun}: " + header
    ordered = sorted(sections.items(), key=lambda item: _numeric(item[0]))
    body = header.rstrip("\n") + "\n\n" + "\n".join(section for _, section in ordered)
    block = f"{START}\n{body}\n{END}"
    path.write_text(pattern.sub(lambda _: block, text, count=1))


def _numeric(key: str) -> tuple[float, str]:
    digits = re.match(r"\d+", key)
    return (float(digits.group()) if digits else float("inf"), key)
