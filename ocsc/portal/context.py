from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from ocsc.accounts.access import staff_links
from ocsc.accounts.models import User


def staff(request: HttpRequest) -> dict[str, Any]:
    """Which staff pages the navigation offers, worked out only if a page asks."""
    user = request.user
    if not isinstance(user, User):
        return {}
    return {"staff_nav": SimpleLazyObject(lambda: staff_links(user))}
