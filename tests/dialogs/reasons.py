"""What each channel must show when a shopper who bought D1 and viewed D2 asks for recommendations.

Shared by the per-channel tests of R5.3-2 (Telegram, WeChat, web chat, console): the test shop has
three dresses and one pair of headphones, so "bought the red dress, looked at the black one" leads
to the denim dress (goes with what you bought) and the headphones (popular in their category), each
reason in the shopper's own language, computed from the text catalogue and the catalogue's names.
"""

from __future__ import annotations

from commerce_core.api import Commerce, pick_language
from commerce_core.orders.types import LineRequest
from dialogs.texts import load_texts
from tests.commerce.factory import ADDRESS

TEXTS = load_texts()
RECOMMEND = {"zh-Hans": "有什么推荐的吗", "zh-Hant": "有什麼推薦的嗎", "en": "what do you recommend"}
BOUGHT, VIEWED = "D1", "D2"


async def buy_d1(commerce: Commerce, channel: str, user: str, lang: str) -> None:
    """An earlier order of the red dress for this channel account (the shopper's own history)."""
    customer = await commerce.customers.identify(channel, user, language=lang)
    await commerce.orders.place(
        customer.id, ADDRESS, f"rec-{channel}-{user}", items=[LineRequest("D1-RED-M", 1)]
    )


async def expected(commerce: Commerce, lang: str) -> dict[str, tuple[str, str]]:
    """Product code -> (its title, the reason shown for it) in ``lang``."""
    bought = (await commerce.catalog.get_product(BOUGHT)).title(lang)
    categories = {c.code: pick_language(c.names, lang) for c in await commerce.catalog.categories()}
    return {
        "D3": (
            (await commerce.catalog.get_product("D3")).title(lang),
            TEXTS.get(lang, "recommend.reason_bought", name=bought),
        ),
        "H1": (
            (await commerce.catalog.get_product("H1")).title(lang),
            TEXTS.get(lang, "recommend.reason_popular", category=categories["headphones"]),
        ),
    }
