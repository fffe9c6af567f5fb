"""The ASGI application the app servers run (`uvicorn ocsc.asgi:application`): live streams
on Django's ASGI handler, every other request on Django's WSGI handler in a thread pool
(ocsc/bridge.py says why), the apps' bearer calls on a shorter middleware stack
(ocsc/handlers.py)."""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

from ocsc.bridge import Bridge
from ocsc.handlers import get_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocsc.settings")
application = Bridge(
    asgi=get_asgi_application(),
    wsgi=get_application(),
    threads=settings.APP_THREADS,
    async_prefixes=("/live/",),
)
