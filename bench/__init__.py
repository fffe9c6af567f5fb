"""Benchmark tools: `python -m bench.generate` fills the database with realistic applications.

See bench/README.md.
"""

import os


def setup_django() -> str:
    """Set Django up on the environment's settings (DATABASE_URL), for a benchmark's command
    line; returns the database it will use, as "vendor name" for its reports."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocsc.settings")
    import django

    django.setup()
    from django.db import connection

    return f"{connection.vendor} {connection.settings_dict['NAME']}"
