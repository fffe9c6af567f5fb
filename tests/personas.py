"""Personas of STYLE.md and helpers that build state through the real actions."""

from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from ocsc.accounts.actions import PostingInput, post_official
from ocsc.accounts.models import User
from ocsc.cases.actions import submit_application, upload_file
from ocsc.cases.models import Application
from ocsc.catalog.models import Jurisdiction, Service

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class People:
    ayesha: User  # citizen, the applicant
    bilal: User  # another citizen
    kamran: User  # clerk (dealing assistant), TMA Mardan
    sana: User  # sub-engineer, TMA Mardan
    imran: User  # tehsil officer (infrastructure), TMA Mardan: approves
    nadia: User  # accountant, TMA Mardan
    tariq: User  # TMO, the head of TMA Mardan
    faisal: User  # clerk of TMA Mardan posted to another neighbourhood council only
    zeb: User  # clerk of another organization, TMA Takht Bhai
    maryam: User  # provincial monitor


def _official(phone: str, name: str, org: str, role: str, area: str | None = None) -> User:
    user = User.objects.create_user(phone, "pw-official-2026", name=name)
    post_official(user, PostingInput(organization=org, role=role, jurisdiction=area))
    return user


def make_people() -> People:
    return People(
        ayesha=User.objects.create_user("03001111111", name="Ayesha Khan", language="ur"),
        bilal=User.objects.create_user("03002222222", name="Bilal Ahmad"),
        kamran=_official("03003333333", "Kamran Ali", "tma-mardan", "clerk"),
        sana=_official("03004444444", "Sana Gul", "tma-mardan", "sub_engineer"),
        imran=_official("03005555555", "Imran Shah", "tma-mardan", "to_infra"),
        nadia=_official("03006666666", "Nadia Bibi", "tma-mardan", "accountant"),
        tariq=_official("03007777777", "Tariq Khan", "tma-mardan", "tmo"),
        faisal=_official(
            "03008888888", "Faisal Jan", "tma-mardan", "clerk", area="kp-mardan-mardan-nc-2"
        ),
        zeb=_official("03009999999", "Zeb Un Nisa", "tma-takht-bhai", "clerk"),
        maryam=User.objects.create_user("03101010101", name="Maryam Yousaf", is_monitor=True),
    )


def upload(actor: User, content: bytes = PDF, name: str = "scan.pdf") -> str:
    """An upload id for `actor`, through the real action."""
    return str(upload_file(actor=actor, file=SimpleUploadedFile(name, content)).uuid)


def water_connection(people: People, **overrides: Any) -> Application:
    """Ayesha applies for a water connection in Bagh-e-Iram, Mardan."""
    arguments: dict[str, Any] = {
        "citizen": people.ayesha,
        "service": Service.objects.get(organization__code="tma-mardan", code="water-connection"),
        "jurisdiction": Jurisdiction.objects.get(code="kp-mardan-mardan-nc-1"),
        "data": {"connection_size": "half_inch"},
        "location": {"lat": 34.2, "lng": 72.04, "address": "House 12, Bagh-e-Iram"},
        "documents": {"cnic_copy": upload(people.ayesha), "affidavit": upload(people.ayesha)},
        "channel": "web",
    }
    return submit_application(**{**arguments, **overrides})
