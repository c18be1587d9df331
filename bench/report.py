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


def write_figures(path: Path, header: str, results: list[Result]) -> None:
    """Replace what is between the figure markers of BENCHMARKS.md (create the file if needed)."""
    body = header + "\n" + "\n".join(result.markdown() for result in results)
    block = f"{START}\n{body}\n{END}"
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{START}\n{END}\n"
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
    path.write_text(pattern.sub(lambda _: block, text, count=1))
