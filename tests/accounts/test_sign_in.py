"""Sign-in codes by SMS, API tokens, and postings made by command."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from ocsc.accounts.actions import (
    SignInRefused,
    issue_token,
    request_code,
    revoke_token,
    token_user,
    verify_code,
)
from ocsc.accounts.models import OneTimeCode, Posting, User
from ocsc.notify.models import SmsMessage

pytestmark = pytest.mark.django_db


def sent_code(phone: str) -> str:
    message = SmsMessage.objects.filter(phone=phone).order_by("-pk").first()
    assert message is not None
    match = re.search(r"\b(\d{6})\b", message.text)
    assert match is not None, message.text
    return match.group(1)


def test_a_code_is_sent_hashed_and_signs_in_a_new_citizen(
    django_capture_on_commit_callbacks: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        otp = request_code("0300-1234567", client_ip="10.0.0.1")

    code = sent_code("+923001234567")
    assert code not in otp.code_hash
    message = SmsMessage.objects.get()
    assert (message.status, message.gateway) == ("sent", "console")
    assert f"[SMS to +923001234567] OCSC sign-in code: {code}" in capsys.readouterr().out

    user = verify_code("03001234567", code)

    assert (user.phone, user.has_usable_password()) == ("+923001234567", False)
    with pytest.raises(SignInRefused, match="No valid code"):
        verify_code("03001234567", code)  # used once only


def test_a_wrong_code_counts_and_five_wrong_codes_end_it() -> None:
    request_code("03001234567", client_ip=None)
    code = sent_code("+923001234567")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    for left in (4, 3, 2, 1, 0):
        with pytest.raises(SignInRefused, match=f"Wrong code: {left} tries left"):
            verify_code("03001234567", wrong)
    with pytest.raises(SignInRefused) as refused:
        verify_code("03001234567", code)
    assert refused.value.code == "too_many_tries"


def test_a_code_lasts_five_minutes() -> None:
    request_code("03001234567", client_ip=None)
    code = sent_code("+923001234567")
    later = timezone.now() + timedelta(minutes=5, seconds=1)
    with time_machine.travel(later), pytest.raises(SignInRefused) as refused:
        verify_code("03001234567", code)
    assert refused.value.code == "code_expired"


def test_three_codes_per_phone_per_fifteen_minutes_and_a_limit_per_address(
    settings: pytest.FixtureRequest,
) -> None:
    for _ in range(3):
        request_code("03001234567", client_ip="10.0.0.1")
    with pytest.raises(SignInRefused) as refused:
        request_code("03001234567", client_ip="10.0.0.1")
    assert refused.value.code == "too_many_codes" and refused.value.retry_after
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        request_code("03001234567", client_ip="10.0.0.1")

    settings.OTP_MAX_PER_ADDRESS = 5  # type: ignore[attr-defined]
    request_code("03002222222", client_ip="10.0.0.1")
    with pytest.raises(SignInRefused, match="from this network"):
        request_code("03003333333", client_ip="10.0.0.1")
    assert OneTimeCode.objects.count() == 5


def test_a_token_is_stored_hashed_expires_and_can_be_revoked() -> None:
    user = User.objects.create_user("03001234567", name="Ayesha")
    token, key = issue_token(user, name="Ayesha's phone")

    assert key not in token.key_hash and key.startswith("ocsc_")
    found = token_user(key)
    assert found is not None and found[1] == user
    assert found[0].pk == token.pk and found[0].name == "Ayesha's phone"
    assert found[0].user == user and found[1].phone == "+923001234567"
    assert token_user(key + "x") is None
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        assert token_user(key) is None
    revoke_token(token)
    assert token_user(key) is None


def test_a_token_notes_its_last_use_every_few_minutes() -> None:
    user = User.objects.create_user("03001234567", name="Ayesha")
    token, key = issue_token(user, name="phone")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert token_user(key) is not None
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + timedelta(minutes=4), tick=False):
        token_user(key)
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        token_user(key)
    token.refresh_from_db()
    assert token.last_used_at == start + timedelta(minutes=6)


def test_an_inactive_users_token_is_refused() -> None:
    user = User.objects.create_user("03001234567", name="Ayesha")
    _, key = issue_token(user, name="phone")
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert token_user(key) is None


def test_officials_are_created_and_posted_by_command(
    mini_catalog: None, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command(
        "create_official",
        "0300-7654321",
        "--name",
        "Sana Gul",
        "--organization",
        "tma-mardan",
        "--role",
        "sub_engineer",
    )
    out = capsys.readouterr().out
    assert "Password (shown once):" in out
    password = out.rsplit(": ", 1)[1].strip()
    sana = User.objects.get(phone="+923007654321")
    assert sana.check_password(password)

    call_command(
        "post_official",
        "03007654321",
        "tma-mardan",
        "clerk",
        "--jurisdiction",
        "kp-mardan-mardan-nc-1",
    )
    assert sorted(Posting.objects.filter(user=sana).values_list("role__code", flat=True)) == [
        "clerk",
        "sub_engineer",
    ]
    with pytest.raises(CommandError, match="'ceo' is not a role of tma-mardan; its roles:"):
        call_command("post_official", "03007654321", "tma-mardan", "ceo")
    with pytest.raises(CommandError, match="already has an account"):
        call_command("create_official", "03007654321", "--name", "Again")
    with pytest.raises(CommandError, match="not a Pakistani mobile number"):
        call_command("create_official", "12345", "--name", "Nobody")


def test_wrong_passwords_are_counted_and_then_refused(mini_catalog: None) -> None:
    from ocsc.accounts.actions import password_sign_in

    User.objects.create_user("03007654321", "right-password-2026", name="Sana")
    for _ in range(10):
        with pytest.raises(SignInRefused) as refused:
            password_sign_in("03007654321", "guess", client_ip="10.0.0.9")
        assert refused.value.code == "wrong_password"
    with pytest.raises(SignInRefused) as refused:
        password_sign_in("03007654321", "right-password-2026", client_ip="10.0.0.9")
    assert refused.value.code == "too_many_tries"
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert password_sign_in("03007654321", "right-password-2026", client_ip=None).name == "Sana"


def test_the_client_address_behind_a_trusted_proxy(settings: pytest.FixtureRequest) -> None:
    from django.test import RequestFactory

    from ocsc.accounts.http import client_ip

    request = RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 39.40.41.42"
    )
    assert client_ip(request) == "127.0.0.1"
    settings.TRUSTED_PROXY_HOPS = 1  # type: ignore[attr-defined]
    assert client_ip(request) == "39.40.41.42"  # not the forged left end


def test_rfc_6238_codes() -> None:
    from ocsc.accounts import totp

    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # "12345678901234567890", the RFC's key
    assert totp.code_at(secret, 59 // 30) == "287082"
    assert totp.code_at(secret, 1111111109 // 30) == "081804"
