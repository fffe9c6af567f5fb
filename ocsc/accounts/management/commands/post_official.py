from argparse import ArgumentParser
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ocsc.accounts.actions import PostingInput, post_official
from ocsc.accounts.identity import normalize_phone
from ocsc.accounts.models import User


class Command(BaseCommand):
    help = (
        "Post a user to a role in an organization: "
        "post_official 03001234567 tma-mardan sub_engineer [--jurisdiction CODE] "
        "[--starts YYYY-MM-DD] [--ends YYYY-MM-DD]"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("phone")
        parser.add_argument("organization")
        parser.add_argument("role")
        parser.add_argument("--jurisdiction")
        parser.add_argument("--starts", type=date.fromisoformat)
        parser.add_argument("--ends", type=date.fromisoformat)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(phone=normalize_phone(options["phone"]))
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from exc
        except User.DoesNotExist:
            phone = options["phone"]
            raise CommandError(f"no account for {phone}: create_official first") from None
        try:
            posting = post_official(
                user,
                PostingInput(
                    organization=options["organization"],
                    role=options["role"],
                    jurisdiction=options["jurisdiction"],
                    starts_on=options["starts"],
                    ends_on=options["ends"],
                ),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Posted: {posting}"))
