"""`manage.py create_api_key CLIENT_NAME [--rate N]`: issue a key and print it once."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ocsc.cases.formdata import InvalidInput
from ocsc.clients.actions import client_named, issue_key
from ocsc.clients.models import DEFAULT_RATE_PER_MINUTE


class Command(BaseCommand):
    help = (
        "Issue an API key to a named client (registered if new) and print it. The key is "
        "shown this once and stored only hashed; revoke it in the admin."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("client", help="The client's name, e.g. 'Mardan complaints app'")
        parser.add_argument(
            "--rate",
            type=int,
            default=DEFAULT_RATE_PER_MINUTE,
            help=f"Requests allowed a minute (default {DEFAULT_RATE_PER_MINUTE})",
        )
        parser.add_argument("--contact", default="", help="Who to call about the client")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            client = client_named(options["client"], contact=options["contact"])
            key, raw = issue_key(client, rate_per_minute=options["rate"])
        except InvalidInput as exc:
            raise CommandError(str(exc)) from None
        self.stderr.write(
            f"A key for {client.name} ({key.rate_per_minute} requests a minute), "
            f"prefix {key.prefix}. It is shown this once:"
        )
        self.stdout.write(raw)
