"""Time-based one-time passwords (RFC 6238, as authenticator apps make them): 6 digits,
30-second steps, HMAC-SHA1, a secret in base32. Small enough for the standard library."""

import base64
import hmac
import secrets
import struct
from datetime import datetime
from urllib.parse import quote

STEP = 30
DIGITS = 6


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    padded = secret.upper() + "=" * (-len(secret) % 8)
    return base64.b32decode(padded)


def code_at(secret: str, counter: int) -> str:
    digest = hmac.new(_key(secret), struct.pack(">Q", counter), "sha1").digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 10**DIGITS:0{DIGITS}d}"


def counter_of(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP


def matching_counter(secret: str, code: str, moment: datetime, *, drift: int = 1) -> int | None:
    """The time step whose code this is (allowing one step of clock drift), or None."""
    now = counter_of(moment)
    for counter in range(now - drift, now + drift + 1):
        if hmac.compare_digest(code_at(secret, counter), code.strip()):
            return counter
    return None


def provisioning_uri(secret: str, account: str, issuer: str = "OCSC") -> str:
    return (
        f"otpauth://totp/{quote(issuer)}:{quote(account)}?secret={secret}"
        f"&issuer={quote(issuer)}&digits={DIGITS}&period={STEP}"
    )
