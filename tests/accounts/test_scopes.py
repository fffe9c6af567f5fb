"""`scopes` (written in SQL, read on nearly every request) agrees with `active_postings`,
whether read on their own or with a bearer token, in the token's statement."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ocsc.accounts.access import Scope, active_postings, scopes
from ocsc.accounts.actions import (
    PostingInput,
    issue_token,
    post_official,
    revoke_token,
    token_user,
)
from ocsc.accounts.models import User
from ocsc.catalog.models import Role
from tests.personas import People


def expected(user: User) -> list[Scope]:
    """What the ORM says: the active postings, their role's place in the chart, their area."""
    return sorted(
        (
            Scope(
                posting.organization_id,
                posting.role.code,
                posting.jurisdiction.path if posting.jurisdiction else None,
                posting.role.head,
                Role.objects.filter(reports_to=posting.role).exists(),
            )
            for posting in active_postings(user).select_related("role", "jurisdiction")
        ),
        key=lambda s: (s.organization_id, s.role),
    )


def on_their_own(user: User) -> list[Scope]:
    return scopes(User.objects.get(pk=user.pk))


def with_the_token(user: User) -> list[Scope]:
    """The scopes of the user a bearer key finds: read with the token, none after it."""
    _, key = issue_token(user, name="test")
    with CaptureQueriesContext(connection) as queries:
        found = token_user(key)
        assert found is not None
        found_scopes = scopes(found[1])
    assert len([q for q in queries if "accounts_posting" in q["sql"]]) == 1
    assert "accounts_apitoken" in queries[0]["sql"] and "accounts_posting" in queries[0]["sql"]
    return found_scopes


READS = pytest.mark.parametrize("read", [on_their_own, with_the_token])
Read = Callable[[User], list[Scope]]


@pytest.mark.django_db
@READS
def test_scopes_are_the_active_postings(people: People, read: Read) -> None:
    today = timezone.localdate()
    sana = people.sana
    # Ended yesterday, starts tomorrow: neither counts. Ends today, area-limited: counts.
    post_official(sana, PostingInput("tma-mardan", "clerk", ends_on=today - timedelta(days=1)))
    post_official(
        sana, PostingInput("tma-mardan", "accountant", starts_on=today + timedelta(days=1))
    )
    post_official(
        sana,
        PostingInput("tma-takht-bhai", "tmo", jurisdiction="kp-mardan-takht-bhai", ends_on=today),
    )
    found = read(sana)

    assert found == expected(sana)
    assert {(s.role, s.head, s.supervises) for s in found} == {
        ("sub_engineer", False, False),  # reports to the TO; nobody reports to it
        ("tmo", True, True),  # the head, who supervises
    }
    takht_bhai = next(s for s in found if s.role == "tmo")
    assert takht_bhai.area_path is not None
    assert takht_bhai.covers(takht_bhai.organization_id, takht_bhai.area_path + "/x")


@pytest.mark.django_db
@READS
def test_every_persona_has_the_scopes_of_their_postings(people: People, read: Read) -> None:
    for user in vars(people).values():
        assert read(user) == expected(user), user.phone


@pytest.mark.django_db
def test_a_revoked_or_expired_token_finds_nobody_however_many_postings(people: People) -> None:
    token, key = issue_token(people.tariq, name="test")
    post_official(people.tariq, PostingInput("tma-takht-bhai", "clerk"))
    assert token_user(key) is not None
    revoke_token(token)
    assert token_user(key) is None
    token, key = issue_token(people.kamran, name="test")
    type(token).objects.filter(pk=token.pk).update(expires_at=timezone.now())
    assert token_user(key) is None
