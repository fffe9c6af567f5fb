from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from ocsc.accounts.actions import PostingInput, post_official
from ocsc.accounts.identity import normalize_phone
from ocsc.accounts.models import User
from ocsc.catalog.models import Organization, Role, label

DEMO_PASSWORD = "ocsc-demo-2026"  # noqa: S105 - printed on the console; the demo runs on loopback
# Every role of these two organizations gets a demo official.
DEMO_ORGANIZATIONS = ("tma-mardan", "wssc-mardan")
# Their names, in turn: pages show a person with their role ("Hamid Ullah (Zonal Manager)").
DEMO_NAMES = (
    "Arshad Mahmood", "Nasreen Bibi", "Fazal Rahim", "Gul Zareen", "Hamid Ullah",
    "Rukhsana Begum", "Zahid Hussain", "Shazia Parveen", "Sajjad Ali", "Farzana Yasmin",
    "Waqar Ahmad", "Nusrat Jabeen", "Iftikhar Hussain", "Samina Akhtar", "Jawad Khan",
    "Uzma Noreen", "Naveed Iqbal", "Saima Bibi", "Asad Ullah", "Rubina Kausar",
    "Khalid Zaman", "Kausar Parveen", "Muhammad Ayaz", "Tahira Batool", "Noor Muhammad",
    "Shabana Gul", "Zia ur Rehman", "Bushra Jan", "Abdul Wahab", "Mehwish Khan",
)  # fmt: skip


class Command(BaseCommand):
    help = (
        "Prepare the embedded demo: load catalogs/kp.yaml and create demo accounts (an "
        "administrator, a monitor, two citizens, and an official for every role of "
        f"{' and '.join(DEMO_ORGANIZATIONS)}). Safe to run again."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--catalog", type=Path, default=Path(settings.BASE_DIR) / "catalogs" / "kp.yaml"
        )

    def handle(self, *args: Any, catalog: Path, **options: Any) -> None:
        call_command("load_catalog", str(catalog), stdout=self.stdout, stderr=self.stderr)
        url = settings.SITE_URL
        lines = [
            "",
            self.style.SUCCESS(f"OCSC demo: open {url}/   (admin site: {url}/admin/)"),
            f"Officials and the administrator sign in with their phone and the password "
            f"{DEMO_PASSWORD}; citizens with their phone and the SMS code that appears on "
            "this console.",
            "",
            self._account("03000000001", "Demo Administrator", "administrator", superuser=True),
            self._account("03000000002", "Maryam Yousaf", "provincial monitor", monitor=True),
            self._account("03001111111", "Ayesha Khan", "citizen", password=False),
            self._account("03002222222", "Bilal Ahmad", "citizen", password=False),
        ]
        names = iter(DEMO_NAMES)
        for number, code in enumerate(DEMO_ORGANIZATIONS, start=1):
            organization = Organization.objects.select_related("kind").get(code=code)
            lines += ["", f"{label(organization.name, 'en')}:"]
            roles = Role.objects.filter(kind=organization.kind).order_by("-head", "code")
            for index, role in enumerate(roles, start=1):
                phone = f"03{number}0000{index:04d}"
                name = next(names, f"{label(role.name, 'en')} ({organization.prefix})")
                lines.append(self._account(phone, name, role.code, posting=(organization, role)))
        self.stdout.write("\n".join([*lines, ""]))

    def _account(
        self,
        phone: str,
        name: str,
        what: str,
        *,
        password: bool = True,
        superuser: bool = False,
        monitor: bool = False,
        posting: tuple[Organization, Role] | None = None,
    ) -> str:
        user = User.objects.filter(phone=normalize_phone(phone)).first()
        if user is None:
            user = User.objects.create_user(
                phone,
                DEMO_PASSWORD if password else None,
                name=name,
                is_staff=superuser,
                is_superuser=superuser,
                is_monitor=monitor,
            )
            if posting is not None:
                organization, role = posting
                post_official(user, PostingInput(organization=organization.code, role=role.code))
        return f"  {phone}  {what:26} {name}"
