"""New rows' unique keys arrive in order (ocsc/ids.py), and stay unguessable."""

import time
from uuid import UUID

from ocsc.cases.models import Application
from ocsc.ids import placeholder, uuid7
from tests.personas import People, upload


def test_uploads_are_named_in_the_order_they_arrive(people: People) -> None:
    """Each upload's id is a version 7 UUID, later than the one before it, so that the
    uuid index takes new rows on its last page; 74 of its bits are random."""
    first = UUID(upload(people.ayesha))
    time.sleep(0.002)
    second = UUID(upload(people.ayesha))
    assert (first.version, second.version) == (7, 7)
    assert first.variant == second.variant == "specified in RFC 4122"
    assert first < second
    assert abs((first.int >> 80) - time.time_ns() // 1_000_000) < 60_000  # made this minute
    assert len({uuid7() for _ in range(1000)}) == 1000


def test_a_placeholder_fits_the_tracking_number_and_sorts_by_time() -> None:
    made = [placeholder() for _ in range(1000)]
    assert len(set(made)) == 1000
    assert made == sorted(made)
    assert max(len(p) for p in made) == Application._meta.get_field("tracking_no").max_length
