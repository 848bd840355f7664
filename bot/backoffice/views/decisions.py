"""Approve, or reject with a reason: the one reading of a reviewer's decision form.

Why a helper: the listing queue, the held product reviews and the merchant applications each read
``/approve`` or ``/reject`` from the route, a reason from the form, refused a rejection without one and
audited the outcome, each in its own words. Here it is once: :func:`read_decision` gives the decision
(or None when a rejection came without its required reason, so the page can say so with a 400), and
:func:`audit_decision` records ``<subject>.approve`` / ``<subject>.reject`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.backoffice.pages import field, form, operators, visit

REASON_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Decision:
    approve: bool
    #: the reviewer's reason (required to reject, optional to approve); None when not given
    reason: str | None
    #: further fields the form asked for (an application's suggestions), by name
    extra: dict[str, str]

    @property
    def verb(self) -> str:
        return "approve" if self.approve else "reject"


async def read_decision(
    request: web.Request,
    *,
    reason_field: str = "reason",
    extra: tuple[str, ...] = (),
    reason_required: bool = True,
) -> Decision | None:
    """The decision in ``request`` (route part ``decision``: approve or reject). None when a rejection
    has no reason and one is required: the caller answers 400 with its own explanation."""
    approve = request.match_info["decision"] == "approve"
    values = await form(request)
    reason = field(values, reason_field, REASON_LIMIT) or None
    if not approve and reason is None and reason_required:
        return None
    return Decision(approve, reason, {name: field(values, name, REASON_LIMIT) for name in extra})


def reviewer(request: web.Request) -> str:
    """The signed-in reviewer as the core's history names them."""
    return f"operator:{visit(request).me().public_id}"


async def audit_decision(
    request: web.Request, decision: Decision, subject: str, object_id: str, detail: str
) -> None:
    """One audit row: ``<subject>.approve`` or ``<subject>.reject``, the reason after the detail."""
    written = detail + (f": {decision.reason}" if decision.reason else "")
    action = f"{subject}.{decision.verb}"
    await operators(request).record(visit(request).actor, action, subject, object_id, written)
