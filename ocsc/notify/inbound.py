"""What OCSC answers to a text message (`POST /sms/inbound`).

- `STATUS MDN-26-000123` — from the applicant's own number: where the application is (its
  state, current step and due date). From any other number, the same answer as for a
  number that does not exist: no details.
- `STATUS` alone — the applicant's latest application.
- `HELP`, or anything else — how to ask.

Answers are in the language of the account with that phone number (English if none).
"""

import re

from ocsc.accounts.models import User
from ocsc.cases.models import Application
from ocsc.catalog.process import process_of
from ocsc.notify.render import fit_sms
from ocsc.notify.rules import format_due
from ocsc.notify.texts import STATES, TEXTS, WORDS
from ocsc.workflow import text

_WORDS = re.compile(r"[^\w-]+")
STATUS_WORDS = {"STATUS", "STAT", "S"}


def reply_to(phone: str, message: str) -> str:
    words = [w for w in _WORDS.split(message.strip().upper()) if w]
    user = User.objects.filter(phone=phone, is_active=True).first()
    language = user.language if user is not None else "en"
    if not words or words[0] not in STATUS_WORDS:
        return _say("help_reply", language, {})
    applications = Application.objects.select_related(
        "current_step", "process", "organization__calendar"
    ).filter(citizen__phone=phone)
    if len(words) > 1:
        tracking_no = words[1]
        application = applications.filter(tracking_no=tracking_no).first()
    else:
        application = applications.order_by("-submitted_at", "-pk").first()
        tracking_no = ""
        if application is None:
            return _say("help_reply", language, {})
    if application is None:
        return _say("unknown_reply", language, {"tracking_no": tracking_no})
    return _status(application, language)


def _status(application: Application, language: str) -> str:
    process = process_of(application.process)
    step = application.current_step
    state = step.state if step is not None else application.state
    spec = process.steps.get(state)
    values = {
        "tracking_no": application.tracking_no,
        "state": text(STATES.get(application.category), language) or application.category,
        "step": text(spec.name, language) if spec is not None and spec.name else _plain(state),
        "due": text(WORDS["no_due"], language),
    }
    if step is not None and step.due_at is not None:
        hours = spec is not None and spec.sla is not None and spec.sla.unit == "h"
        values["due"] = format_due(
            step.due_at, application.organization.calendar.timezone, hours=hours
        )
    reason = "closed_reply" if application.is_closed else "status_reply"
    return _say(reason, language, values)


def _say(reason: str, language: str, values: dict[str, str]) -> str:
    texts = TEXTS[reason].get(language) or TEXTS[reason]["en"]
    return fit_sms(texts["sms"], values)


def _plain(state: str) -> str:
    return state.replace("_", " ").capitalize()
