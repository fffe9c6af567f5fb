"""load_catalog: all problems at once with paths and lines, nothing written on error,
idempotent, and a changed process becomes a new version."""

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.forms.models import model_to_dict

from ocsc.catalog.loader import CatalogInvalid, load_catalog
from ocsc.catalog.models import (
    Calendar,
    Jurisdiction,
    Organization,
    OrganizationKind,
    ProcessVersion,
    Role,
    Service,
)
from tests.conftest import MINI_CATALOG

pytestmark = pytest.mark.django_db
MODELS = (Calendar, Jurisdiction, OrganizationKind, Role, Organization, Service, ProcessVersion)


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every catalog row, as the database holds it."""
    return {
        model.__name__: [
            {**model_to_dict(row), "pk": row.pk} for row in model._default_manager.order_by("pk")
        ]
        for model in MODELS
    }


def edited(tmp_path: Path, *replacements: tuple[str, str], name: str = "catalog.yaml") -> Path:
    text = MINI_CATALOG.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_catalog_loads_organizations_services_and_processes() -> None:
    summary = load_catalog(MINI_CATALOG)

    assert summary.counts["organizations created"] == 2
    mardan = Organization.objects.get(code="tma-mardan")
    assert (mardan.prefix, mardan.kind.code, mardan.calendar.code) == (
        "MDN",
        "tma",
        "kp-government",
    )
    assert [j.code for j in mardan.serves.all()] == ["kp-mardan-mardan"]
    tehsil = Jurisdiction.objects.get(code="kp-mardan-mardan")
    assert (tehsil.path, tehsil.parent and tehsil.parent.code) == (
        "kp/kp-mardan/kp-mardan-mardan/",
        "kp-mardan",
    )
    assert tehsil.paths_up == ["kp/", "kp/kp-mardan/", "kp/kp-mardan/kp-mardan-mardan/"]
    sub_engineer = Role.objects.get(code="sub_engineer")
    assert sub_engineer.reports_to is not None and sub_engineer.reports_to.code == "to_infra"
    assert Role.objects.get(head=True).code == "tmo"
    water = Service.objects.get(organization=mardan, code="water-connection")
    assert (water.category, water.fee_amount, water.name["ur"]) == (
        "application",
        1000,
        "پانی کا نیا کنکشن",
    )
    assert [r["code"] for r in water.requirements] == [
        "cnic_copy",
        "affidavit",
        "inspection_report",
    ]
    assert water.fields[0]["choices"][0] == {"value": "half_inch", "label": {"en": "½ inch"}}
    assert water.current_process is not None
    assert (water.current_process.number, water.current_process.spec["start"]) == (1, "scrutiny")


def test_an_organization_overrides_a_service_fee() -> None:
    load_catalog(MINI_CATALOG)

    fees = dict(
        Service.objects.filter(code="garbage-complaint").values_list(
            "organization__code", "fee_amount"
        )
    )
    assert fees == {"tma-mardan": None, "tma-takht-bhai": 100}


def test_loading_the_same_file_twice_changes_nothing() -> None:
    load_catalog(MINI_CATALOG)
    before = snapshot()

    summary = load_catalog(MINI_CATALOG)

    assert summary.changed() == 0
    assert snapshot() == before


def test_a_file_with_three_mistakes_reports_all_three_and_writes_nothing(tmp_path: Path) -> None:
    path = edited(
        tmp_path,
        ("approve: {to: payment}", "approve: {to: payement}"),
        ("owner: to_infra", "owner: to_infrastructure"),
        ("serves: [kp-mardan-takht-bhai]", "serves: [kp-mardan-takhtbhai]"),
    )

    with pytest.raises(CatalogInvalid) as raised:
        load_catalog(path)

    reported = {(p.problem.path, p.line): p.problem.message for p in raised.value.problems}
    assert reported[("services[0].process.steps.approval.actions.approve.to", 74)] == (
        "unknown step 'payement'"
    )
    assert reported[("organizations[0].services[0]", 118)] == (
        "service 'water-connection' has step 'approval' owned by 'to_infrastructure', "
        "which is not a role of organization kind 'tma'"
    )
    assert (
        reported[("organizations[1].serves[0]", 124)]
        == "unknown jurisdiction 'kp-mardan-takhtbhai'"
    )
    assert all(not rows for rows in snapshot().values())


def test_schema_mistakes_do_not_hide_the_other_problems(tmp_path: Path) -> None:
    path = edited(
        tmp_path,
        ("workweek: [mon,", "workweek: [mun,"),
        ("type: choice", "type: dropdown"),
        ("prefix: TKB", "prefix: MDN"),
    )

    with pytest.raises(CatalogInvalid) as raised:
        load_catalog(path)

    paths = [p.problem.path for p in raised.value.problems]
    assert "calendars.kp-government.workweek[0]" in paths
    assert "services[0].fields[0].type" in paths
    assert "organizations[1].prefix" in paths


def test_a_changed_process_is_a_new_version_and_the_old_one_stays(tmp_path: Path) -> None:
    load_catalog(MINI_CATALOG)
    service = Service.objects.get(organization__code="tma-mardan", code="water-connection")
    first = service.current_process
    assert first is not None
    first_spec = first.spec

    load_catalog(edited(tmp_path, ("      sla: 2d\n", "      sla: 3d\n")))

    service.refresh_from_db()
    assert service.current_process is not None
    assert service.current_process.number == 2
    assert service.current_process.spec["steps"]["scrutiny"]["sla"] == "3d"
    first.refresh_from_db()
    assert (first.number, first.spec) == (1, first_spec)
    # The other organizations' processes did not change.
    assert ProcessVersion.objects.filter(number=2).count() == 1


def test_a_service_dropped_from_an_organization_is_kept_inactive(tmp_path: Path) -> None:
    load_catalog(MINI_CATALOG)

    load_catalog(edited(tmp_path, ("services: [garbage-complaint]", "services: []")))

    service = Service.objects.get(organization__code="tma-takht-bhai", code="garbage-complaint")
    assert service.active is False
    load_catalog(MINI_CATALOG)
    service.refresh_from_db()
    assert service.active is True


def test_a_json_catalog_loads_too(tmp_path: Path) -> None:
    import json

    import yaml

    path = tmp_path / "catalog.json"
    data = yaml.safe_load(MINI_CATALOG.read_text(encoding="utf-8"))
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    load_catalog(path)

    assert Organization.objects.count() == 2


def test_invalid_yaml_says_where(tmp_path: Path) -> None:
    path = edited(tmp_path, ('label: {en: "Where is it?"}}', "label: {en: Where is it?}}"))

    with pytest.raises(CatalogInvalid) as raised:
        load_catalog(path)

    [problem] = raised.value.problems
    assert problem.line == 100
    assert "not valid YAML" in problem.problem.message


def test_duplicate_keys_are_reported(tmp_path: Path) -> None:
    path = edited(
        tmp_path,
        ("        scrutiny:\n", "        approval: {outcome: approved}\n        scrutiny:\n"),
    )

    with pytest.raises(CatalogInvalid) as raised:
        load_catalog(path)

    assert any(p.problem.message == "duplicate key" for p in raised.value.problems)


def test_the_command_checks_without_writing_and_prints_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("load_catalog", str(MINI_CATALOG), "--check")
    assert "valid" in capsys.readouterr().out
    assert Organization.objects.count() == 0

    bad = edited(tmp_path, ("approve: {to: payment}", "approve: {to: payement}"))
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("load_catalog", str(bad))
    err = capsys.readouterr().err
    assert (
        f"{bad}: line 74: services[0].process.steps.approval.actions.approve.to: "
        "unknown step 'payement'"
    ) in err


def test_the_command_refuses_a_missing_file() -> None:
    with pytest.raises(CommandError, match="no such file"):
        call_command("load_catalog", "nowhere.yaml")
