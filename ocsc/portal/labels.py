"""Words the process specs use, in the user's language.

Step and role names come from the catalog in every language; action codes are a small
shared vocabulary, translated here, falling back to the spec's own label or the code."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ocsc.catalog.models import label

ACTIONS = {
    "approve": _("Approve"),
    "assign": _("Assign"),
    "complete": _("Mark complete"),
    "confirm": _("Confirm payment"),
    "forward": _("Forward"),
    "lapse": _("Lapse"),
    "more_info": _("Ask for more information"),
    "pay": _("I have paid"),
    "recommend": _("Recommend"),
    "redo": _("Send back for rework"),
    "reject": _("Reject"),
    "reply": _("Send the information"),
    "resolve": _("Mark resolved"),
    "resubmit": _("Resubmit"),
    "return": pgettext_lazy("action", "Return for correction"),
    "verify": _("Verify"),
    "withdraw": _("Withdraw"),
}

CATEGORIES = {
    "open": _("In progress"),
    "waiting_citizen": _("Waiting for you"),
    "closed_ok": _("Completed"),
    "closed_rejected": _("Rejected"),
    "closed_withdrawn": _("Withdrawn"),
}

EVENTS = {
    "application.submitted": _("Application submitted"),
    "step.action": _("Action taken"),
    "application.resubmitted": _("Resubmitted with corrections"),
    "application.withdrawn": _("Withdrawn by the applicant"),
    "comment.added": _("Comment"),
    "documents.attached": _("Documents attached"),
    "step.assigned": _("Assigned"),
    "step.escalated": _("Escalated"),
}


def action_label(code: str, spec_label: dict[str, str] | None = None) -> str:
    if spec_label:
        return label(spec_label)
    known = ACTIONS.get(code)
    return str(known) if known else code.replace("_", " ").capitalize()
