"""The bridge from stored catalog rows to the workflow engine's types."""

import json
from functools import cache

from ocsc.catalog.models import Calendar, Organization, ProcessVersion, Role
from ocsc.workflow import Problem, Process, RoleChart, WorkCalendar, parse_process


@cache
def _parse(spec_json: str) -> Process:
    process, problems = parse_process(json.loads(spec_json))
    if process is None:
        raise ValueError(f"a stored process is invalid: {problems[0]}")
    return process


def process_of(version: ProcessVersion) -> Process:
    """The parsed spec of a version (cached: versions never change)."""
    return _parse(version.spec_json)


def process_problems(version: ProcessVersion) -> list[Problem]:
    """What the engine says of a stored version, against its organization's roles."""
    roles = Role.objects.filter(kind__organizations__services=version.service_id)
    codes = [requirement["code"] for requirement in version.service.requirements]
    _, problems = parse_process(
        version.spec, roles={role.code for role in roles}, requirements=codes
    )
    return problems


def work_calendar(calendar: Calendar) -> WorkCalendar:
    return WorkCalendar.from_spec(
        workweek=calendar.workweek,
        country_holidays=calendar.country_holidays or None,
        extra=calendar.extra_holidays,
        timezone=calendar.timezone,
    )


def role_chart(organization: Organization) -> RoleChart:
    roles = Role.objects.filter(kind=organization.kind_id).select_related("reports_to")
    return RoleChart(
        reports_to={role.code: role.reports_to.code if role.reports_to else None for role in roles}
    )
