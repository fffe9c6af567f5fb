"""Facts about an HTTP request that access rules need."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or, behind TRUSTED_PROXY_HOPS proxies that append
    to X-Forwarded-For (nginx's $proxy_add_x_forwarded_for), the address the first of them
    saw. Never the client-supplied left end of the header."""
    hops = settings.TRUSTED_PROXY_HOPS
    if hops > 0:
        chain = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        chain = [a for a in chain if a]
        if len(chain) >= hops:
            forwarded: str = chain[-hops]
            return forwarded
    peer: str | None = request.META.get("REMOTE_ADDR") or None
    return peer
