"""The shopper's side of the after-sales desk, in the chat (R5.4-1):

* "我的退货怎么样了", "我的退貨怎麼樣了", "where is my repair": each open case's status and its next
  step (the repair stage, the return parcel on its way, the deadline of the first answer);
* the return parcel's carrier and tracking number, typed in (or after the "Enter tracking number"
  button): recorded on the case as a shipment that is tracked like any other;
* an answer to staff asking for more information or photos, and the 1-5 rating of a closed case.

The reason a shopper types when opening a case is classified here too (``classify_reason``): "鞋底开
胶了" is a quality problem, which the policy always accepts, not "other".
"""

from __future__ import annotations

import re

from commerce_core.api import CaseView, DomainError, Money, NotFound
from dialogs.context import Turn
from dialogs.flows.common import local_time
from dialogs.messages import Button, TextReply
from dialogs.payloads import CaseAnswer, CaseParcel

#: words that make "my return / my repair ..." a question about a case rather than a new request
STATUS_CUES = (
    "怎么样",
    "怎麼樣",
    "进度",
    "進度",
    "进展",
    "進展",
    "到哪",
    "好了没",
    "好了沒",
    "处理得",
    "處理得",
    "结果",
    "結果",
    "状态",
    "狀態",
    "status",
    "where is my",
    "where's my",
    "how is my",
    "how's my",
    "any news",
    "any update",
    "update on",
    "progress",
)
#: the words for a defect, whatever the part: glue, seams, zips, stitching, colour, cracks, leaks
QUALITY_WORDS = (
    "坏",
    "壞",
    "质量",
    "質量",
    "品質",
    "品质",
    "瑕疵",
    "开胶",
    "開膠",
    "脱胶",
    "脫膠",
    "掉色",
    "褪色",
    "起球",
    "开线",
    "開線",
    "脱线",
    "脫線",
    "断",
    "斷",
    "裂",
    "破",
    "漏",
    "掉了",
    "不亮",
    "没声音",
    "沒聲音",
    "充不进",
    "充不進",
    "故障",
    "失灵",
    "失靈",
    "broken",
    "broke",
    "quality",
    "defect",
    "faulty",
    "unglued",
    "came off",
    "coming apart",
    "fell apart",
    "peeling",
    "ripped",
    "torn",
    "cracked",
    "leak",
    "stopped working",
    "doesn't work",
    "does not work",
    "not working",
    "faded",
)
REASON_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("运输", "運輸", "快递弄", "快遞弄", "压坏", "壓壞", "damaged in transit", "crushed"),
        "damaged_in_transit",
    ),
    (QUALITY_WORDS, "quality_issue"),
    (("发错", "發錯", "错了", "錯了", "wrong"), "wrong_item"),
    (("不符", "描述", "色差", "not as described", "different from"), "not_as_described"),
    (("小", "大", "size", "fit", "尺码", "尺碼", "small", "big", "large", "tight", "loose"), "size_fit"),
    (("不想要", "不喜欢", "不喜歡", "changed my mind", "don't want", "don't like"), "changed_mind"),
)
CARRIER_WORDS = {
    "顺丰": "顺丰",
    "順豐": "顺丰",
    "中通": "中通",
    "圆通": "圆通",
    "圓通": "圆通",
    "韵达": "韵达",
    "韻達": "韵达",
    "申通": "申通",
    "极兔": "极兔",
    "極兔": "极兔",
    "京东": "京东",
    "京東": "京东",
    "邮政": "EMS",
    "郵政": "EMS",
    "ems": "EMS",
    "sf": "SF",
    "ups": "UPS",
    "dhl": "DHL",
    "fedex": "FedEx",
}
EXTRACTED_CARRIERS = {"sf": "SF", "yto": "YTO", "zto": "ZTO", "jt": "J&T", "ups": "UPS", "sx": "SX"}
_WAYBILL = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{0,4}\d[A-Za-z0-9-]{5,39})(?![A-Za-z0-9])")


def classify_reason(text: str) -> str:
    """A typed reason -> a reason code, roughly; the words stay on the case for staff to read."""
    lowered = text.lower()
    for words, code in REASON_WORDS:
        if any(w in lowered for w in words):
            return code
    return "other"


def asks_status(text: str) -> bool:
    lowered = text.lower()
    return any(cue in lowered for cue in STATUS_CUES)


async def desk_turn(turn: Turn) -> bool:
    """Whether this after-sales message is about an existing case (a status question, a return
    parcel's tracking number); if so it is answered here and no new case is started."""
    tracking = turn.entity("tracking_number")
    if tracking:
        waiting = await turn.commerce.case_parties.waiting_for_parcel(turn.customer_id)
        if waiting:
            await record_parcel(turn, waiting[0].number)
            return True
    if asks_status(turn.nlu.text) and not turn.entity("order_number"):
        await answer_status(turn)
        return True
    return False


# -- status ----------------------------------------------------------------------------------------
async def answer_status(turn: Turn) -> None:
    cases = await turn.commerce.after_sales.for_customer(turn.customer_id)
    if not cases:
        turn.say("desk.no_cases")
        return
    kind = {"repair": "repair", "exchange": "exchange"}.get(turn.nlu.intent)
    current = [c for c in cases if c.is_open] or cases[:1]
    preferred = [c for c in current if c.kind == kind] if kind else []
    for case in (preferred or current)[:3]:
        lines, buttons = await _status_of(turn, case)
        turn.send(TextReply("\n".join(lines), tuple(buttons)))


async def _status_of(turn: Turn, case: CaseView) -> tuple[list[str], list[Button]]:
    kind = turn.t(f"case_kind.{case.kind}")
    status = turn.t(f"desk.status.{case.status}")
    lines = [
        turn.t("desk.status_line", number=case.number, kind=kind, order=case.order_number, status=status)
    ]
    buttons: list[Button] = []
    if case.repair_stage:
        lines.append(turn.t("desk.next.repair", stage=turn.t(f"desk.stage.{case.repair_stage}")))
    if case.refunded:
        lines.append(turn.t("desk.next.refunded", amount=Money(case.refunded, case.currency).format()))
    if case.replacement_tracking:
        lines.append(turn.t("desk.next.replacement", tracking=case.replacement_tracking))
    lines.append(await _next_step(turn, case, buttons))
    return lines, buttons


async def _next_step(turn: Turn, case: CaseView, buttons: list[Button]) -> str:
    if case.status == "open":
        return turn.t("desk.next.open", due=local_time(turn, case.first_response_due_at))
    if case.status == "awaiting_info":
        buttons.append(turn.button("desk.button.answer", CaseAnswer(case.number)))
        question = next(
            (p.get("note", "") for p in reversed(case.progress) if p["status"] == "awaiting_info"), ""
        )
        return turn.t("desk.next.awaiting_info", question=question)
    if case.status not in ("accepted", "in_progress"):
        return turn.t("desk.next.done")
    if case.return_tracking and not case.return_received_at:
        try:
            parcel = await turn.commerce.shipments.parcel(case.return_tracking)
            parcel_status = turn.t(f"shipment.{parcel.status}")
        except NotFound:
            parcel_status = turn.t("shipment.created")
        return turn.t(
            "desk.next.parcel",
            carrier=case.return_carrier or "",
            tracking=case.return_tracking,
            parcel_status=parcel_status,
        )
    sends_back = case.kind != "refund" and not case.return_received_at and case.repair_stage is None
    if sends_back and case.status == "accepted":
        if not case.returns_address:
            return turn.t("desk.next.wait_address")
        buttons.append(turn.button("desk.button.send_parcel", CaseParcel(case.number)))
        return turn.t("desk.next.send_item", address=case.returns_address)
    return turn.t("desk.next.working")


# -- the return parcel -----------------------------------------------------------------------------
async def ask_parcel(turn: Turn, number: str) -> None:
    turn.begin("after_sales", "parcel", case=number)
    turn.say("desk.ask_parcel")


async def on_parcel(turn: Turn) -> None:
    await record_parcel(turn, str(turn.slots.get("case", "")))


def _carrier_and_waybill(turn: Turn) -> tuple[str, str] | None:
    text = turn.nlu.text.strip()
    found = turn.entity("tracking_number")
    lowered = text.lower()
    named = next((name for word, name in CARRIER_WORDS.items() if word in lowered), None)
    if isinstance(found, dict) and found.get("number"):
        return named or EXTRACTED_CARRIERS.get(str(found.get("carrier")), "other"), str(found["number"])
    match = _WAYBILL.search(text)
    if match is None or named is None:
        return None
    return named, match.group(1)


async def record_parcel(turn: Turn, number: str) -> None:
    parsed = _carrier_and_waybill(turn)
    if parsed is None:
        if turn.state.active is None or turn.state.active.step != "parcel":
            turn.begin("after_sales", "parcel", case=number)
        turn.say("desk.ask_parcel_again")
        return
    carrier, waybill = parsed
    turn.finish()
    case = await turn.commerce.case_parties.return_parcel(
        turn.customer_id, number, carrier=carrier, tracking_number=waybill
    )
    turn.say(
        "desk.parcel_recorded", number=case.number, carrier=case.return_carrier, tracking=case.return_tracking
    )


# -- the variant wanted in exchange ---------------------------------------------------------------
def _label(options: dict[str, str]) -> str:
    return " / ".join(str(value) for _, value in sorted(options.items()))


async def ask_variant(turn: Turn, case: CaseView) -> None:
    """After an exchange is opened: which variant instead (recorded on the case for staff)."""
    variants = await turn.commerce.cases.variants(case.number)
    if len(variants) < 2:
        return  # nothing else to choose: staff decide
    turn.begin("after_sales", "variant", case=case.number)
    turn.say("desk.ask_variant", options=", ".join(_label(options) for _, options in variants))


def _mentions(text: str, value: str) -> bool:
    """A short ASCII value ("L", "M") counts only as a word of its own; others as a substring."""
    value = value.lower()
    if value.isascii():
        return re.search(rf"(?<![a-z]){re.escape(value)}(?![a-z])", text) is not None
    return value in text


async def on_variant(turn: Turn) -> None:
    number = str(turn.slots.get("case", ""))
    text = turn.nlu.text.lower()
    variants = await turn.commerce.cases.variants(number)
    scored = [
        (sum(_mentions(text, str(v)) for v in options.values()), code, options) for code, options in variants
    ]
    best = max((score for score, _, _ in scored), default=0)
    chosen = [(code, options) for score, code, options in scored if score == best and best > 0]
    if len(chosen) != 1:
        turn.say("desk.ask_variant", options=", ".join(_label(options) for _, options in variants))
        return
    code, options = chosen[0]
    turn.finish()
    await turn.commerce.case_parties.want_variant(turn.customer_id, number, code)
    turn.say("desk.variant_recorded", number=number, variant=_label(options))


# -- answering staff, rating -----------------------------------------------------------------------
async def ask_answer(turn: Turn, number: str) -> None:
    turn.begin("after_sales", "answer", case=number)
    turn.say("desk.ask_answer", number=number)


async def on_answer(turn: Turn) -> None:
    number = str(turn.slots.get("case", ""))
    photos = [a.url or "photo" for a in turn.message.attachments if a.kind == "image"]
    turn.finish()
    case = await turn.commerce.case_parties.answer_info(turn.customer_id, number, turn.nlu.text, photos)
    turn.say("desk.answered", number=case.number)


async def rate(turn: Turn, number: str, rating: int) -> None:
    try:
        await turn.commerce.case_parties.rate(turn.customer_id, number, rating)
    except DomainError:
        turn.say("desk.not_rated")
        return
    turn.say("desk.rated", rating=rating)
