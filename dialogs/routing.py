"""Which intent a message really carries, before the engine dispatches it (R5.2-1, R5.2-2).

The classifier is trained on whole sentences; a bare product word ("充电宝", "Retinol Night Cream") is
out of its world and lands on whatever intent shares a character ("充" -> repair, "Night" -> goodbye).
Two rules keep such words on the shopping path and keep shoppers out of flows that change things:

* a catalogue match (product, brand, category or synonym) outranks every intent that has no word of
  its own in the rest of the message: "充电宝" searches, "return the 充电宝" still returns;
* destructive or sticky intents (cancel an order, delete data, hand off, return/exchange/repair) need
  explicit evidence in the words outside the catalogue match, whatever the classifier's confidence:
  "noise cancelling headphones" never cancels an order.

Evidence is a short list of words per intent in the three scripts; it only vetoes, it never picks an
intent the classifier did not rank first.
"""

from __future__ import annotations

import re

from dialogs.flows import smalltalk
from nlu import Interpretation

SMALLTALK = "smalltalk"

CATALOGUE_ENTITIES = ("product", "category", "brand")
#: intents about the catalogue itself: a catalogue word is what they are made of
SHOPPING_INTENTS = frozenset({"search_product", "product_details", "recommend"})
#: intents that change something or pull the shopper into a long flow: explicit evidence required
GUARDED_INTENTS = frozenset({"cancel_order", "privacy", "human_agent", "return_refund", "exchange", "repair"})

_AFTER_SALES = (
    r"return|refund|send (?:it )?back|exchange|swap|repair|fix|broken|faulty|defect|warranty|damaged|"
    r"退|换|換|修|坏|壞|故障|保修|质量|質量|品質|开胶|開膠|破|不能用|用不了|不好用|瑕疵"
)
_EVIDENCE: dict[str, str] = {
    "cancel_order": r"\bcancel(?:led)?\b|取消|撤销|撤銷|不要了|退单|退單|不买了|不買了",
    "return_refund": _AFTER_SALES,
    "exchange": _AFTER_SALES,
    "repair": _AFTER_SALES,
    "human_agent": (
        r"human|person|people|agent|someone|somebody|representative|operator|staff|support|service|"
        r"人工|客服|真人|人类|人類|找人|转人|轉人|活人|工作人员|工作人員|小二"
    ),
    "privacy": (
        r"data|privacy|personal|delete|erase|forget|gdpr|information|info|"
        r"隐私|隱私|数据|數據|资料|資料|删除|刪除|注销|註銷|个人信息|個人信息|個人資訊|信息"
    ),
    "goodbye": r"\bbye|good ?night|see (?:you|ya)|later|再见|再見|拜拜|回见|回見|晚安|下次|走了",
    "greet": (
        r"\bhi\b|hello|\bhey|morning|afternoon|evening|"
        r"你好|您好|嗨|哈喽|哈囉|早上好|下午好|晚上好|在吗|在嗎"
    ),
    "thanks": r"thank|thx|\bty\b|谢|謝|感恩|辛苦",
    "help": r"help|what can you|how (?:do|does|to)|帮助|幫助|帮忙|幫忙|能做什么|能做什麼|怎么用|怎麼用|功能",
    "view_cart": r"cart|basket|trolley|购物车|購物車|车里|車裡|车里有|已选|已選",
    "edit_cart": (
        r"cart|basket|remove|delete|change|quantity|only|購物車|购物车|删|刪|去掉|改|数量|數量|减|減"
    ),
    "checkout": r"check ?out|place|pay|结算|結算|结账|結帳|下单|下單|买单|買單|付款|提交",
    "pay": r"\bpay|payment|付|支付|款",
    "payment_methods": r"pay|card|wechat|alipay|cash|付|支付|卡|微信|现金|現金",
    "order_status": (
        r"order|deliver|ship|track|parcel|package|where|"
        r"订单|訂單|物流|快递|快遞|到哪|发货|發貨|单号|單號|包裹"
    ),
    "change_address": r"address|地址",
    "complaint": r"complain|terrible|awful|worst|angry|unhappy|投诉|投訴|差评|差評|不满|不滿|生气|生氣|太差",
    "account": r"account|profile|my (?:details|info)|账户|帳戶|账号|帳號|个人资料|個人資料|我的信息",
    "add_to_cart": r"add|buy|take|get|want|order|加|买|買|购|購|要|来一|來一|拿",
    "affirm": r"\byes|\bok|sure|yep|是|好|对|對|行|可以|嗯",
    "deny": r"\bno\b|nope|not|不|否|别|別",
}
_EVIDENCE_RE = {intent: re.compile(pattern, re.IGNORECASE) for intent, pattern in _EVIDENCE.items()}


def catalogue_spans(nlu: Interpretation) -> list[tuple[int, int]]:
    return [(e.start, e.end) for e in nlu.entities if e.type in CATALOGUE_ENTITIES]


def has_catalogue_match(nlu: Interpretation) -> bool:
    return bool(catalogue_spans(nlu))


def outside_catalogue(nlu: Interpretation) -> str:
    """The message with every catalogue match blanked out: where an intent's own words must be."""
    text = nlu.text
    for start, end in sorted(catalogue_spans(nlu), reverse=True):
        text = text[:start] + " " + text[end:]
    return text


def has_evidence(intent: str, text: str) -> bool:
    pattern = _EVIDENCE_RE.get(intent)
    return pattern is not None and pattern.search(text) is not None


def routed_intent(nlu: Interpretation) -> str:
    """The intent to act on: the classifier's, unless a catalogue match or missing evidence vetoes it.

    A veto gives ``search_product`` when the message names something in the catalogue, ``smalltalk``
    for chat ("are you real", "tell me a joke") and ``out_of_scope`` (the fallback) otherwise.
    """
    intent = nlu.intent
    rest = outside_catalogue(nlu)
    if has_catalogue_match(nlu):
        if intent in SHOPPING_INTENTS:
            return intent
        return intent if has_evidence(intent, rest) else "search_product"
    if smalltalk.category(nlu) is not None and not has_evidence(intent, rest):
        return SMALLTALK  # "how old are you", "tell me a joke": chat, whatever the classifier guessed
    if intent in SHOPPING_INTENTS:
        return intent
    if intent in GUARDED_INTENTS and not has_evidence(intent, rest):
        return "out_of_scope"
    return intent
