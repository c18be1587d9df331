"""BENCHMARKS.md rewriting: only between the markers, and a partial run keeps the other scenarios."""

from __future__ import annotations

from pathlib import Path

from bench.report import END, START, Result, write_figures


def result(title: str, cell: str) -> Result:
    return Result(title, ["figure"], rows=[[cell]])


def test_a_full_run_replaces_the_figures_and_nothing_outside_the_markers(tmp_path: Path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(f"# Benchmarks\n\nProse.\n\n{START}\nold\n{END}\n\nMore prose.\n")
    write_figures(path, "Measured now.\n", [result("1. Ingest", "a"), result("5. Rules", "b")])
    text = path.read_text()
    assert text.startswith("# Benchmarks\n\nProse.\n") and text.endswith("\nMore prose.\n")
    assert "old" not in text
    assert text.index("### 1. Ingest") < text.index("### 5. Rules")


def test_a_partial_run_replaces_its_scenarios_and_keeps_the_others(tmp_path: Path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n")  # no markers yet: they are added
    write_figures(path, "Full run.\n", [result("1. Ingest", "one"), result("3-4. Workers", "two")])
    write_figures(path, "Later.\n", [result("3-4. Workers", "three"), result("2. End", "four")], partial=True)
    text = path.read_text()
    assert "| one |" in text and "| three |" in text and "| four |" in text
    assert "| two |" not in text
    assert text.index("### 1. Ingest") < text.index("### 2. End") < text.index("### 3-4. Workers")
    assert "Full run." in text and "Re-run of scenario(s) 3-4., 2.: Later." in text
    assert text.count(START) == 1 and text.count(END) == 1
