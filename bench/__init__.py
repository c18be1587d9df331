"""hookchain's benchmark suite: `python -m bench` (see the README's "Benchmarks" section)."""
