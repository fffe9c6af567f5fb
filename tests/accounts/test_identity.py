import pytest
from django.core.exceptions import ValidationError

from ocsc.accounts.identity import normalize_cnic, normalize_phone
from ocsc.accounts.models import User


@pytest.mark.parametrize(
    "written",
    [
        "03001234567",
        "0300-1234567",
        "0300 1234567",
        "+923001234567",
        "923001234567",
        "00923001234567",
    ],
)
def test_phone_numbers_are_stored_in_e164(written: str) -> None:
    assert normalize_phone(written) == "+923001234567"


@pytest.mark.parametrize("written", ["0300123456", "04235761234", "+4420712345678", "abc", ""])
def test_phone_numbers_that_are_not_pakistani_mobiles_are_refused(written: str) -> None:
    with pytest.raises(ValidationError, match="not a Pakistani mobile number"):
        normalize_phone(written)


def test_cnic_is_stored_with_dashes() -> None:
    assert normalize_cnic("1730112345671") == "17301-1234567-1"
    assert normalize_cnic("17301-1234567-1") == "17301-1234567-1"
    with pytest.raises(ValidationError, match="XXXXX-XXXXXXX-X"):
        normalize_cnic("17301-123456-1")


@pytest.mark.django_db
def test_users_are_created_by_phone_and_are_unique_by_it() -> None:
    user = User.objects.create_user("0300-1234567", name="Ayesha Khan", cnic="1730112345672")
    assert (user.phone, user.cnic, user.has_usable_password()) == (
        "+923001234567",
        "17301-1234567-2",
        False,
    )
    with pytest.raises(Exception, match="UNIQUE|unique"):
        User.objects.create_user("+923001234567", name="Somebody else")
