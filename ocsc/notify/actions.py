"""Every write of notify: notifications made from Events and timers, their delivery with
retries, and what people choose.

Delivery is idempotent by construction:

- an Event is dispatched once: a conditional update sets its `dispatched_at` in the same
  transaction that writes its notifications (under a row lock that others skip);
- a notification exists once per recipient, channel and subject (a unique constraint);
- a notification is sent by whoever claims it (status queued → sending, conditionally),
  and its outcome is written only by that claim. A claim left by a worker that died is taken
  back by the sweep after NOTIFY_SEND_LEASE_SECONDS and sent again with the same reference,
  which a deduplicating gateway delivers only once.
"""

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Count, F, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone

from ocsc.accounts.models import User
from ocsc.cases.models import Event
from ocsc.catalog.models import Organization
from ocsc.compiled import Compiled, insert, update, updates
from ocsc.notify import channels, rules
from ocsc.notify.models import (
    Channel,
    DeliveryAttempt,
    InboundSms,
    Notification,
    Preferences,
    PushSubscription,
    SmsMessage,
)
from ocsc.notify.queries import chosen_channels, push_enabled, push_subscribers
from ocsc.notify.render import render
from ocsc.notify.sms import queue_sms
from ocsc.workflow import text as in_language

log = logging.getLogger(__name__)


# Making notifications -------------------------------------------------------------------


def _undispatched(event_ids: list[int]) -> QuerySet[Event]:
    """The Events with all that their messages say, locked (those another worker has
    locked are skipped), oldest first."""
    return (
        Event.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related(
            "application__citizen",
            "application__service",
            "application__organization__calendar",
            "application__organization__kind",  # the kind's roles, kept (roles_here)
            "application__jurisdiction",
            "application__process",
            "step__assignee",
        )
        # What no message says: JSON the rows would decode for nothing, and password hashes.
        # (A message that came to need one would read it apart: tests/notify count them.)
        .defer(
            "application__data",
            "application__location",
            "application__service__description",
            "application__service__requirements",
            "application__service__fields",
            "application__organization__calendar__workweek",
            "application__organization__calendar__extra_holidays",
            "application__citizen__password",
            "step__assignee__password",
        )
        .filter(pk__in=event_ids, dispatched_at__isnull=True)
        .order_by("pk")
    )


_UNDISPATCHED = Compiled(_undispatched)


def dispatch_event(event_id: int, *, send_now: bool = False) -> int:
    """Make the notifications of an Event and mark it dispatched, once; returns how many
    were made (0 when it was dispatched already or is being dispatched elsewhere). With
    `send_now` (the worker's `dispatch` task), this process then sends them (see notify)."""
    return sum(dispatch_events([event_id], send_now=send_now).values())


@transaction.atomic
def dispatch_events(event_ids: Sequence[int], *, send_now: bool = False) -> dict[int, int]:
    """`dispatch_event` for several Events at once, in one transaction and a few statements
    whatever their number (the worker merges the dispatch tasks waiting in the queue).
    Returns how many notifications each Event this call dispatched made; an Event dispatched
    already, or locked by another dispatch, is left out."""
    now = timezone.now()
    events = _UNDISPATCHED.all(event_ids=sorted(set(event_ids)))
    if not events:
        return {}
    mine = [event.pk for event in events]
    # Locked by this transaction and still undispatched: the update takes them all (its SQL
    # built once per number of Events, as the read's).
    update(Event, {"pk": mine, "dispatched_at": None}, dispatched_at=now)
    # Events of one organization share its object, and so one read of its roles (the chart).
    organizations: dict[int, Organization] = {}
    messages: list[rules.Message] = []
    for event in events:
        event.dispatched_at = now
        application = event.application
        application.organization = organizations.setdefault(
            application.organization_id, application.organization
        )
        messages.extend(rules.for_event(event))
    made = dict.fromkeys(mine, 0)
    for notification in notify_rows(messages, now=now, send_now=send_now):
        if notification.event_id in made:
            made[notification.event_id] += 1
    return made


def notify(
    messages: Sequence[rules.Message], *, now: datetime | None = None, send_now: bool = False
) -> int:
    """Write each message's notifications (`notify_rows`); returns how many were written."""
    return len(notify_rows(messages, now=now, send_now=send_now))


def notify_rows(
    messages: Sequence[rules.Message], *, now: datetime | None = None, send_now: bool = False
) -> list[Notification]:
    """Write each message's notifications — in-app, and the channels the recipient chose
    for its topic that can reach them — and queue their delivery after commit. With
    `send_now` (the worker dispatching an Event), this process claims them as it writes them,
    with their first attempt, and sends them after commit: a delivery task for each cost the
    queue more than the sending, and claiming them apart cost as many statements again. If
    the process dies before it has sent them, the sweep takes the claims back after
    NOTIFY_SEND_LEASE_SECONDS, as for any sender that died. A notification that exists
    already is left alone. Returns the notifications written."""
    if not messages:
        return []
    now = now or timezone.now()
    recipients = [m.recipient for m in messages]
    chosen = chosen_channels(recipients)
    pushable = push_subscribers(recipients) if push_enabled() else set()
    rows: list[Notification] = []
    # Reversed once per call, not per message: a batch's messages share their pages.
    paths: dict[str, str] = {}
    profile = settings.SITE_URL + reverse("portal:profile")
    for message in messages:
        recipient = message.recipient
        link = _link(message, paths)
        values = _values(message, link, profile)
        for channel in dict.fromkeys([Channel.IN_APP, *chosen[recipient.pk][message.topic]]):
            address = _address(recipient, channel, pushable)
            if address is None:
                continue
            text = render(message.reason, channel, recipient.language, values)
            in_app = channel == Channel.IN_APP
            claimed = send_now and not in_app
            rows.append(
                Notification(
                    recipient=recipient,
                    channel=channel,
                    key=message.key,
                    reason=message.reason,
                    topic=message.topic,
                    application=message.application,
                    event=message.event,
                    step=message.step,
                    address=address,
                    title=text.title,
                    body=text.body,
                    link=link,
                    status=Notification.Status.SENT
                    if in_app
                    else Notification.Status.SENDING
                    if claimed
                    else Notification.Status.QUEUED,
                    sent_at=now if in_app else None,
                    attempts=1 if claimed else 0,
                    claimed_at=now if claimed else None,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    made = insert(rows, ignore_conflicts=True, returning="uuid")
    pending = [row for row in made if row.status != Notification.Status.SENT]
    if send_now and pending:
        attempts = insert(
            [DeliveryAttempt(notification=row, number=1, started_at=now) for row in pending]
        )
        sending = list(zip(pending, attempts, strict=True))
        transaction.on_commit(partial(_send_claimed, sending, claimed_at=now))
    elif pending:
        transaction.on_commit(partial(_enqueue_all, [row.pk for row in pending]))
    return made


def _link(message: rules.Message, paths: dict[str, str]) -> str:
    """The page the notification opens: the application, or the message's own. `paths`
    keeps the applications' pages reversed so far, by tracking number."""
    path = message.link
    if not path and message.application is not None:
        number = message.application.tracking_no
        path = paths.get(number) or paths.setdefault(
            number, reverse("portal:application", args=[number])
        )
    return settings.SITE_URL + path if path.startswith("/") else path


def _values(message: rules.Message, link: str, profile: str) -> dict[str, str]:
    """The message's values in the recipient's language; `profile` is the page where they
    choose how they are told."""
    language = message.recipient.language
    values = {
        name: in_language(value, language) if isinstance(value, Mapping) else str(value)
        for name, value in message.values.items()
    }
    values["name"] = message.recipient.name or message.recipient.phone
    values["link"] = link
    values["profile"] = profile
    return values


def _address(user: User, channel: str, pushable: set[int]) -> str | None:
    """Where `channel` reaches `user`, or None when it cannot."""
    if channel == Channel.SMS:
        return user.phone or None
    if channel == Channel.EMAIL:
        return user.email or None
    if channel == Channel.PUSH:
        return "" if user.pk in pushable else None
    return ""


# Delivering -----------------------------------------------------------------------------


def deliver(notification_id: int) -> str | None:
    """One attempt at sending a queued notification that is due; returns its new status,
    or None when it was not this caller's to send (sent, claimed elsewhere, not due)."""
    return deliver_many([notification_id]).get(notification_id)


def deliver_many(notification_ids: Sequence[int]) -> dict[int, str]:
    """One attempt at sending each queued notification that is due, in a few statements
    whatever their number; returns the new status of each that was this caller's to send.

    Each is claimed (committed before anything is sent, so that the sweep can resume a
    claim whose sender died), its attempt recorded, sent, and then its outcome written on
    condition that the claim is still this caller's."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        pk__in=notification_ids, status=Notification.Status.QUEUED, next_attempt_at__lte=now
    ).update(status=Notification.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return {}
    notifications = list(
        Notification.objects.filter(
            pk__in=notification_ids, status=Notification.Status.SENDING, claimed_at=now
        ).order_by("pk")
    )
    # Counted, not taken from `attempts`: a retry from the admin starts that count again.
    earlier = dict(
        DeliveryAttempt.objects.filter(notification__in=notifications)
        .order_by()
        .values("notification")
        .annotate(made=Count("pk"))
        .values_list("notification", "made")
    )
    attempts = DeliveryAttempt.objects.bulk_create(
        DeliveryAttempt(notification=n, number=earlier.get(n.pk, 0) + 1, started_at=now)
        for n in notifications
    )
    return _attempt(list(zip(notifications, attempts, strict=True)), claimed_at=now)


def _attempt(
    claimed: Sequence[tuple[Notification, DeliveryAttempt]], *, claimed_at: datetime
) -> dict[int, str]:
    """Send notifications claimed at `claimed_at`, each with its attempt recorded, and write
    how each went; a failure worth retrying is queued again for later."""
    outcomes: dict[int, dict[str, Any]] = {}
    for notification, attempt in claimed:
        outcomes[notification.pk] = fields = _send(notification, claimed_at)
        attempt.finished_at = timezone.now()
        attempt.error = fields["error"]
        attempt.ok = not attempt.error
    if len(claimed) == 1:
        # One notification (an Event's SMS, say): its attempt and its outcome in one statement.
        ((notification, attempt),) = claimed
        fields = outcomes[notification.pk]
        finished = {"finished_at": attempt.finished_at, "ok": attempt.ok, "error": attempt.error}
        _, written = updates(
            (DeliveryAttempt, {"pk": attempt.pk}, finished),
            (Notification, _mine(notification.pk, claimed_at), fields),
        )
        statuses = {notification.pk: str(fields["status"])} if written else {}
    else:
        attempts = [attempt for _, attempt in claimed]
        DeliveryAttempt.objects.bulk_update(attempts, ["finished_at", "ok", "error"])
        statuses = _write_outcomes(outcomes, claimed_at=claimed_at)
    for pk, status in statuses.items():
        if status == Notification.Status.QUEUED:
            enqueue_delivery(pk, at=outcomes[pk]["next_attempt_at"])
    return statuses


def _send(notification: Notification, now: datetime) -> dict[str, Any]:
    """Hand the notification to its channel; the fields its outcome sets."""
    try:
        reference = channels.send(notification)
    except channels.Undeliverable as exc:
        return {"status": Notification.Status.FAILED, "error": str(exc)}
    except Exception as exc:
        error = str(exc) or exc.__class__.__name__
        log.warning("notification %s (%s) failed: %s", notification.pk, notification.channel, error)
        if notification.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
            return {"status": Notification.Status.FAILED, "error": error}
        return {
            "status": Notification.Status.QUEUED,
            "error": error,
            "next_attempt_at": now + backoff(notification.attempts),
        }
    return {
        "status": Notification.Status.SENT,
        "error": "",
        "reference": reference[:200],
        "sent_at": timezone.now(),
    }


def _mine(pk: int, claimed_at: datetime) -> dict[str, Any]:
    """A notification's row, if the claim made at `claimed_at` is still the sender's (the
    sweep may have taken it back meanwhile)."""
    return {"pk": pk, "status": Notification.Status.SENDING, "claimed_at": claimed_at}


def _write_outcomes(
    outcomes: Mapping[int, Mapping[str, Any]], *, claimed_at: datetime
) -> dict[int, str]:
    """Write each outcome where the claim is still this caller's (the sweep may have taken a
    notification back meanwhile); the sent ones in one statement. Returns what was written."""
    mine = Notification.objects.filter(status=Notification.Status.SENDING, claimed_at=claimed_at)
    written: dict[int, str] = {}
    sent = {pk: f for pk, f in outcomes.items() if f["status"] == Notification.Status.SENT}
    if len(sent) == 1:
        sent = {}  # one alone: written below, without the CASEs
    if sent:
        count = mine.filter(pk__in=sent).update(
            status=Notification.Status.SENT,
            error="",
            reference=Case(*(When(pk=pk, then=Value(f["reference"])) for pk, f in sent.items())),
            sent_at=Case(*(When(pk=pk, then=Value(f["sent_at"])) for pk, f in sent.items())),
        )
        done = (
            set(sent)
            if count == len(sent)
            else set(
                Notification.objects.filter(
                    pk__in=sent, status=Notification.Status.SENT, claimed_at=claimed_at
                ).values_list("pk", flat=True)
            )
        )
        written.update((pk, Notification.Status.SENT) for pk in done)
    for pk, fields in outcomes.items():
        if pk not in sent and update(Notification, _mine(pk, claimed_at), **fields):
            written[pk] = str(fields["status"])
    return written


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure: doubling, up to a ceiling."""
    seconds = settings.NOTIFY_RETRY_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.NOTIFY_RETRY_MAX_SECONDS))


def enqueue_delivery(notification_id: int, *, at: datetime | None = None) -> None:
    """Queue the delivery task (at `at` where the task backend can wait; else the sweep
    picks the notification up when it is due)."""
    from ocsc.notify.tasks import deliver_notification

    task = deliver_notification
    if at is not None:
        if not task.get_backend().supports_defer:
            return
        task = task.using(run_after=at)
    try:
        task.enqueue(notification_id)
    except Exception:
        log.exception("could not queue notification %s; the sweep will", notification_id)


def _enqueue_all(notification_ids: Iterable[int]) -> None:
    for notification_id in notification_ids:
        enqueue_delivery(notification_id)


def _send_claimed(
    claimed: Sequence[tuple[Notification, DeliveryAttempt]], *, claimed_at: datetime
) -> None:
    """After the dispatch commits: send what it claimed, one Event's notifications after
    another, each Event's outcomes written before the next is sent: should the process die
    while sending, only that Event's are in doubt (the sweep sends them again, with the same
    references). Whatever goes wrong that the channels do not catch, the sweep takes the
    claims back after their lease."""
    by_event: dict[int | None, list[tuple[Notification, DeliveryAttempt]]] = {}
    for notification, attempt in claimed:
        by_event.setdefault(notification.event_id, []).append((notification, attempt))
    try:
        for sending in by_event.values():
            _attempt(sending, claimed_at=claimed_at)
    except KeyboardInterrupt:
        raise
    except BaseException:  # contained as a task runner would: the claims stay for the sweep
        log.exception("could not send notifications %s now", [n.pk for n, _ in claimed])


def resume_notification(notification_id: int, *, status: str, since: datetime) -> bool:
    """Give a notification whose task was lost (queued, due since `since`) or whose sender
    died mid-attempt (sending, claimed at `since`) back to the worker. Conditional on what the
    sweep saw, so that of two sweeps one resumes it."""
    now = timezone.now()
    if status == Notification.Status.QUEUED:
        changed = Notification.objects.filter(
            pk=notification_id, status=status, next_attempt_at=since
        ).update(next_attempt_at=now)
    else:
        in_doubt = "in doubt: the sender stopped during this attempt; sent again"
        changed = Notification.objects.filter(
            pk=notification_id, status=status, claimed_at=since
        ).update(status=Notification.Status.QUEUED, next_attempt_at=now, error=in_doubt)
        if changed:
            DeliveryAttempt.objects.filter(
                notification_id=notification_id, finished_at__isnull=True
            ).update(finished_at=now, error=in_doubt)
    if changed:
        transaction.on_commit(partial(enqueue_delivery, notification_id))
    return bool(changed)


def retry_notifications(notification_ids: Iterable[int]) -> int:
    """Try again notifications that gave up (the admin's retry button), with a fresh count
    of attempts. Sent ones are never sent again."""
    ids = list(notification_ids)
    retried = list(
        Notification.objects.filter(pk__in=ids, status=Notification.Status.FAILED).values_list(
            "pk", flat=True
        )
    )
    Notification.objects.filter(pk__in=retried, status=Notification.Status.FAILED).update(
        status=Notification.Status.QUEUED, attempts=0, next_attempt_at=timezone.now()
    )
    transaction.on_commit(partial(_enqueue_all, retried))
    return len(retried)


def resume_sms(message_id: int, *, status: str, since: datetime | None) -> bool:
    """The same for a one-off SMS (sign-in code, reply) whose task was lost."""
    changed = SmsMessage.objects.filter(pk=message_id, status=status, claimed_at=since).update(
        status=SmsMessage.Status.QUEUED, claimed_at=timezone.now()
    )
    if changed:
        from ocsc.notify.sms import deliver_sms

        transaction.on_commit(partial(deliver_sms.enqueue, message_id))
    return bool(changed)


# What people choose ---------------------------------------------------------------------


@transaction.atomic
def set_channels(user: User, choices: Mapping[str, Iterable[str]]) -> Preferences:
    """Keep the channels `user` chose per topic (unknown topics and channels are ignored;
    in-app is always on and not stored)."""
    allowed = set(rules.CHOOSABLE_CHANNELS)
    clean = {
        topic: sorted(set(chosen) & allowed)
        for topic, chosen in choices.items()
        if topic in rules.DEFAULT_CHANNELS
    }
    preferences, _ = Preferences.objects.update_or_create(
        user=user, defaults={"channels": clean, "updated_at": timezone.now()}
    )
    return preferences


def push_service_allowed(endpoint: str) -> bool:
    """Whether `endpoint` belongs to a known push service (PUSH_SERVICE_HOSTS): the worker
    posts to it, so it must not be any address a browser could name. An entry is a host
    (https, that host or below it) or an exact origin such as http://127.0.0.1:8123."""
    parts = urlsplit(endpoint)
    origin = f"{parts.scheme}://{parts.netloc}"
    host = (parts.hostname or "").lower()
    for allowed in settings.PUSH_SERVICE_HOSTS:
        if "://" in allowed:
            if origin == allowed.rstrip("/"):
                return True
        elif parts.scheme == "https" and (host == allowed or host.endswith("." + allowed)):
            return True
    return False


@transaction.atomic
def subscribe_push(
    user: User, *, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> PushSubscription:
    """Keep a browser's push subscription for `user` (a device changing hands moves).
    Raises ValueError for an endpoint that is not a known push service's."""
    if len(endpoint) > 1000 or not push_service_allowed(endpoint):
        raise ValueError("This is not the address of a known push service.")
    if not p256dh or not auth or len(p256dh) > 200 or len(auth) > 100:
        raise ValueError("The subscription's keys are missing or too long.")
    subscription, _ = PushSubscription.objects.update_or_create(
        endpoint=endpoint,
        defaults={"user": user, "p256dh": p256dh, "auth": auth, "user_agent": user_agent[:300]},
    )
    return subscription


def unsubscribe_push(user: User, *, endpoint: str) -> int:
    deleted, _ = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    return deleted


def mark_read(user: User, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's in-app notifications read (all of them without ids)."""
    unread = Notification.objects.filter(
        recipient=user, channel=Channel.IN_APP, read_at__isnull=True
    )
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    return unread.update(read_at=timezone.now())


# SMS in ---------------------------------------------------------------------------------


@transaction.atomic
def receive_sms(phone: str, text: str) -> SmsMessage:
    """Answer a text: `STATUS <tracking number>` from the applicant's own number gets the
    state, step and due date; anyone else, the same reply as for a number that does not
    exist. `HELP` (or anything else) explains."""
    from ocsc.notify.inbound import reply_to

    reply = queue_sms(phone, reply_to(phone, text))
    InboundSms.objects.create(phone=phone, text=text[:500], reply=reply)
    return reply
