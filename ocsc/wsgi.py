"""The WSGI application (`WSGI_APPLICATION`): Django's handler, with the apps' bearer calls
on a shorter middleware stack (ocsc/handlers.py)."""

import os

from ocsc.handlers import get_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocsc.settings")
application = get_application()
