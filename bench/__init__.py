"""Benchmark tools: `python -m bench.generate` fills the database with realistic applications.

See bench/README.md.
"""
