"""API keys: issued by the command (printed once, stored hashed), counted per minute against
their rate, noted as used, and refused from the moment they are revoked."""

import hashlib
import threading
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connections

from ocsc.clients.actions import (
    KeyRefused,
    RateLimited,
    client_named,
    issue_key,
    revoke_key,
    use_key,
)
from ocsc.clients.models import ApiClient, ApiKey, RateWindow

MONDAY = datetime(2026, 12, 7, 5, 0, 15, tzinfo=UTC)


def create_api_key(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_the_command_prints_a_new_key_once_and_stores_its_hash() -> None:
    out, err = create_api_key("Mardan Civic App", "--rate", "30", "--contact", "dev@civic.pk")
    again, _err = create_api_key("Mardan Civic App")

    raw = out.strip()
    assert out == raw + "\n"  # only the key on stdout, for scripts
    assert raw.startswith("ocsck_") and len(raw) == 6 + 43
    key = ApiKey.objects.select_related("client").get(prefix=raw[6:14])
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert (key.client.name, key.client.contact, key.rate_per_minute) == (
        "Mardan Civic App",
        "dev@civic.pk",
        30,
    )
    assert f"prefix {key.prefix}" in err and "30 requests a minute" in err
    assert raw not in err
    assert not [row for row in ApiKey.objects.values_list() if raw in map(str, row)]
    assert again.strip() != raw
    assert ApiClient.objects.count() == 1
    assert ApiKey.objects.filter(client=key.client).count() == 2
    assert use_key(raw) == key


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "says"), [(["App", "--rate", "0"], "at least 1"), ([" "], "name")]
)
def test_the_command_refuses_a_rate_below_one_or_no_name(args: list[str], says: str) -> None:
    with pytest.raises(CommandError, match=says):
        create_api_key(*args)
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
def test_unknown_keys_are_refused() -> None:
    issue_key(client_named("App"), rate_per_minute=5)

    with pytest.raises(KeyRefused):
        use_key("ocsck_" + "A" * 43)


@pytest.mark.django_db
def test_revoking_takes_effect_at_once() -> None:
    key, raw = issue_key(client_named("App"), rate_per_minute=5)
    use_key(raw)

    revoke_key(key)

    with pytest.raises(KeyRefused):
        use_key(raw)
    key.refresh_from_db()
    assert key.revoked_at is not None


@pytest.mark.django_db
def test_last_use_is_noted_once_a_minute() -> None:
    key, raw = issue_key(client_named("App"), rate_per_minute=5)
    with time_machine.travel(MONDAY, tick=False) as clock:
        use_key(raw)
        clock.shift(timedelta(seconds=20))
        use_key(raw)
        key.refresh_from_db()
        first = key.last_used_at
        clock.move_to(MONDAY + timedelta(minutes=3))
        use_key(raw)
        key.refresh_from_db()

    assert first == MONDAY
    assert key.last_used_at == MONDAY + timedelta(minutes=3)


@pytest.mark.django_db
def test_the_rate_is_a_fixed_window_of_one_clock_minute() -> None:
    key, raw = issue_key(client_named("App"), rate_per_minute=3)
    with time_machine.travel(MONDAY, tick=False) as clock:
        for _ in range(3):
            use_key(raw)
        with pytest.raises(RateLimited) as refused:
            use_key(raw)
        clock.move_to(MONDAY.replace(second=59))
        with pytest.raises(RateLimited):
            use_key(raw)
        clock.move_to(MONDAY.replace(minute=1, second=0))
        use_key(raw)
        counts = list(RateWindow.objects.order_by("minute").values_list("minute", "count"))
        clock.move_to(MONDAY + timedelta(minutes=30))
        use_key(raw)

    assert refused.value.retry_after == 45
    assert "3 a minute" in str(refused.value)
    assert counts == [(MONDAY.replace(second=0), 3), (MONDAY.replace(minute=1, second=0), 1)]
    # a key's old minutes are cleared when it starts a new one
    assert list(RateWindow.objects.values_list("count", flat=True)) == [1]


@pytest.mark.django_db
def test_each_key_has_its_own_count() -> None:
    app = client_named("App")
    first, second = issue_key(app, rate_per_minute=1)[1], issue_key(app, rate_per_minute=1)[1]
    with time_machine.travel(MONDAY, tick=False):
        use_key(first)
        use_key(second)
        with pytest.raises(RateLimited):
            use_key(first)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_servers_at_once_never_pass_the_limit() -> None:
    """Eight threads (each its own connection, like app servers) make 40 requests against a
    limit of 25 a minute: 25 pass, 15 are refused, the counter says 25."""
    key, raw = issue_key(client_named("Busy app"), rate_per_minute=25)
    start = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def requests() -> None:
        try:
            start.wait(timeout=10)
            for _ in range(5):
                try:
                    use_key(raw)
                    outcome = "ok"
                except RateLimited:
                    outcome = "limited"
                with lock:
                    outcomes.append(outcome)
        finally:
            connections.close_all()

    with time_machine.travel(MONDAY, tick=False):
        threads = [threading.Thread(target=requests) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert (outcomes.count("ok"), outcomes.count("limited")) == (25, 15)
    assert RateWindow.objects.get(key=key).count == 25
