"""Benchmarks of Expense Tracker at ten years of data: ``python -m benchmarks --n 100000``.

Not timed tests: they measure and report (see :mod:`benchmarks.runner` for what each figure is and
:mod:`benchmarks.generate` for the generated ledger). ``tests/test_benchmarks.py`` runs them once at a
small size so that they keep working.
"""
