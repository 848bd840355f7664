"""What the after-sales desk tells people, one subscriber per event:

* the shopper hears of every desk action on their case, in their language, with the button that
  lets them do the next thing (enter the return parcel's tracking number, answer a question, rate);
* an overdue case (no first answer in 24 hours) alerts the staff queue (``StaffQueue("agent")``,
  which the staff group relays to Telegram), and, still unanswered later, the admins
  (``StaffQueue("admin")``), in the queue's language (its first member's);
* the merchant of the items hears of a new case on them.
"""

from __future__ import annotations

from bot.notifications.compose import Notification, NotificationSubscribers, Phrase, Writing
from bot.notifications.recipients import Merchant, Shopper, StaffQueue
from commerce_core.api import (
    AfterSalesDeskUpdate,
    AfterSalesOpened,
    AfterSalesOverdue,
    CaseUpdate,
    Commerce,
    Money,
    NotFound,
)
from dialogs.messages import Button, Reply, TextReply
from dialogs.payloads import CaseAnswer, CaseParcel, RateCase

ESCALATION = "escalation"


def _desk_replies(event: AfterSalesDeskUpdate, t: Phrase) -> list[Reply]:
    number, update, detail = event.case_number, event.update, event.detail
    kind = t(f"case_kind.{event.kind}") if event.kind else ""
    if update == CaseUpdate.ACCEPTED:
        text = t("desk.notify.accepted", kind=kind, number=number)
        if detail:
            text += "\n" + t("desk.notify.accepted_note", detail=detail)
        if event.returns_address:
            text += "\n" + t("desk.notify.send_to", address=event.returns_address)
            return [TextReply(text, (Button.of(t("desk.button.send_parcel"), CaseParcel(number)),))]
        return [TextReply(text)]
    if update == CaseUpdate.RETURNS_ADDRESS:
        button = Button.of(t("desk.button.send_parcel"), CaseParcel(number))
        return [TextReply(t("desk.notify.returns_address", number=number, detail=detail), (button,))]
    if update == CaseUpdate.REJECTED:
        return [TextReply(t("desk.notify.rejected", kind=kind, number=number, detail=detail))]
    if update == CaseUpdate.INFO_REQUESTED:
        button = Button.of(t("desk.button.answer"), CaseAnswer(number))
        return [TextReply(t("desk.notify.info_requested", number=number, detail=detail), (button,))]
    if update == CaseUpdate.REFUNDED:
        amount = Money(event.amount, event.currency).format()
        key = "desk.notify.refunded_full" if detail == "full" else "desk.notify.refunded_partial"
        return [TextReply(t(key, number=number, amount=amount))]
    if update == CaseUpdate.REPAIR_STAGE:
        return [TextReply(t(f"desk.notify.repair.{detail}", number=number))]
    if update == CaseUpdate.CLOSED:
        stars = tuple(Button.of(t("desk.button.rate", rating=n), RateCase(number, n)) for n in range(1, 6))
        return [TextReply(t("desk.notify.closed", number=number), stars)]
    if update in (
        CaseUpdate.EXCHANGE_RECORDED,
        CaseUpdate.RETURN_RECEIVED,
        CaseUpdate.REPLACEMENT_SHIPPED,
    ):
        return [TextReply(t(f"desk.notify.{update}", number=number, detail=detail))]
    return []  # an update this version does not know: nothing rather than a wrong message


async def desk_update(event: AfterSalesDeskUpdate, writing: Writing) -> list[Notification]:
    def write(t: Phrase) -> list[Reply]:
        return _desk_replies(event, t)

    return await writing.to(Shopper(event.customer_id), write)


async def case_overdue(event: AfterSalesOverdue, writing: Writing) -> list[Notification]:
    """To the staff queue (an alert) or the admins (an escalation), as the queue recipient itself, so
    whatever serves the queue (its members' bound chats, the Telegram staff group) is told."""
    queue = StaffQueue("admin" if event.level == ESCALATION else "agent")
    key = "desk.staff.overdue_escalation" if event.level == ESCALATION else "desk.staff.overdue_alert"

    def write(t: Phrase) -> list[Reply]:
        text = t(key, number=event.case_number, order=event.order_number, minutes=event.overdue_minutes)
        return [TextReply(text)]

    return await writing.to(queue, write, dedup_key=f"{writing.dedup_key}:case-{queue.role}")


class NewCaseForMerchants:
    """The merchant of the items hears of a new case on them (and finds it in its console)."""

    def __init__(self, commerce: Commerce) -> None:
        self._commerce = commerce

    async def __call__(self, event: AfterSalesOpened, writing: Writing) -> list[Notification]:
        try:
            case = await self._commerce.cases.case(event.case_number)
        except NotFound:
            return []  # erased with its shopper meanwhile

        def write(t: Phrase) -> list[Reply]:
            kind, reason = t(f"case_kind.{case.kind}"), t(f"reason.{case.reason_code}")
            text = t(
                "desk.merchant.new_case",
                number=case.number,
                kind=kind,
                order=case.order_number,
                reason=reason,
            )
            return [TextReply(text)]

        found: list[Notification] = []
        for merchant_id in case.merchant_ids:
            key = f"{writing.dedup_key}:case-m{merchant_id}"
            found += await writing.to(Merchant(merchant_id), write, dedup_key=key)
        return found


def subscribe_cases(subscribers: NotificationSubscribers, commerce: Commerce) -> None:
    subscribers.subscribe(AfterSalesDeskUpdate, desk_update)
    subscribers.subscribe(AfterSalesOverdue, case_overdue)
    subscribers.subscribe(AfterSalesOpened, NewCaseForMerchants(commerce))
