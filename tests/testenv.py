"""Loaded by pytest before Django (`-p tests.testenv` in pyproject.toml).

The settings refuse to start without SECRET_KEY when DEBUG is off; the tests need neither.
"""

import os

os.environ.setdefault("DEBUG", "1")
