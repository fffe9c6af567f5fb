"""Identifiers that arrive in order: new rows' unique keys land side by side in their index.

A random key (`uuid4`) puts each new row's index entry on a random page of an index that,
at a million applications, does not fit in PostgreSQL's buffers: each insert reads a page
and, the first time the page changes after a checkpoint, writes all of it to the WAL. At
capacity the upload's INSERT was the largest writer of whole pages (0.86 per insert, 5.9 kB
of WAL) for its random `uuid` alone. Keys that begin with the time go to the index's last
pages, which stay in memory.
"""

import secrets
import time
import uuid

_RAND_A = (1 << 12) - 1
_RAND_B = (1 << 62) - 1


def uuid7() -> uuid.UUID:
    """A version 7 UUID (RFC 9562): the Unix time in milliseconds, then 74 random bits
    (a version 4 UUID has 122). Still not to be guessed; and an upload is only ever taken by
    its own uploader (`cases.actions._uploads`)."""
    milliseconds = time.time_ns() // 1_000_000
    rand = secrets.randbits(74)
    value = (
        (milliseconds & ((1 << 48) - 1)) << 80
        | 0x7 << 76
        | (rand >> 62 & _RAND_A) << 64
        | 0b10 << 62
        | rand & _RAND_B
    )
    return uuid.UUID(int=value)


def placeholder(prefix: str = "new-") -> str:
    """A unique stand-in for a number given later in the same transaction (24 characters
    with the default prefix): the time in nanoseconds, then 16 random bits."""
    return f"{prefix}{time.time_ns():016x}{secrets.randbits(16):04x}"
