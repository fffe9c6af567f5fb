"""The live settings, each with its default (docs/live.md)."""

from django.conf import settings

# What EventSource waits before reconnecting after a stream ends or drops (milliseconds).
RETRY_MS = 2000
# The PostgreSQL NOTIFY channel; payloads are '<application id>:<event id>'.
CHANNEL = "ocsc_events"


def stream_seconds() -> float:
    """How long one stream lasts before it ends and the client reconnects with Last-Event-ID."""
    return float(getattr(settings, "LIVE_STREAM_SECONDS", 300))


def poll_seconds() -> float:
    """How often each server process polls the log of the watched applications."""
    return float(getattr(settings, "LIVE_POLL_SECONDS", 3))


def keepalive_seconds() -> float:
    """After how long without a message a stream sends a comment line to keep proxies open."""
    return float(getattr(settings, "LIVE_KEEPALIVE_SECONDS", 15))
