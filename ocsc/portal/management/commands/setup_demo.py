from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from ocsc.accounts.identity import normalize_phone
from ocsc.accounts.models import User

DEMO_PASSWORD = "ocsc-demo-2026"  # noqa: S105 - printed on the console; the demo runs on loopback
ACCOUNTS = [
    # phone, name, staff, superuser, what they are
    ("03000000001", "Demo Administrator", True, True, "administrator (admin site)"),
]


class Command(BaseCommand):
    help = "Prepare the embedded demo: load catalogs/kp.yaml and create the demo accounts."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--catalog", type=Path, default=Path(settings.BASE_DIR) / "catalogs" / "kp.yaml"
        )

    def handle(self, *args: Any, catalog: Path, **options: Any) -> None:
        call_command("load_catalog", str(catalog), stdout=self.stdout, stderr=self.stderr)
        lines = []
        for phone, name, staff, superuser, what in ACCOUNTS:
            user = User.objects.filter(phone=normalize_phone(phone)).first()
            if user is None:
                user = User.objects.create_user(
                    phone, DEMO_PASSWORD, name=name, is_staff=staff, is_superuser=superuser
                )
            lines.append(f"  {what:32} phone {phone}  password {DEMO_PASSWORD}")
        url = settings.SITE_URL
        self.stdout.write(
            "\n".join(
                [
                    "",
                    self.style.SUCCESS(f"OCSC demo: open {url}/  (admin: {url}/admin/)"),
                    "Demo accounts:",
                    *lines,
                    "",
                ]
            )
        )
