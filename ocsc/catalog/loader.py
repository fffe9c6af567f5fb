"""Reading, checking and loading catalog files.

`check_catalog` finds every problem in a file at once, each with its path (and line, for
YAML); `load_catalog` writes nothing unless the whole file is sound, and loading the same
file twice changes nothing. A changed process becomes a new ProcessVersion; earlier
versions stay as they were, because applications keep the version they started on.
"""

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.db.models import Model as DjangoModel
from pydantic import BaseModel, ValidationError

from ocsc.catalog.models import (
    Calendar,
    Jurisdiction,
    Organization,
    OrganizationKind,
    ProcessVersion,
    Role,
    Service,
)
from ocsc.catalog.schema import (
    SLUG,
    CalendarSpec,
    CatalogFile,
    FieldSpec,
    JurisdictionSpec,
    OfferedService,
    OrganizationKindSpec,
    OrganizationSpec,
    RequirementSpec,
    ServiceSpec,
)
from ocsc.workflow import CITIZEN, Problem, parse_process

type Adder = Callable[[Problem], None]


class CatalogInvalid(Exception):
    def __init__(self, problems: Sequence["Located"]) -> None:
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s) in the catalog")


@dataclass(frozen=True)
class Located:
    """A problem with the line of the file where its path starts (YAML only)."""

    problem: Problem
    line: int | None

    @property
    def is_error(self) -> bool:
        return self.problem.level == "error"

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        kind = "warning: " if self.problem.level == "warning" else ""
        return f"{where}{kind}{self.problem}"


@dataclass
class LoadSummary:
    counts: Counter[str] = field(default_factory=Counter)
    warnings: list[Located] = field(default_factory=list)

    def count(self, model: type[DjangoModel], outcome: str) -> None:
        self.counts[f"{model._meta.verbose_name_plural} {outcome}"] += 1

    def changed(self) -> int:
        return sum(n for key, n in self.counts.items() if not key.endswith("unchanged"))

    def __str__(self) -> str:
        return ", ".join(f"{key}: {n}" for key, n in sorted(self.counts.items())) or "nothing"


# Reading ------------------------------------------------------------------------------


def read_catalog(path: Path) -> tuple[Any, dict[str, int], list[Located]]:
    """Parse a YAML or JSON file into plain data, a map from paths to lines, and problems."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text), {}, []
        except json.JSONDecodeError as exc:
            return None, {}, [Located(Problem("(file)", f"not valid JSON: {exc.msg}"), exc.lineno)]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        detail = f"{context}: {what}" if context else what
        column = f", column {mark.column + 1}" if mark is not None else ""
        problem = Problem("(file)", f"not valid YAML{column}: {detail}")
        return None, {}, [Located(problem, line)]
    lines: dict[str, int] = {}
    duplicates: list[Located] = []
    if node is not None:
        _map_lines(node, "", lines, duplicates)
    return data, lines, duplicates


def _map_lines(node: yaml.Node, path: str, lines: dict[str, int], problems: list[Located]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = f"{path}.{key}" if path else key
            if key in seen:
                line = key_node.start_mark.line + 1
                problems.append(Located(Problem(child, "duplicate key"), line))
            seen.add(key)
            lines.setdefault(child, key_node.start_mark.line + 1)
            _map_lines(value_node, child, lines, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _map_lines(item, f"{path}[{index}]", lines, problems)


def line_of(path: str, lines: Mapping[str, int]) -> int | None:
    """The line of the longest prefix of `path` that the file has."""
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            return lines.get(path)
        path = path[:cut]
    return None


def loc_path(prefix: str, loc: Sequence[int | str]) -> str:
    """Join a pydantic error location to a path: keys as `.key`, list indices as `[i]`."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


# Checking -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """One organization's service, with overrides applied: what gets written."""

    org_index: int
    service_index: int
    template: ServiceSpec
    entry: OfferedService

    def effective(self, name: str) -> Any:
        if name in self.entry.model_fields_set:
            return getattr(self.entry, name)
        return getattr(self.template, name)


@dataclass
class Checked:
    catalog: CatalogFile | None  # None when any part failed its schema
    offers: list[Offer]
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]


def _walk(
    nodes: Sequence[JurisdictionSpec], path: str, parent: JurisdictionSpec | None = None
) -> Iterator[tuple[str, JurisdictionSpec, JurisdictionSpec | None]]:
    for index, node in enumerate(nodes):
        here = f"{path}[{index}]"
        yield here, node, parent
        yield from _walk(node.children, f"{here}.children", node)


def _raw_codes(nodes: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, code) of every node of a raw jurisdiction tree, valid or not."""
    for index, node in enumerate(nodes if isinstance(nodes, list) else ()):
        if isinstance(node, dict):
            if isinstance(node.get("code"), str):
                yield f"{path}[{index}]", node["code"]
            yield from _raw_codes(node.get("children"), f"{path}[{index}].children")


def _validate[T: BaseModel](model: type[T], raw: Any, path: str, add: Adder) -> T | None:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            add(Problem(loc_path(path, error["loc"]), message))
        return None


def _section[T: BaseModel](
    data: dict[str, Any], name: str, model: type[T], add: Adder
) -> dict[str, T | None] | list[T | None]:
    """Validate a section item by item, so that one bad item hides no other problem."""
    raw = data.get(name)
    many = CatalogFile.model_fields[name].annotation
    is_map = getattr(many, "__origin__", None) is dict
    if raw is None:
        return {} if is_map else []
    if is_map:
        if not isinstance(raw, dict):
            add(Problem(name, "expected a mapping from codes to definitions"))
            return {}
        result: dict[str, T | None] = {}
        for code, item in raw.items():
            if not isinstance(code, str) or not SLUG.fullmatch(code):
                add(Problem(f"{name}.{code}", "a code is a lowercase slug, like kp-government"))
            result[str(code)] = _validate(model, item, f"{name}.{code}", add)
        return result
    if not isinstance(raw, list):
        add(Problem(name, "expected a list"))
        return []
    return [_validate(model, item, f"{name}[{index}]", add) for index, item in enumerate(raw)]


def check_catalog(data: Any) -> Checked:
    """Every problem in the catalog data at once, each with its path."""
    problems: list[Problem] = []
    add: Adder = problems.append
    if not isinstance(data, dict):
        add(Problem("(file)", "a catalog is a mapping with calendars, jurisdictions, …"))
        return Checked(None, [], problems)
    for key in data:
        if key not in CatalogFile.model_fields:
            expected = ", ".join(CatalogFile.model_fields)
            add(Problem(str(key), f"unknown section; the sections are {expected}"))

    calendars = _section(data, "calendars", CalendarSpec, add)
    roots = _section(data, "jurisdictions", JurisdictionSpec, add)
    kinds = _section(data, "organization_kinds", OrganizationKindSpec, add)
    services = _section(data, "services", ServiceSpec, add)
    orgs = _section(data, "organizations", OrganizationSpec, add)
    assert isinstance(calendars, dict) and isinstance(kinds, dict)  # noqa: S101 - by section type
    assert isinstance(roots, list) and isinstance(services, list) and isinstance(orgs, list)  # noqa: S101

    jurisdiction_codes: set[str] = set()
    for path, code in _raw_codes(data.get("jurisdictions"), "jurisdictions"):
        if code in jurisdiction_codes:
            add(Problem(f"{path}.code", f"jurisdiction '{code}' appears twice"))
        jurisdiction_codes.add(code)

    kind_roles: dict[str, set[str]] = {}
    for kind_code, raw_kind in (data.get("organization_kinds") or {}).items():
        raw_roles = raw_kind.get("roles") if isinstance(raw_kind, dict) else None
        kind_roles[str(kind_code)] = set(raw_roles) if isinstance(raw_roles, dict) else set()
    for kind_code, kind in kinds.items():
        if kind is not None:
            _check_roles(kind_code, kind, add)

    raw_services: list[Any] = data["services"] if isinstance(data.get("services"), list) else []
    template_index: dict[str, int] = {}
    for index, raw in enumerate(raw_services):
        raw_code = raw.get("code") if isinstance(raw, dict) else None
        if isinstance(raw_code, str):
            code = raw_code
            if code in template_index:
                add(Problem(f"services[{index}].code", f"service '{code}' appears twice"))
            template_index.setdefault(code, index)
    for index, service in enumerate(services):
        if service is not None:
            _check_service_parts(service.requirements, service.fields, f"services[{index}]", add)

    offers: list[Offer] = []
    unknown_kind_offers: set[str] = set()
    org_codes: set[str] = set()
    prefixes: dict[str, str] = {}
    for o_index, org in enumerate(orgs):
        if org is None:
            continue
        base = f"organizations[{o_index}]"
        if org.code in org_codes:
            add(Problem(f"{base}.code", f"organization '{org.code}' appears twice"))
        org_codes.add(org.code)
        if org.prefix in prefixes:
            used = prefixes[org.prefix]
            add(Problem(f"{base}.prefix", f"prefix '{org.prefix}' is already used by '{used}'"))
        prefixes.setdefault(org.prefix, org.code)
        if org.kind not in kind_roles:
            add(Problem(f"{base}.kind", f"unknown organization kind '{org.kind}'"))
        if org.calendar not in calendars:
            add(Problem(f"{base}.calendar", f"unknown calendar '{org.calendar}'"))
        for j_index, code in enumerate(org.serves):
            if code not in jurisdiction_codes:
                add(Problem(f"{base}.serves[{j_index}]", f"unknown jurisdiction '{code}'"))
        listed: set[str] = set()
        for s_index, entry in enumerate(org.services):
            here = f"{base}.services[{s_index}]"
            if entry.code in listed:
                add(Problem(here, f"service '{entry.code}' is listed twice"))
            listed.add(entry.code)
            if entry.code not in template_index:
                add(Problem(here, f"unknown service '{entry.code}'"))
                continue
            if org.kind not in kind_roles:
                unknown_kind_offers.add(entry.code)
            template = services[template_index[entry.code]]
            if template is None:
                continue  # its own problems are reported under services[…]
            offer = Offer(o_index, s_index, template, entry)
            offers.append(offer)
            if entry.requirements is not None or entry.fields is not None:
                requirements, fields = offer.effective("requirements"), offer.effective("fields")
                _check_service_parts(requirements, fields, here, add)

    # Processes: each one once, then the owners against each offering kind's roles.
    all_roles = set().union(*kind_roles.values())
    for index, raw in enumerate(raw_services):
        process = raw.get("process") if isinstance(raw, dict) else None
        if not isinstance(process, dict):
            continue  # reported by the schema
        code = raw.get("code")
        offered = code in unknown_kind_offers or any(
            o.template.code == code and o.entry.process is None for o in offers
        )
        problems.extend(
            parse_process(
                process,
                path=f"services[{index}].process",
                roles=None if offered else all_roles,
                requirements=_requirement_codes(raw.get("requirements")),
            )[1]
        )
    for offer in offers:
        org = orgs[offer.org_index]
        assert org is not None  # noqa: S101 - offers come from valid organizations
        if org.kind not in kind_roles:
            continue
        roles = kind_roles[org.kind]
        here = f"organizations[{offer.org_index}].services[{offer.service_index}]"
        codes = [r.code for r in offer.effective("requirements")]
        if offer.entry.process is not None:
            path = f"{here}.process"
            problems.extend(
                parse_process(offer.entry.process, path=path, roles=roles, requirements=codes)[1]
            )
            continue
        _check_owners(offer, org.kind, roles, codes, here, add)

    catalog = None
    if not [p for p in problems if p.level == "error"]:
        catalog = CatalogFile.model_validate(data)
    return Checked(catalog, offers if catalog else [], problems)


def _requirement_codes(raw: Any) -> list[str]:
    items = raw if isinstance(raw, list) else []
    return [item["code"] for item in items if isinstance(item, dict) and "code" in item]


def _check_roles(kind_code: str, kind: OrganizationKindSpec, add: Adder) -> None:
    base = f"organization_kinds.{kind_code}.roles"
    heads = [code for code, role in kind.roles.items() if role.head]
    if len(heads) != 1:
        add(Problem(base, f"exactly one role must be the head (head: true); found {len(heads)}"))
    for code, role in kind.roles.items():
        if code == CITIZEN:
            add(Problem(f"{base}.{code}", "'citizen' is reserved for the applicant"))
        if role.reports_to is not None and role.reports_to not in kind.roles:
            add(Problem(f"{base}.{code}.reports_to", f"unknown role '{role.reports_to}'"))
        if role.head and role.reports_to is not None:
            add(Problem(f"{base}.{code}.reports_to", "the head reports to nobody"))
        chain = [code]
        boss = role.reports_to
        while boss is not None and boss in kind.roles:
            if boss in chain:
                loop = " → ".join([*chain, boss])
                add(Problem(f"{base}.{code}.reports_to", f"a reporting loop: {loop}"))
                break
            chain.append(boss)
            boss = kind.roles[boss].reports_to


def _check_owners(
    offer: Offer, kind: str, roles: set[str], codes: list[str], here: str, add: Adder
) -> None:
    """The template's process against one offering organization's roles and requirements."""
    steps = offer.template.process.get("steps")
    for step_code, step in steps.items() if isinstance(steps, dict) else ():
        if not isinstance(step, dict):
            continue
        owner = step.get("owner")
        if isinstance(owner, str) and owner != CITIZEN and owner not in roles:
            add(
                Problem(
                    here,
                    f"service '{offer.template.code}' has step '{step_code}' owned by "
                    f"'{owner}', which is not a role of organization kind '{kind}'",
                )
            )
        if offer.entry.requirements is not None:
            for code in step.get("requires") or ():
                if code not in codes:
                    message = f"step '{step_code}' requires '{code}', which is not listed here"
                    add(Problem(f"{here}.requirements", message))


def _check_service_parts(
    requirements: Sequence[RequirementSpec], fields: Sequence[FieldSpec], base: str, add: Adder
) -> None:
    for index, requirement in enumerate(requirements):
        if requirement.code in {r.code for r in requirements[:index]}:
            path = f"{base}.requirements[{index}].code"
            add(Problem(path, f"requirement '{requirement.code}' appears twice"))
    for index, form_field in enumerate(fields):
        if form_field.key in {f.key for f in fields[:index]}:
            add(Problem(f"{base}.fields[{index}].key", f"field '{form_field.key}' appears twice"))


# Loading ------------------------------------------------------------------------------


def load_catalog(path: Path, *, check_only: bool = False) -> LoadSummary:
    """Check the file and, unless `check_only`, write it. Raises CatalogInvalid on errors."""
    data, lines, read_problems = read_catalog(path)
    if read_problems and data is None:
        raise CatalogInvalid(read_problems)
    checked = check_catalog(data)
    located = [*read_problems, *(Located(p, line_of(p.path, lines)) for p in checked.problems)]
    errors = [p for p in located if p.is_error]
    if errors:
        raise CatalogInvalid(errors)
    summary = LoadSummary(warnings=[p for p in located if not p.is_error])
    if not check_only:
        with transaction.atomic():
            _write(checked, summary)
    return summary


def _upsert[M: DjangoModel](
    model: type[M], summary: LoadSummary, lookup: dict[str, Any], values: dict[str, Any]
) -> M:
    obj = model._default_manager.filter(**lookup).first()
    if obj is None:
        obj = model._default_manager.create(**lookup, **values)
        summary.count(model, "created")
        return obj
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj.save(update_fields=changed)
        summary.count(model, "updated")
    else:
        summary.count(model, "unchanged")
    return obj


def _dump(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [_dump(item) for item in value]
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=True)
    return value


def digest(spec: Mapping[str, Any]) -> str:
    canonical = json.dumps(spec, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _write(checked: Checked, summary: LoadSummary) -> None:
    catalog = checked.catalog
    assert catalog is not None  # noqa: S101 - only a sound catalog is written
    calendars = {
        code: _upsert(
            Calendar,
            summary,
            {"code": code},
            {
                "workweek": list(spec.workweek),
                "country_holidays": spec.country_holidays or "",
                "extra_holidays": [d.isoformat() for d in spec.extra],
                "timezone": spec.timezone,
            },
        )
        for code, spec in catalog.calendars.items()
    }
    jurisdictions: dict[str, Jurisdiction] = {}
    for _, node, parent in _walk(catalog.jurisdictions, "jurisdictions"):
        parent_row = jurisdictions[parent.code] if parent else None
        jurisdictions[node.code] = _upsert(
            Jurisdiction,
            summary,
            {"code": node.code},
            {
                "kind": node.kind,
                "name": _dump(node.name),
                "parent": parent_row,
                "path": f"{parent_row.path if parent_row else ''}{node.code}/",
            },
        )
    kinds: dict[str, OrganizationKind] = {}
    for code, kind_spec in catalog.organization_kinds.items():
        kind = _upsert(OrganizationKind, summary, {"code": code}, {"name": _dump(kind_spec.name)})
        kinds[code] = kind
        roles = {
            role_code: _upsert(
                Role,
                summary,
                {"kind": kind, "code": role_code},
                {"name": role.name, "duty": role.duty or {}, "head": role.head},
            )
            for role_code, role in kind_spec.roles.items()
        }
        for role_code, role in kind_spec.roles.items():
            boss = roles[role.reports_to] if role.reports_to else None
            if roles[role_code].reports_to_id != (boss.pk if boss else None):
                roles[role_code].reports_to = boss
                roles[role_code].save(update_fields=["reports_to"])
    organizations: dict[int, Organization] = {}
    for index, org_spec in enumerate(catalog.organizations):
        org = _upsert(
            Organization,
            summary,
            {"code": org_spec.code},
            {
                "prefix": org_spec.prefix,
                "kind": kinds[org_spec.kind],
                "name": _dump(org_spec.name),
                "calendar": calendars[org_spec.calendar],
            },
        )
        wanted = {jurisdictions[code].pk for code in org_spec.serves}
        if set(org.serves.values_list("pk", flat=True)) != wanted:
            org.serves.set(wanted)
        organizations[index] = org
    offered: dict[int, set[str]] = {index: set() for index in organizations}
    for offer in checked.offers:
        org = organizations[offer.org_index]
        offered[offer.org_index].add(offer.template.code)
        fee = offer.effective("fee")
        service = _upsert(
            Service,
            summary,
            {"organization": org, "code": offer.template.code},
            {
                "category": offer.template.category,
                "name": _dump(offer.effective("name")),
                "description": _dump(offer.effective("description")) or {},
                "fee_amount": fee.amount if fee else None,
                "fee_currency": fee.currency if fee else "PKR",
                "requirements": _dump(offer.effective("requirements")),
                "fields": _dump(offer.effective("fields")),
                "active": True,
            },
        )
        spec = offer.effective("process")
        spec_digest = digest(spec)
        current = service.current_process
        if current is not None and current.digest == spec_digest:
            summary.count(ProcessVersion, "unchanged")
            continue
        latest = service.process_versions.order_by("-number").first()
        version = ProcessVersion.objects.create(
            service=service,
            number=(latest.number + 1) if latest else 1,
            spec_json=json.dumps(spec, ensure_ascii=False),
            digest=spec_digest,
        )
        summary.count(ProcessVersion, "created")
        service.current_process = version
        service.save(update_fields=["current_process"])
    for index, org in organizations.items():
        dropped = org.services.filter(active=True).exclude(code__in=offered[index])
        for _ in dropped:
            summary.count(Service, "withdrawn")
        dropped.update(active=False)
