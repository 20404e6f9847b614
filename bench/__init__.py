"""kijun benchmarks: `python bench/run.py` (or `make bench`); see docs/benchmarks.md."""
