"""On-demand benchmarks: ``python -m bench`` or ``python bench/run.py`` (see README.md).

Not tests: nothing here asserts a timing, and pytest never collects it.
"""
