"""Small talk and out-of-scope chat (R5.2-2): a short friendly answer in the shopper's language, then a
nudge back to shopping.

The category comes from the NLU when it gives one (an intent ``smalltalk_<category>``, or an entity
``smalltalk``); otherwise from a short list of phrasings per category in the three scripts here. Texts
are in ``dialogs/texts/smalltalk.<lang>.yml``.
"""

from __future__ import annotations

import re

from dialogs.context import Turn
from dialogs.payloads import Popular
from nlu import Interpretation

CATEGORIES: dict[str, str] = {
    "age": r"how old|your age|多大了?|几岁|幾歲|年纪|年紀|年龄|年齡",
    "joke": r"\bjoke|make me laugh|something funny|笑话|笑話|讲个段子|講個段子|逗我",
    "real": (
        r"are you (?:a )?(?:real|human|bot|robot|machine|ai|person)|you a (?:bot|robot)|"
        r"是不是(?:真人|机器人|機器人)|你是(?:真人|机器人|機器人|人|ai)|真人吗|真人嗎|机器人吗|機器人嗎"
    ),
    "insult": (
        r"boring|stupid|dumb|useless|idiot|you suck|hate you|"
        r"你(?:好|真|太)?(?:无聊|無聊|笨|蠢|傻|没用|沒用|垃圾)|讨厌你|討厭你"
    ),
    "how_are_you": (
        r"how are you|how's it going|how are things|"
        r"你好吗|你好嗎|最近怎么样|最近怎麼樣|过得好|過得好"
    ),
    "name": r"your name|who are you|你叫什么|你叫什麼|你是谁|你是誰|怎么称呼|怎麼稱呼",
    "weather": r"weather|rain|sunny|天气|天氣|下雨|好热|好熱|好冷",
    "love": r"love you|marry me|date me|爱你|愛你|喜欢你|喜歡你|嫁给我|嫁給我|做我女朋友|做我男朋友",
    "compliment": (
        r"you(?:'re| are) (?:great|smart|awesome|helpful|cute|nice)|good bot|"
        r"真棒|好厉害|好厲害|真聪明|真聰明|你真好"
    ),
    "bored": r"i'?m bored|i am bored|我好无聊|我好無聊|我很无聊|我很無聊",
}
_PATTERNS = {name: re.compile(pattern, re.IGNORECASE) for name, pattern in CATEGORIES.items()}
PREFIX = "smalltalk_"


def category(nlu: Interpretation) -> str | None:
    """The small-talk category of the message, or None if it is not small talk."""
    if nlu.intent.startswith(PREFIX) and nlu.intent[len(PREFIX) :] in CATEGORIES:
        return nlu.intent[len(PREFIX) :]
    given = nlu.entity("smalltalk")
    if given is not None and str(given.value) in CATEGORIES:
        return str(given.value)
    if len(nlu.text) > 80:
        return None  # a long message with one of these words is about something else
    return next((name for name, pattern in _PATTERNS.items() if pattern.search(nlu.text)), None)


async def answer(turn: Turn) -> None:
    kind = category(turn.nlu) or "other"
    turn.say(
        "smalltalk.answer",
        turn.button("button.popular", Popular()),
        reply=turn.t(f"smalltalk.{kind}"),
        nudge=turn.t("smalltalk.nudge"),
    )
