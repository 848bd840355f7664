"""Account: profile, language, phone binding by SMS code; privacy: export and erase my data."""

from __future__ import annotations

import json

from commerce_core.api import DomainError
from dialogs.context import Turn
from dialogs.flows.base import Flow, StepSpec
from dialogs.messages import Button, FileReply
from dialogs.payloads import BindPhone, EraseData, ExportData, Language, MyOrders, No, Yes
from dialogs.texts import LANGUAGES

EXPORT_WORDS = (
    "export",
    "download",
    "copy",
    "导出",
    "導出",
    "下载",
    "下載",
    "副本",
    "查看我的数据",
    "查看我的資料",
)
DELETE_WORDS = ("delete", "erase", "remove", "forget", "删除", "刪除", "注销", "註銷", "清除")
PHONE_WORDS = ("phone", "mobile", "手机", "手機", "电话", "電話", "号码", "號碼")
LANGUAGE_NAMES = {"zh-Hans": "简体中文", "zh-Hant": "繁體中文", "en": "English"}


async def account(turn: Turn) -> None:
    text = turn.nlu.text.lower()
    if turn.entity("phone") or any(w in text for w in PHONE_WORDS):
        await bind_phone(turn)
        return
    customer = await turn.commerce.customers.get(turn.customer_id)
    addresses = await turn.commerce.customers.addresses(turn.customer_id)
    turn.say(
        "account.profile",
        turn.button("button.bind_phone", BindPhone()),
        *[Button.of(LANGUAGE_NAMES[lang], Language(lang)) for lang in LANGUAGES if lang != turn.lang],
        turn.button("button.my_orders", MyOrders()),
        phone=customer.masked_phone or turn.t("account.no_phone"),
        verified=turn.t("account.verified") if customer.phone_verified else "",
        language=LANGUAGE_NAMES[turn.lang],
        addresses=len(addresses),
    )


async def bind_phone(turn: Turn) -> None:
    phone = turn.entity("phone")
    if phone is None:
        turn.begin("account", "phone")
        turn.say("account.ask_phone")
        return
    await send_code(turn, str(phone))


async def sign_in(turn: Turn) -> None:
    """A shopper on a new device, or whose web cookie is gone, proves their confirmed phone: the code
    joins this channel account to theirs (:meth:`PhoneVerifier.confirm`), orders and all. Limits on
    codes per phone and per client are the verifier's (and the edge's rate limiter's) business."""
    await turn.ensure_customer()  # the code is kept for this account until it is confirmed
    phone = turn.entity("phone")
    if phone is None:
        turn.begin("account", "phone")
        turn.say("account.sign_in")
        return
    await send_code(turn, str(phone))


async def send_code(turn: Turn, phone: str) -> None:
    if turn.verifier is None:
        turn.say("account.sms_unavailable")
        return
    try:
        masked = await turn.verifier.start(
            turn.customer_id, phone, turn.t("account.sms_text"), origin=turn.message.conversation_key
        )
    except DomainError:
        if turn.state.active is None:
            turn.begin("account", "phone")
        raise
    turn.begin("account", "code")
    turn.say("account.code_sent", phone=masked)
    if (shown := turn.verifier.sandbox_message(phone)) is not None:
        turn.say("account.sandbox_code", message=shown)


async def on_phone(turn: Turn) -> None:
    phone = turn.entity("phone") or next(
        (a.phone for a in turn.message.attachments if a.kind == "contact"), None
    )
    if phone is None:
        turn.say("account.ask_phone_again")
        return
    await send_code(turn, str(phone))


async def on_code(turn: Turn) -> None:
    code = "".join(ch for ch in turn.nlu.text if "0" <= ch <= "9")  # not isdigit(): "²" is a digit there
    if len(code) != 6 or turn.verifier is None:
        turn.say("account.ask_code_again")
        return
    try:
        customer = await turn.verifier.confirm(turn.customer_id, code)
    except DomainError as error:
        if error.code in ("no_pending_code", "too_many_attempts"):
            turn.finish()
        raise
    turn.finish()
    if customer.id != turn.customer_id:  # the phone belongs to this shopper's account on another channel
        turn.customer_id = customer.id  # the conversation speaks for the joined account from now on
        turn.say("account.linked", phone=customer.masked_phone or "")
        return
    turn.say("account.phone_bound", phone=customer.masked_phone or "")


async def set_language(turn: Turn, lang: str) -> None:
    if lang not in LANGUAGES:
        return
    turn.state.lang = lang
    if turn.has_customer:  # a web shopper who only chatted: the state carries it to the customer
        await turn.commerce.customers.set_language(turn.customer_id, lang)
    turn.say("language.switched")


async def privacy(turn: Turn) -> None:
    text = turn.nlu.text.lower()
    if any(w in text for w in DELETE_WORDS):
        turn.begin("privacy", "confirm_delete")
        turn.say(
            "privacy.confirm_delete",
            turn.button("button.confirm_delete", Yes(PRIVACY.name)),
            turn.button("button.cancel", No(PRIVACY.name)),
        )
    elif any(w in text for w in EXPORT_WORDS):
        await export(turn)
    else:
        turn.say(
            "privacy.explain",
            turn.button("button.export", ExportData()),
            turn.button("button.delete_data", EraseData()),
        )


async def export(turn: Turn) -> None:
    data = await turn.commerce.privacy.export(turn.customer_id)
    content = json.dumps(data, ensure_ascii=False, indent=1).encode()
    turn.send(FileReply("shopbot-my-data.json", "application/json", content, turn.t("privacy.export_ready")))


async def erase_request(turn: Turn) -> None:
    turn.begin("privacy", "confirm_delete")
    turn.say(
        "privacy.confirm_delete",
        turn.button("button.confirm_delete", Yes(PRIVACY.name)),
        turn.button("button.cancel", No(PRIVACY.name)),
    )


async def on_confirm_delete(turn: Turn) -> None:
    turn.finish()
    if turn.nlu.intent != "affirm":  # the yes button arrives as "affirm"
        turn.say("privacy.delete_cancelled")
        return
    await turn.commerce.privacy.erase(turn.customer_id, actor=f"customer:{turn.customer_id}")
    turn.forget_conversation = True
    turn.say("privacy.deleted")


async def resume(turn: Turn) -> None:
    step = turn.state.active.step if turn.state.active else ""
    turn.say(
        {
            "phone": "account.ask_phone",
            "code": "account.ask_code_again",
            "confirm_delete": "privacy.confirm_delete",
        }.get(step, "help.text")
    )


ACCOUNT = Flow(
    "account",
    account,
    {
        "phone": StepSpec(on_phone, expects="phone"),
        "code": StepSpec(on_code, expects="code"),
    },
    resume=resume,
    own_intents=frozenset({"account"}),
)
PRIVACY = Flow(
    "privacy",
    privacy,
    {"confirm_delete": StepSpec(on_confirm_delete, expects="affirm")},
    resume=resume,
    own_intents=frozenset({"privacy"}),
)
