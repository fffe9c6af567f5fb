"""`scopes` (written in SQL, read on nearly every request) agrees with `active_postings`."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ocsc.accounts.access import Scope, active_postings, scopes
from ocsc.accounts.actions import PostingInput, post_official
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


@pytest.mark.django_db
def test_scopes_are_the_active_postings(people: People) -> None:
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
    fresh = User.objects.get(pk=sana.pk)

    found = scopes(fresh)

    assert found == expected(fresh)
    assert {(s.role, s.head, s.supervises) for s in found} == {
        ("sub_engineer", False, False),  # reports to the TO; nobody reports to it
        ("tmo", True, True),  # the head, who supervises
    }
    takht_bhai = next(s for s in found if s.role == "tmo")
    assert takht_bhai.area_path is not None
    assert takht_bhai.covers(takht_bhai.organization_id, takht_bhai.area_path + "/x")


@pytest.mark.django_db
def test_every_persona_has_the_scopes_of_their_postings(people: People) -> None:
    for user in vars(people).values():
        assert scopes(User.objects.get(pk=user.pk)) == expected(user), user.phone
