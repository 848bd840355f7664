"""Applying to sell, in the chat (R4.2-1): "我要开店", "開店", "become a seller", ``/merchant``.

The flow is data: one step per field of the application, each asking its question and checking the
answer the way the core will (a bad phone or e-mail is asked again, never lost), then the industry
(special industries need their permit), branded goods or not, and the documents, sent as photos one
by one. The application then goes to the reviewers' queue; the decision comes back to this chat in
the applicant's language (an outbox notification). Asking again later shows where it stands.
"""

from __future__ import annotations

import re
from typing import Any

from commerce_core.api import DomainError, FileRef, InvalidInput
from commerce_core.merchants.types import (
    Applicant,
    ApplicationForm,
    ApplicationView,
    Industry,
    MerchantStatus,
    required_documents,
)
from dialogs.context import Turn
from dialogs.flows.base import Flow, StepSpec
from dialogs.messages import Attachment

NAME = "merchant_apply"
#: a document slot's value for a file kept in the upload store (else the platform's handle)
STORED = "file:"
#: the words that start the flow whatever the NLU thinks (a command, or the plain phrases)
_START = re.compile(
    r"^\s*(/merchant(@\w+)?|我要开店|我想开店|我要開店|我想開店|开店|開店|申请开店|申請開店|"
    r"become a seller|become a merchant|i want to sell here|open a shop)\s*[!！。.]?\s*$",
    re.IGNORECASE,
)
TEXT_FIELDS = ("company_name", "legal_representative", "contact_name", "contact_phone", "contact_email")
INDUSTRY_CHOICES = tuple(Industry)
_YES = re.compile(r"^\s*(y|yes|yeah|yep|是|是的|对|對|有|要)\b", re.IGNORECASE)
_NO = re.compile(r"^\s*(n|no|nope|否|不是|没有|沒有|不)\b", re.IGNORECASE)


def is_start(text: str) -> bool:
    """Whether ``text`` asks to apply as a merchant (checked before intent routing)."""
    return bool(_START.match(text))


def _applicant(turn: Turn) -> Applicant:
    message = turn.message
    return Applicant(
        turn.lang, channel=message.channel, channel_user_id=message.user_id, customer_id=turn.customer_id
    )


async def start(turn: Turn) -> None:
    await turn.ensure_customer()
    current = await turn.commerce.onboarding.mine(_applicant(turn))
    if current is not None and current.status is not MerchantStatus.REJECTED:
        _status(turn, current)
        return
    turn.begin(NAME, TEXT_FIELDS[0])
    key = "onboarding.chat.again" if current is not None else "onboarding.chat.intro"
    turn.say(key, reasons=(current.rejection_reasons or "—") if current else "—")
    turn.say(f"onboarding.chat.ask.{TEXT_FIELDS[0]}")


def _status(turn: Turn, current: ApplicationView) -> None:
    turn.say(f"onboarding.chat.status.{current.status.value}", application=current.public_id)


def _text_step(name: str) -> StepSpec:
    async def run(turn: Turn) -> None:
        answer = turn.message.effective_text.strip()
        try:  # the core's own checks, so what it would refuse later is asked again now
            answer = turn.commerce.onboarding.check_field(name, answer)
        except DomainError:
            turn.say(f"onboarding.chat.invalid.{name}")
            return
        following = TEXT_FIELDS.index(name) + 1
        if following < len(TEXT_FIELDS):
            turn.goto(TEXT_FIELDS[following], **{name: answer})
            turn.say(f"onboarding.chat.ask.{TEXT_FIELDS[following]}")
            return
        turn.goto("industry", **{name: answer})
        options = "\n".join(
            f"{n}. {turn.t('onboarding.chat.industry.' + i.value)}" for n, i in enumerate(INDUSTRY_CHOICES, 1)
        )
        turn.say("onboarding.chat.ask.industry", options=options)

    return StepSpec(run, interruptible=False)


async def on_industry(turn: Turn) -> None:
    answer = turn.message.effective_text.strip()
    chosen = None
    if answer.isascii() and answer.isdigit() and 1 <= int(answer) <= len(INDUSTRY_CHOICES):
        chosen = INDUSTRY_CHOICES[int(answer) - 1]
    if chosen is None:
        turn.say("onboarding.chat.invalid.industry")
        return
    turn.goto("branded", industry=chosen.value)
    turn.say("onboarding.chat.ask.branded")


async def on_branded(turn: Turn) -> None:
    answer = turn.message.effective_text
    if _YES.match(answer) or turn.nlu.intent == "affirm":
        branded = True
    elif _NO.match(answer) or turn.nlu.intent == "deny":
        branded = False
    else:
        turn.say("onboarding.chat.invalid.branded")
        return
    turn.goto("documents", branded=branded, documents={})
    _ask_document(turn)


def _missing(turn: Turn) -> list[str]:
    slots = turn.slots
    kinds = required_documents(Industry(slots["industry"]), bool(slots["branded"]))
    return [k.value for k in kinds if k.value not in slots.get("documents", {})]


def _ask_document(turn: Turn) -> None:
    kind = _missing(turn)[0]
    turn.say("onboarding.chat.ask.document", document=turn.t(f"onboarding.chat.document.{kind}"))


async def on_document(turn: Turn) -> None:
    sent = next(
        (a for a in turn.message.attachments if a.kind in ("image", "file") and (a.url or a.media_id)), None
    )
    if sent is None:
        turn.say("onboarding.chat.invalid.document")
        return
    try:
        kept = await _keep(turn, sent)
    except InvalidInput:  # not a JPEG, PNG, WebP or PDF, or too large: asked again
        turn.say("onboarding.chat.document_refused")
        return
    documents = dict(turn.slots.get("documents", {}))
    documents[_missing(turn)[0]] = kept
    turn.goto("documents", documents=documents)
    if _missing(turn):
        _ask_document(turn)
        return
    await _submit(turn)


async def _keep(turn: Turn, sent: Attachment) -> str:
    """The file downloaded into the upload store (``file:<key>``, the reviewer opens it), or, when the
    channel cannot download or the platform is out of reach, the platform's handle as before."""
    if turn.keep_attachment is not None:
        owner = f"applicant:{turn.message.channel}:{turn.message.user_id}"[:100]
        ref = await turn.keep_attachment(turn.message, sent, owner)
        if ref is not None:
            return STORED + ref.key
    return sent.url or f"media:{sent.media_id}"


def _documents(slots: dict[str, Any]) -> dict[str, FileRef | str]:
    kept: dict[str, str] = dict(slots.get("documents") or {})
    return {
        kind: FileRef.parse(value[len(STORED) :]) if value.startswith(STORED) else value
        for kind, value in kept.items()
    }


async def _submit(turn: Turn) -> None:
    slots = dict(turn.slots)
    turn.finish()
    form = ApplicationForm(
        company_name=slots["company_name"],
        legal_representative=slots["legal_representative"],
        contact_name=slots["contact_name"],
        contact_phone=slots["contact_phone"],
        contact_email=slots["contact_email"],
        industry=Industry(slots["industry"]),
        branded=bool(slots["branded"]),
    )
    submitted = await turn.commerce.onboarding.submit(_applicant(turn), form, _documents(slots))
    turn.say("onboarding.chat.submitted", application=submitted.public_id)


MERCHANT_APPLY = Flow(
    NAME,
    start,
    {
        **{name: _text_step(name) for name in TEXT_FIELDS},
        "industry": StepSpec(on_industry, interruptible=False),
        "branded": StepSpec(on_branded, expects="affirm", interruptible=False),
        "documents": StepSpec(on_document, interruptible=False),
    },
)
