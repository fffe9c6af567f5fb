"""Every write to an application. Each is atomic, appends its Events, and announces them
after commit (`signals.event_committed`): the timeline is the one record of what happened."""

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ocsc.accounts.models import User
from ocsc.cases.access import (
    NotAllowed,
    capacity,
    chart_of,
    may_assign,
    may_withdraw,
    roles_of,
    sees_internal,
)
from ocsc.cases.files import FileRefused, check_file
from ocsc.cases.formdata import InvalidInput, clean_form_data, clean_location
from ocsc.cases.models import (
    WITHDRAWN,
    Application,
    Attachment,
    Channel,
    Event,
    Step,
    TrackingCounter,
)
from ocsc.cases.signals import announce_on_commit
from ocsc.catalog.models import Jurisdiction, Service
from ocsc.catalog.process import process_of, work_calendar
from ocsc.compiled import Compiled, insert, update, update_sql, updates
from ocsc.ids import placeholder
from ocsc.workflow import (
    CITIZEN,
    SYSTEM,
    ActionRefused,
    Category,
    Process,
    WorkCalendar,
    apply,
    category,
    timeout_action,
)

log = logging.getLogger(__name__)
COMMENT_LIMIT = 5000


class ApplicationChanged(Exception):
    """Someone acted first: the application is no longer where the caller saw it (409)."""

    def __init__(self, application: Application) -> None:
        super().__init__(
            _("%(tracking_no)s has moved on since you opened it: reload and try again.")
            % {"tracking_no": application.tracking_no}
        )


@dataclass(frozen=True)
class Clock:
    """The organization's calendar and the process, for one write."""

    calendar: WorkCalendar
    process: Process

    @classmethod
    def of(cls, application: Application) -> "Clock":
        return cls(
            work_calendar(application.organization.calendar), process_of(application.process)
        )


def _closed(application: Application) -> ActionRefused:
    return ActionRefused(
        "closed", _("%(tracking_no)s is closed.") % {"tracking_no": application.tracking_no}
    )


def _event(application: Application, **fields: Any) -> Event:
    """A new Event of `application`, not yet written, carrying its organization (the
    dashboards filter events on it, without joining the applications)."""
    return Event(application=application, organization_id=application.organization_id, **fields)


def _record(application: Application, **fields: Any) -> Event:
    """A new Event of `application`, written."""
    (event,) = insert([_event(application, **fields)])
    return event


def _announce(event: Event) -> None:
    announce_on_commit(event.pk)


# Uploading ----------------------------------------------------------------------------


def _shown_name(file: UploadedFile[bytes]) -> str:
    """The name a file is shown under: as sent, its end if too long for the column."""
    return (file.name or "file")[-200:]


def upload_file(*, actor: User, file: UploadedFile[bytes]) -> Attachment:
    """Keep a checked file for its uploader; a submission or action then names it by id
    within a day. Raises FileRefused (wrong type, too big, empty)."""
    content_type, digest, size = check_file(file)
    (attachment,) = insert(  # (the file is stored as the row is written: FileField.pre_save)
        [
            Attachment(
                uploaded_by=actor,
                file=file,
                filename=_shown_name(file),
                content_type=content_type,
                size=size,
                sha256=digest,
            )
        ]
    )
    return attachment


# An upload expires after UPLOAD_HOLD (a submission refuses it from then on); its row and
# its file go this much later, so that clocks a little apart never delete one being bound.
UNUSED_UPLOAD_GRACE = timedelta(days=1)
PRUNE_UPLOADS_BATCH = 500


def prune_unused_uploads(now: datetime) -> int:
    """Delete up to PRUNE_UPLOADS_BATCH uploads that no submission or action used before they
    expired, files and rows: a copy of someone's CNIC is not kept for nobody. How many rows
    went. Each file goes before its row, so that a process stopped between the two leaves a
    row to try again, never a file nobody knows of; a file the storage cannot delete is
    logged, and its row stays for the next run."""
    cutoff = now - settings.UPLOAD_HOLD - UNUSED_UPLOAD_GRACE
    expired = Attachment.objects.filter(application__isnull=True, created_at__lt=cutoff)
    found = list(expired.order_by("created_at").values_list("pk", "file")[:PRUNE_UPLOADS_BATCH])
    storage = Attachment._meta.get_field("file").storage
    gone = []
    for pk, name in found:
        try:
            storage.delete(name)  # (a file already gone is no error)
        except Exception:  # any storage's error (disk, S3): the next files still go
            log.warning("could not delete the expired upload's file %s", name, exc_info=True)
        else:
            gone.append(pk)
    if not gone:
        return 0
    deleted, _ = expired.filter(pk__in=gone).delete()
    return deleted


# Submitting ---------------------------------------------------------------------------


def collected_at_submission(service: Service, process: Process) -> list[dict[str, Any]]:
    """The requirements a submission brings: all but those a step `requires` later."""
    later = {code for step in process.steps.values() for code in step.requires}
    return [r for r in service.requirements if r["code"] not in later]


def _serving(organization_id: int, paths: list[str]) -> QuerySet[Jurisdiction, int]:
    """The areas among `paths` the organization serves (one is enough)."""
    return (
        Jurisdiction.objects.filter(organizations=organization_id, path__in=paths)
        .order_by()
        .values_list("pk", flat=True)[:1]
    )


_SERVING = Compiled(_serving)


@contextmanager
def _atomic_keeping_files() -> Iterator[list[Attachment]]:
    """A transaction that deletes the files it stored if it rolls back (rows rolled back
    leave no files behind): the list it gives is filled with the attachments as their
    files are written."""
    stored: list[Attachment] = []
    try:
        with transaction.atomic():
            yield stored
    except BaseException:
        _delete_files(stored)  # their rows went with the rollback
        raise


def submit_application(
    *,
    citizen: User,
    service: Service,
    jurisdiction: Jurisdiction,
    data: Mapping[str, Any],
    location: Mapping[str, Any] | None = None,
    documents: Mapping[str, str | UUID] | None = None,
    files: Mapping[str, UploadedFile[bytes]] | None = None,
    channel: str = Channel.WEB,
) -> Application:
    """File an application: checked form and documents, routed, numbered, first step open.

    A document is named in `documents` by the id of its upload (`upload_file`), or comes
    in `files` with the submission itself, by requirement code: such a file is checked as an
    upload is and stored only if the submission is accepted (one statement for them all).
    If the submission then fails, the files it stored are deleted with its rows."""
    documents = documents or {}
    files = files or {}
    errors: dict[str, str] = {}
    organization = service.organization
    version = service.current_process
    if not service.active or version is None:
        raise InvalidInput(
            {"service": _("%(service)s is not offered at the moment") % {"service": service.code}}
        )
    if _SERVING.first(organization_id=organization.pk, paths=jurisdiction.paths_up) is None:
        errors["jurisdiction"] = _("%(place)s is not served by %(organization)s") % {
            "place": jurisdiction.code,
            "organization": organization.code,
        }
    if channel not in Channel.values:
        errors["channel"] = _("one of %(values)s") % {"values": ", ".join(Channel.values)}
    try:
        clean = clean_form_data(service.fields, data)
    except InvalidInput as exc:
        errors.update({f"data.{key}": message for key, message in exc.errors.items()})
        clean = {}
    place = None
    if location:
        try:
            place = clean_location(location)
        except ValueError as exc:
            errors["location"] = str(exc)
    process = process_of(version)
    wanted = collected_at_submission(service, process)
    for requirement in wanted:
        code = requirement["code"]
        if requirement.get("required", True) and code not in documents and code not in files:
            errors[f"documents.{code}"] = _("this document is required")
    allowed = {r["code"] for r in wanted}
    uploads = _uploads(citizen, documents, allowed=allowed, errors=errors)
    checked = _checked_files(files, allowed=allowed, named=documents, errors=errors)
    if errors:
        raise InvalidInput(errors)

    with _atomic_keeping_files() as stored:
        now = timezone.now()
        calendar = work_calendar(organization.calendar)
        (application,) = insert(
            [
                Application(
                    tracking_no=placeholder(),  # numbered last, below
                    citizen=citizen,
                    service=service,
                    process=version,
                    organization=organization,
                    jurisdiction=jurisdiction,
                    state=process.start,
                    category=Category.OPEN,
                    channel=channel,
                    data=clean,
                    location=place,
                    submitted_at=now,
                    updated_at=now,
                    due_at=calendar.due_at(now, process.sla) if process.sla else None,
                )
            ]
        )
        step, fields = _next_step(application, Clock(calendar, process), process.start, now)
        event = _record(
            application,
            kind=Event.Kind.SUBMITTED,
            actor=citizen,
            actor_role=CITIZEN,
            step=step,
            to_state=process.start,
            created_at=now,
            data={"channel": channel, "documents": sorted({*documents, *files})},
        )
        application.attachments_known = []  # a new application's are those bound here
        _bind(uploads, application, event)
        _attach(checked, citizen, application, event, stored)
        # Numbered last: the organization's counter row stays locked from its update to the
        # commit, so that its submissions queue behind one another only for the end of the
        # submission (at capacity, 2.0–3.5 ms on average for the row's lock as the last two
        # statements, 1.7–2.3 ms as the last one). The number is written with the first step.
        _number(application, fields, service, calendar, now)
        _announce(event)
        return application


def _number(
    application: Application,
    fields: dict[str, Any],
    service: Service,
    calendar: WorkCalendar,
    now: datetime,
) -> None:
    """Give a new application its tracking number, PREFIX-YY-NNNNNN, sequential per
    organization and year, and `_move` it onto its first step (`fields`). The counter row is
    locked by its update until the submission commits, so numbers have neither gaps nor
    duplicates. On PostgreSQL the counter's update and the application's are one statement
    (`_numbered_move`)."""
    organization = service.organization
    year = timezone.localtime(now, ZoneInfo(calendar.tz)).year % 100
    prefix = f"{organization.prefix}-{year:02d}-"
    for _attempt in range(2):  # the organization's first application this year makes its counter
        if connection.vendor == "postgresql":
            if _numbered_move(application, fields, organization.pk, year, prefix):
                return
        elif (number := _take_number(organization.pk, year)) is not None:
            fields["tracking_no"] = f"{prefix}{number:06d}"
            _move(application, fields)
            return
        TrackingCounter.objects.get_or_create(organization=organization, year=year)
    raise RuntimeError(f"no tracking counter for {organization.code} in {year}")


# The number the application's update writes after the counter's (`_counter_sql`, as a WITH):
# the prefix given, then the counter's value with six digits at least.
_NUMBERED_VALUE = (
    '%s || (SELECT lpad("last"::text, greatest(6, length("last"::text)), \'0\') FROM ocsc_counter)'
)


def _numbered_move(
    application: Application, fields: dict[str, Any], organization_id: int, year: int, prefix: str
) -> bool:
    """PostgreSQL: take the next number and move the new application in one statement; False
    when the organization has no counter for the year (nothing written)."""
    sql, params = update_sql(Application, _at(application, None), {**fields, "tracking_no": prefix})
    assignment = '"tracking_no" = %s'
    if sql.count(assignment) != 1:
        raise RuntimeError(f"unexpected UPDATE for a numbered move: {sql}")
    body = sql.replace(assignment, f'"tracking_no" = {_NUMBERED_VALUE}')
    tail = ' AND EXISTS (SELECT 1 FROM ocsc_counter) RETURNING "tracking_no"'
    numbered = f"WITH ocsc_counter AS ({_counter_sql()}) {body}{tail}"  # noqa: S608 - our SQL
    with connection.cursor() as cursor:
        cursor.execute(numbered, [organization_id, year, *params])
        rows = cursor.fetchall()
    if not rows:
        return False
    for name, value in fields.items():
        setattr(application, name, value)
    application.tracking_no = rows[0][0]
    return True


def _take_number(organization_id: int, year: int) -> int | None:
    """Add one to the counter and read it back in one statement (UPDATE … RETURNING, on
    PostgreSQL and SQLite alike); None when there is no counter yet."""
    with connection.cursor() as cursor:
        cursor.execute(_counter_sql(), [organization_id, year])
        row = cursor.fetchone()
    return int(row[0]) if row else None


def _counter_sql() -> str:
    """Add one to an organization's counter for a year and return the new value."""
    quote = connection.ops.quote_name
    last = quote("last")
    return (
        f"UPDATE {quote(TrackingCounter._meta.db_table)} SET {last} = {last} + 1 "  # noqa: S608
        f"WHERE {quote('organization_id')} = %s AND {quote('year')} = %s RETURNING {last}"
    )


def _unused_uploads(keys: list[UUID], actor: int) -> QuerySet[Attachment]:
    return Attachment.objects.filter(uuid__in=keys, uploaded_by=actor, application__isnull=True)


_UNUSED_UPLOADS = Compiled(_unused_uploads)


def _uploads(
    actor: User, documents: Mapping[str, str | UUID], *, allowed: set[str], errors: dict[str, str]
) -> list[tuple[str, Attachment]]:
    """The actor's own unused uploads (at most a day old) for the named requirements."""
    if not documents:
        return []
    since = timezone.now() - settings.UPLOAD_HOLD
    found: list[tuple[str, Attachment]] = []
    wanted: dict[str, UUID] = {}
    for code, raw in documents.items():
        if code not in allowed:
            errors[f"documents.{code}"] = _not_asked(allowed)
            continue
        try:
            wanted[code] = raw if isinstance(raw, UUID) else UUID(str(raw))
        except ValueError:
            errors[f"documents.{code}"] = _("'%(value)s' is not an upload id") % {"value": raw}
    uploads = {a.uuid: a for a in _UNUSED_UPLOADS.all(keys=list(wanted.values()), actor=actor.pk)}
    for code, upload_id in wanted.items():
        upload = uploads.get(upload_id)
        if upload is None or upload.created_at < since:
            errors[f"documents.{code}"] = _("no such upload, or it expired (uploads last 24 hours)")
        else:
            found.append((code, upload))
    return found


def _bind(uploads: list[tuple[str, Attachment]], application: Application, event: Event) -> None:
    """Give the uploads to the application (one UPDATE), each under its requirement."""
    if not uploads:
        return
    params: list[Any] = [application.pk, event.pk]
    for code, upload in uploads:
        params += [upload.pk, code]
    params += [upload.pk for _, upload in uploads]
    with connection.cursor() as cursor:
        cursor.execute(_binding(connection.vendor, len(uploads)), params)
        updated = cursor.rowcount
    if updated != len(uploads):
        raise ApplicationChanged(application)  # the same upload used twice, or at once
    for code, upload in uploads:  # as written
        upload.application, upload.event, upload.requirement = application, event, code
    _known(application, [upload for _, upload in uploads])


@cache
def _binding(vendor: str, count: int) -> str:
    """`_bind`'s UPDATE for `count` uploads, built once per database (`vendor`, the cache's
    key) and count: the ORM's `update()` with a `Case` built and compiled it at every
    submission."""
    quote = connection.ops.quote_name
    pk, requirement = quote("id"), quote("requirement")
    cases = " ".join(f"WHEN {pk} = %s THEN %s" for _ in range(count))
    listed = ", ".join(["%s"] * count)
    return (
        f"UPDATE {quote(Attachment._meta.db_table)} SET {quote('application_id')} = %s, "  # noqa: S608 - the model's names
        f"{quote('event_id')} = %s, {requirement} = CASE {cases} ELSE {requirement} END "
        f"WHERE {pk} IN ({listed}) AND {quote('application_id')} IS NULL"
    )


def _not_asked(allowed: set[str]) -> str:
    return _("not asked for here; expected %(codes)s") % {
        "codes": ", ".join(sorted(allowed)) or _("no documents")
    }


def _checked_files(
    files: Mapping[str, UploadedFile[bytes]],
    *,
    allowed: set[str],
    named: Mapping[str, str | UUID],
    errors: dict[str, str],
) -> list[tuple[str, UploadedFile[bytes], tuple[str, str, int]]]:
    """The files sent with a submission, each for a requirement asked for here and not also
    named by an upload id, checked as an upload is: (code, file, (type, sha256, size))."""
    found: list[tuple[str, UploadedFile[bytes], tuple[str, str, int]]] = []
    for code, file in files.items():
        if code not in allowed:
            errors[f"documents.{code}"] = _not_asked(allowed)
        elif code in named:
            errors[f"documents.{code}"] = _("sent twice: as a file and as an upload id")
        else:
            try:
                found.append((code, file, check_file(file)))
            except FileRefused as exc:
                errors[f"documents.{code}"] = str(exc)
    return found


def _attach(
    checked: list[tuple[str, UploadedFile[bytes], tuple[str, str, int]]],
    actor: User,
    application: Application,
    event: Event,
    stored: list[Attachment],
) -> None:
    """Store the files sent with a submission, bound to it (one INSERT); `stored` gets
    them as they are written, for `_atomic_keeping_files` to delete if the submission fails."""
    if not checked:
        return
    rows = [
        Attachment(
            uploaded_by=actor,
            application=application,
            event=event,
            requirement=code,
            file=file,
            filename=_shown_name(file),
            content_type=content_type,
            size=size,
            sha256=digest,
        )
        for code, file, (content_type, digest, size) in checked
    ]
    stored.extend(rows)  # the files are written as the rows are (FileField.pre_save)
    _known(application, insert(rows))


def _known(application: Application, attachments: list[Attachment]) -> None:
    """Count new attachments among the application's documents, if it has them read."""
    if application.attachments_known is not None:
        application.attachments_known = sorted(
            [*application.attachments_known, *attachments], key=lambda a: (a.created_at, a.pk)
        )


def _delete_files(attachments: list[Attachment]) -> None:
    """Delete the files of rows that were rolled back (best effort: each is logged if the
    storage refuses it)."""
    for attachment in attachments:
        name = attachment.file.name
        if not name or not getattr(attachment.file, "_committed", False):
            continue  # never written (Django's own flag: set once the file is saved)
        try:
            attachment.file.storage.delete(name)
        except Exception:  # any storage's error: the next files still go
            log.warning("could not delete the file %s of a failed submission", name, exc_info=True)


# Moving along the process -------------------------------------------------------------


def _next_step(
    application: Application,
    clock: Clock,
    state: str,
    now: datetime,
    *,
    assignee: User | None = None,
) -> tuple[Step | None, dict[str, Any]]:
    """Enter `state`: a new Step visit, written (assigned to `assignee`), or None at the end
    of the process; and the application's fields that change with it, for the move onto it
    (`_move`, `_numbered_move` or `_leave`)."""
    spec = clock.process.steps[state]
    fields: dict[str, Any] = {
        "state": state,
        "category": category(clock.process, state),
        "updated_at": now,
    }
    if spec.terminal:
        fields.update(outcome=spec.outcome or "", closed_at=now, current_step=None)
        if application.paused_at:
            fields["paused_at"] = None
        return None, fields
    owner = spec.owner or ""
    due_at = clock.calendar.due_at(now, spec.sla) if spec.sla else None
    (step,) = insert(
        [
            Step(
                application=application,
                organization_id=application.organization_id,
                service_id=application.service_id,
                state=state,
                owner_role=owner,
                assignee=assignee,
                entered_at=now,
                due_at=due_at,
                # A step with a timeout takes it at its due time; an official's late step
                # without one escalates from then (the timers find out whether the role has
                # anyone above it).
                escalate_at=due_at if owner not in ("", CITIZEN) and not spec.timeout else None,
                times_out_at=due_at if spec.timeout is not None else None,
            )
        ]
    )
    fields["current_step"] = step
    if owner == CITIZEN and application.paused_at is None:
        fields["paused_at"] = now  # the organization's clock stops
    elif owner != CITIZEN and application.paused_at is not None:
        if application.due_at is not None and clock.process.sla is not None:
            fields["due_at"] = clock.calendar.extend(
                application.due_at, application.paused_at, now, clock.process.sla.unit
            )
        fields["paused_at"] = None
    return step, fields


def _at(application: Application, step: Step | None) -> dict[str, Any]:
    """The claim: the application's row, if it is still at `step` (None: at no step, as a
    new one is). Of two writers leaving the same step at once, the second waits for the
    first's lock on the row, then finds it moved on: ApplicationChanged, and its transaction
    is rolled back with whatever it wrote before (a next step of its own)."""
    return {"pk": application.pk, "current_step": step.pk if step is not None else None}


def _move(application: Application, fields: dict[str, Any]) -> None:
    """Write `fields` to a new application, still at no step (`_at`): its first move."""
    if update(Application, _at(application, None), **fields) != 1:
        raise ApplicationChanged(application)
    for name, value in fields.items():
        setattr(application, name, value)


def _leave(
    application: Application, fields: dict[str, Any], step: Step, clock: Clock, now: datetime
) -> None:
    """Move the application on from `step` if it is still there (`_at`) and close that step,
    in one statement where the database allows (`updates`). A writer that finds the
    application moved on raises ApplicationChanged, and its transaction takes back the step
    it closed too."""
    spec = clock.process.steps[step.state]
    unit = spec.sla.unit if spec.sla else "d"
    closing = {
        "left_at": now,
        "working_time": clock.calendar.elapsed(step.entered_at, now, unit),
        "breached": step.due_at is not None and now > step.due_at,
    }
    moved, _ = updates(
        (Application, _at(application, step), fields),
        (Step, {"pk": step.pk}, closing),
    )
    if moved != 1:
        raise ApplicationChanged(application)
    for name, value in fields.items():
        setattr(application, name, value)
    for name, value in closing.items():
        setattr(step, name, value)


def _claim(application: Application, now: datetime) -> Step:
    """Lock in the step the caller saw: exactly one of two simultaneous writers wins."""
    step = application.current_step
    if step is None or application.is_closed:
        raise _closed(application)
    if update(Application, _at(application, step), updated_at=now) != 1:
        raise ApplicationChanged(application)
    return step


def _attached(application_id: int, step_id: int) -> QuerySet[Attachment, str]:
    """The requirements of the documents attached during a step visit."""
    return (
        Attachment.objects.filter(application_id=application_id, event__step_id=step_id)
        .order_by()
        .values_list("requirement", flat=True)
    )


_ATTACHED = Compiled(_attached)


@transaction.atomic
def take_action(
    application: Application,
    *,
    actor: User | None,
    action: str,
    comment: str = "",
    documents: Mapping[str, str | UUID] | None = None,
    kind: str = Event.Kind.ACTION,
    assign_to: User | None = None,
) -> Event:
    """Take a process action. `actor=None` is the system (timeouts). Raises ActionRefused
    (the engine's reason), InvalidInput (bad documents) or ApplicationChanged (409).

    With `assign_to`, the actor also assigns the step the action opens, in the same
    transaction (as `assign`, whose refusals undo the action too); the action's Event is
    returned."""
    if assign_to is not None and actor is None:
        raise ValueError("only a person assigns a step")
    clock = Clock.of(application)
    roles = {SYSTEM} if actor is None else roles_of(actor, application)
    if actor is not None and not roles:
        raise NotAllowed(_("You may read this application but not change it."))
    step = application.current_step
    if step is None or application.is_closed:
        raise _closed(application)
    _check_comment(comment)
    errors: dict[str, str] = {}
    uploads = (
        _uploads(
            actor,
            documents or {},
            allowed=_attachable(application, clock.process, roles),
            errors=errors,
        )
        if actor is not None
        else []
    )
    if errors:
        raise InvalidInput(errors)
    # What was attached during this visit matters only to a step that requires documents.
    requires = clock.process.steps[step.state].requires
    attached = {code for code, _ in uploads}
    if requires:
        attached |= set(_ATTACHED.all(application_id=application.pk, step_id=step.pk))
    chart = chart_of(application)
    move = apply(
        clock.process,
        state=step.state,
        action=action,
        roles=roles,
        chart=chart,
        comment=comment,
        attached=attached,
    )
    now = timezone.now()
    # The next step first (assigned as asked), then the claim in the move onto it: one
    # statement where a claim of its own took two; on PostgreSQL the step left is closed in
    # that statement too (`_leave`).
    fields = _next_step(application, clock, move.to_state, now, assignee=assign_to)[1]
    _leave(application, fields, step, clock, now)
    data: dict[str, Any] = {"documents": sorted(code for code, _ in uploads)}
    next_spec = clock.process.steps[move.to_state]
    if next_spec.fee and application.service.fee_amount is not None:
        data["challan"] = {
            "amount": str(application.service.fee_amount),
            "currency": application.service.fee_currency,
            "reference": f"{application.tracking_no}-{application.steps.count()}",
        }
    event = _event(
        application,
        kind=kind,
        actor=actor,
        actor_role=capacity(roles, step.owner_role, chart),
        step=step,
        from_state=step.state,
        to_state=move.to_state,
        action=action,
        text=comment.strip(),
        created_at=now,
        data=data,
    )
    events = [event]
    if assign_to is not None and actor is not None:  # (the new step was written assigned)
        events.append(_assignment(application, actor=actor, assignee=assign_to))
    insert(events)  # the action's Event and its assignment's, in one statement
    _bind(uploads, application, event)
    for each in events:
        _announce(each)
    return event


def _attachable(application: Application, process: Process, roles: set[str]) -> set[str]:
    """The requirement codes `roles` may attach now: those collected at submission, and the
    current step's own `requires` only for those who may act on that step (so an applicant
    cannot supply the inspection report an official must attach)."""
    codes = {r["code"] for r in collected_at_submission(application.service, process)}
    step = application.current_step
    if step is not None:
        spec = process.steps[step.state]
        if spec.requires and chart_of(application).may_act(roles, step.owner_role):
            codes |= set(spec.requires)
    return codes


def _check_comment(text: str) -> None:
    if len(text) > COMMENT_LIMIT:
        raise InvalidInput(
            {
                "text": _("at most %(limit)d characters (this has %(count)d)")
                % {"limit": COMMENT_LIMIT, "count": len(text)}
            }
        )


@transaction.atomic
def resubmit(
    application: Application,
    *,
    actor: User,
    comment: str = "",
    documents: Mapping[str, str | UUID] | None = None,
    assign_to: User | None = None,
) -> Event:
    """The citizen sends a returned application back, with corrections and new documents
    (`assign_to` as for `take_action`)."""
    step = application.current_step
    if step is None or step.owner_role != CITIZEN:
        raise ActionRefused("unknown_action", _("The application is not waiting for a correction."))
    process = process_of(application.process)
    actions = process.steps[step.state].actions
    choice = (
        "resubmit"
        if "resubmit" in actions
        else next(
            (
                name
                for name, act in actions.items()
                if act.by == "owner" and process.steps[act.to].owner not in (None, CITIZEN)
            ),
            None,
        )
    )
    if choice is None:
        raise ActionRefused("unknown_action", _("This step cannot be resubmitted."))
    return take_action(
        application,
        actor=actor,
        action=choice,
        comment=comment,
        documents=documents,
        kind=Event.Kind.RESUBMITTED,
        assign_to=assign_to,
    )


@transaction.atomic
def withdraw(
    application: Application, *, actor: User, reason: str = "", assign_to: User | None = None
) -> Event:
    """The applicant withdraws an application that no one has decided yet. With `assign_to`
    (as for `take_action`) it is refused as a whole: a withdrawn application has no step."""
    if actor.pk != application.citizen_id:
        raise NotAllowed(_("Only the applicant may withdraw an application."))
    if not may_withdraw(actor, application):
        raise _closed(application)
    _check_comment(reason)
    step = application.current_step
    if step is None:
        raise _closed(application)
    now = timezone.now()
    clock = Clock.of(application)
    fields = {
        "state": WITHDRAWN,
        "category": Category.CLOSED_WITHDRAWN,
        "outcome": "withdrawn",
        "closed_at": now,
        "current_step": None,
        "paused_at": None,
        "updated_at": now,
    }
    _leave(application, fields, step, clock, now)
    event = _record(
        application,
        kind=Event.Kind.WITHDRAWN,
        actor=actor,
        actor_role=CITIZEN,
        step=step,
        from_state=step.state,
        to_state=WITHDRAWN,
        text=reason.strip(),
        created_at=now,
    )
    _announce(event)
    if assign_to is not None:
        _assign(application, actor=actor, assignee=assign_to, claimed=True)
    return event


# Conversation and documents -----------------------------------------------------------


@transaction.atomic
def add_comment(
    application: Application, *, actor: User, text: str, internal: bool = False
) -> Event:
    """A public comment on the current step (anyone who may act), or an internal note
    (officials only). Monitors read; they do not write."""
    if not text.strip():
        raise InvalidInput({"text": _("write something")})
    _check_comment(text)
    roles = roles_of(actor, application)
    if not roles:
        raise NotAllowed(_("You may read this application but not comment on it."))
    if internal and not sees_internal(actor, application):
        raise NotAllowed(_("Only officials write internal notes."))
    owner = application.current_step.owner_role if application.current_step else ""
    event = _record(
        application,
        kind=Event.Kind.COMMENT,
        actor=actor,
        actor_role=capacity(roles, owner, chart_of(application)) if owner else sorted(roles)[0],
        step=application.current_step,
        text=text.strip(),
        visibility=Event.Visibility.INTERNAL if internal else Event.Visibility.PUBLIC,
    )
    _announce(event)
    return event


@transaction.atomic
def attach_documents(
    application: Application, *, actor: User, documents: Mapping[str, str | UUID]
) -> Event:
    """Attach documents to the current step (an inspection report, a corrected copy)."""
    roles = roles_of(actor, application)
    if not roles:
        raise NotAllowed(_("You may read this application but not add documents to it."))
    if application.is_closed:
        raise _closed(application)
    errors: dict[str, str] = {}
    if not documents:
        errors["documents"] = _("attach at least one document")
    process = process_of(application.process)
    allowed = _attachable(application, process, roles)
    uploads = _uploads(actor, documents, allowed=allowed, errors=errors)
    if errors:
        raise InvalidInput(errors)
    owner = application.current_step.owner_role if application.current_step else ""
    event = _record(
        application,
        kind=Event.Kind.DOCUMENTS,
        actor=actor,
        actor_role=capacity(roles, owner, chart_of(application)),
        step=application.current_step,
        data={"documents": sorted(code for code, _ in uploads)},
    )
    _bind(uploads, application, event)
    _announce(event)
    return event


@transaction.atomic
def assign(application: Application, *, actor: User, assignee: User) -> Event:
    """A supervisor or head hands the current step to an official holding its role."""
    return _assign(application, actor=actor, assignee=assignee)


def _assign(
    application: Application, *, actor: User, assignee: User, claimed: bool = False
) -> Event:
    """`assign`, in the caller's transaction; `claimed` when the caller has already claimed
    the application in it (its row stays locked, and its current step is the caller's)."""
    event = _assignment(application, actor=actor, assignee=assignee)
    step = event.step
    assert step is not None  # noqa: S101 - _assignment refuses an application with no step
    if not claimed:
        _claim(application, event.created_at)
    update(Step, {"pk": step.pk}, assignee=assignee)
    (event,) = insert([event])
    _announce(event)
    return event


def _assignment(application: Application, *, actor: User, assignee: User) -> Event:
    """The Event of `actor` assigning the current step to `assignee`, not yet written, once
    the assignment is found allowed (raises NotAllowed, InvalidInput or ActionRefused); the
    step in memory is given its assignee."""
    step = application.current_step
    if step is None or step.owner_role == CITIZEN:
        raise ActionRefused("not_allowed", _("Only a step owned by an official can be assigned."))
    chart = chart_of(application)
    roles = roles_of(actor, application)
    if not may_assign(actor, application):
        raise NotAllowed(
            _("Only a supervisor of the %(role)s may assign this step.") % {"role": step.owner_role}
        )
    if step.owner_role not in roles_of(assignee, application):
        raise InvalidInput(
            {
                "user": _("%(user)s holds no %(role)s posting for this application")
                % {"user": assignee, "role": step.owner_role}
            }
        )
    step.assignee = assignee
    return _event(
        application,
        kind=Event.Kind.ASSIGNED,
        actor=actor,
        actor_role=capacity(roles, step.owner_role, chart),
        step=step,
        visibility=Event.Visibility.INTERNAL,
        data={"assignee": assignee.pk, "assignee_name": assignee.name},
        created_at=timezone.now(),
    )


# The system: escalation and timeouts (run by the worker's timers) ----------------------


@transaction.atomic
def escalate_step(step: Step, *, level: int) -> Event | None:
    """Record that an open organization's step is late enough to reach the `level`-th role
    up its owner's chain (1: the owner's supervisor, … up to the head). Once per level: the
    step's `escalation_level` rises from level - 1 by a conditional update, so a second
    attempt (another worker, a rerun) writes nothing and returns None; so does a step that
    was left meanwhile or a level above the head."""
    application = Application.objects.select_related("organization").get(pk=step.application_id)
    chain = chart_of(application).chain(step.owner_role)
    if step.owner_role in ("", CITIZEN) or not 1 <= level <= len(chain):
        return None
    updated = Step.objects.filter(
        pk=step.pk, left_at__isnull=True, escalation_level=level - 1
    ).update(escalation_level=level)
    if updated != 1:
        return None
    step.escalation_level = level
    event = _record(
        application,
        kind=Event.Kind.ESCALATED,
        actor=None,
        actor_role=SYSTEM,
        step=step,
        from_state=step.state,
        to_state=step.state,
        visibility=Event.Visibility.INTERNAL,
        data={
            "level": level,
            "to_role": chain[level - 1],
            "owner_role": step.owner_role,
            "due_at": step.due_at.isoformat() if step.due_at else None,
        },
    )
    _announce(event)
    return event


def rearm_escalations(*, kind_id: int) -> int:
    """Have the timers look again at the open officials' steps, in organizations of this
    kind, that had no escalation left (`escalate_at` empty): after a change to the role
    chart, some may have a level to reach. The timers then find their next level's time, or
    leave them be again. Returns how many."""
    return (
        Step.objects.filter(
            left_at=None,
            escalate_at=None,
            due_at__isnull=False,
            organization__kind_id=kind_id,
        )
        .exclude(owner_role__in=["", CITIZEN])
        .update(escalate_at=F("due_at"))
    )


def time_out_step(step: Step) -> Event | None:
    """The system takes a step's `timeout` action once its timeline has run out (an
    application left uncorrected lapses). None when there is nothing to do: the step has no
    timeout, is not yet due, or is no longer the current one (someone acted first)."""
    application = Application.objects.select_related(
        "organization", "process", "service", "jurisdiction", "current_step"
    ).get(pk=step.application_id)
    current = application.current_step
    if current is None or current.pk != step.pk or current.left_at is not None:
        return None
    if current.due_at is None or current.due_at > timezone.now():
        return None
    action = timeout_action(process_of(application.process), current.state)
    if action is None:
        return None
    try:
        return take_action(application, actor=None, action=action)
    except (ApplicationChanged, ActionRefused):
        return None  # acted on meanwhile: the citizen resubmitted, or another worker was first
