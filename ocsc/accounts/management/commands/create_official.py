import secrets
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ocsc.accounts.actions import PostingInput, post_official
from ocsc.accounts.identity import normalize_phone
from ocsc.accounts.models import User


class Command(BaseCommand):
    help = (
        "Create an official who signs in with a password, optionally posted to a role: "
        "create_official 03001234567 --name 'Kamran Ali' --organization tma-mardan --role clerk"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("phone")
        parser.add_argument("--name", required=True)
        parser.add_argument("--password", help="default: a random one, printed once")
        parser.add_argument("--organization")
        parser.add_argument("--role")
        parser.add_argument("--jurisdiction", help="limit the posting to this area")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            phone = normalize_phone(options["phone"])
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from exc
        if User.objects.filter(phone=phone).exists():
            raise CommandError(f"{phone} already has an account; use post_official to post it")
        if bool(options["organization"]) != bool(options["role"]):
            raise CommandError("give both --organization and --role, or neither")
        password = options["password"] or secrets.token_urlsafe(12)
        try:
            with transaction.atomic():
                user = User.objects.create_user(phone, password, name=options["name"])
                if options["organization"]:
                    post_official(
                        user,
                        PostingInput(
                            organization=options["organization"],
                            role=options["role"],
                            jurisdiction=options["jurisdiction"],
                        ),
                    )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Created {user}"))
        if not options["password"]:
            self.stdout.write(f"Password (shown once): {password}")
