"""What a shopper would notice: the bot understands the request, in any of the three scripts."""

from __future__ import annotations

import pytest

from nlu import BuiltinInterpreter, Hints

CASES = {
    "greet": ["你好", "您好，在吗", "哈囉 你好", "hey there!"],
    "goodbye": ["拜拜", "再見啦", "bye, see you tomorrow"],
    "thanks": ["谢谢你的帮助", "謝謝你", "thanks a lot!"],
    "help": ["你能做什么", "怎麼用這個機器人", "what are you able to do for me?"],
    "search_product": ["有没有红色的连衣裙", "有沒有紅色的裙子", "do you sell backpacks"],
    "product_details": ["这件有M码吗", "這件有沒有紅色", "what material is it made of"],
    "recommend": ["有什么推荐的吗", "送女朋友什麼禮物好", "what do you recommend for running"],
    "add_to_cart": ["加入购物车", "第二個給我來兩件", "2 of the red ones pls"],
    "view_cart": ["看看购物车", "我的購物車裡有什麼", "what's in my cart"],
    "edit_cart": ["把第二个删了", "數量改成三個", "remove the last one from my cart"],
    "checkout": ["去结算", "我要結賬", "proceed to checkout"],
    "pay": ["用微信支付", "付款失敗了", "send me the payment link"],
    "payment_methods": ["支持哪些支付方式", "可以用信用卡嗎", "do you accept paypal"],
    "order_status": ["我的订单到哪了", "訂單SB7K3M9Q2XAB到哪了", "where is my package"],
    "cancel_order": ["取消订单", "我要取消這筆訂單", "please cancel my order"],
    "change_address": ["收货地址填错了", "我要改收貨地址", "change my shipping address"],
    "return_refund": ["我要退款", "退貨政策是什麼", "i want my money back"],
    "exchange": ["太小了 换个大的", "能換成L碼嗎", "can i exchange it for a bigger size"],
    "repair": ["耳机没声音了", "螢幕碎了 能修嗎", "my headphones stopped working"],
    "complaint": ["我要投诉", "你們服務太差了", "this is unacceptable, worst service ever"],
    "human_agent": ["转人工", "我要找真人客服", "let me talk to a real person"],
    "account": ["忘记密码了", "怎麼註冊帳號", "i can't log in to my account"],
    "privacy": ["删除我的个人数据", "你們收集了我什麼資料", "export all my personal data"],
    "affirm": ["好的", "是的 沒錯", "yes please"],
    "deny": ["不用了", "不要 謝謝", "no thanks"],
    "out_of_scope": [
        "今天天气怎么样",
        "給我講個笑話",
        "帮我订一张去北京的机票",
        "what's 17 times 23",
        "turn off the living room lights",
        "how do i make lasagna",
        "how much is left in my bank account",
        "translate good morning into french",
    ],
}


@pytest.mark.parametrize(("intent", "text"), [(i, t) for i, texts in CASES.items() for t in texts])
def test_intent(interpreter: BuiltinInterpreter, intent: str, text: str) -> None:
    result = interpreter.parse_sync(text)
    assert result.intent == intent, result.ranking[:3]


def test_confidence_is_a_probability_and_ranking_is_sorted(interpreter: BuiltinInterpreter) -> None:
    result = interpreter.parse_sync("我要退款")
    scores = [r.confidence for r in result.ranking]
    assert scores == sorted(scores, reverse=True)
    assert abs(sum(scores) - 1.0) < 1e-3
    assert result.confidence == pytest.approx(scores[0])


def test_clear_requests_are_confident_and_chatter_is_rejected(interpreter: BuiltinInterpreter) -> None:
    assert interpreter.parse_sync("cancel my order please").confidence > 0.7
    weather = interpreter.parse_sync("will it rain in Shanghai tomorrow")
    assert weather.intent == "out_of_scope"


def test_expected_slot_turns_a_bare_value_into_an_answer(interpreter: BuiltinInterpreter) -> None:
    qty = interpreter.parse_sync("两件", Hints(expected_slot="quantity", lang="zh-Hans"))
    assert (qty.intent, qty.entity("quantity") and qty.entity("quantity").value) == ("inform", 2)  # type: ignore[union-attr]
    which = interpreter.parse_sync("the second one", Hints(expected_slot="ordinal"))
    assert which.intent == "inform"
    size = interpreter.parse_sync("XL吧", Hints(expected_slot="size"))
    assert size.intent == "inform"


def test_expected_slot_does_not_hide_a_change_of_topic(interpreter: BuiltinInterpreter) -> None:
    result = interpreter.parse_sync("算了 帮我取消订单", Hints(expected_slot="quantity"))
    assert result.intent == "cancel_order"


def test_a_bare_order_number_is_an_order_status_question(interpreter: BuiltinInterpreter) -> None:
    result = interpreter.parse_sync("SB7K3M9Q2XAB")
    assert result.intent == "order_status"
    assert result.entity("order_number") is not None


async def test_async_parse_matches_sync(interpreter: BuiltinInterpreter) -> None:
    assert await interpreter.parse("我要退款") == interpreter.parse_sync("我要退款")


def test_to_dict_is_json_friendly(interpreter: BuiltinInterpreter) -> None:
    import json

    d = interpreter.parse_sync("要两件红色的", Hints(lang="zh-Hans")).to_dict(top=3)
    assert json.loads(json.dumps(d, ensure_ascii=False)) == d
    assert set(d) >= {"text", "lang", "intent", "confidence", "entities", "ranking"}
    assert len(d["ranking"]) == 3
    assert {"type", "value", "start", "end"} <= set(d["entities"][0])


def test_catalogue_update_needs_no_retraining(interpreter: BuiltinInterpreter) -> None:
    from nlu import SAMPLE_CATALOGUE, BrandTerm, CatalogueTerms, ProductTerm

    model = interpreter.model
    assert interpreter.parse_sync("有没有华为手表").entity("brand") is None
    terms = CatalogueTerms(
        products=(
            ProductTerm(
                "p-watch-gt", {"zh-Hans": "华为手表GT4", "en": "Huawei Watch GT 4"}, ("gt4",), "huawei"
            ),
        ),
        brands=(BrandTerm("huawei", ("华为", "Huawei")),),
    )
    try:
        interpreter.update_catalogue(terms)
        assert interpreter.model is model
        assert interpreter.parse_sync("有没有华为手表").entity("brand").value == "huawei"  # type: ignore[union-attr]
        assert interpreter.parse_sync("huawei watch gt 4 price").entity("product").value == "p-watch-gt"  # type: ignore[union-attr]
    finally:
        interpreter.update_catalogue(SAMPLE_CATALOGUE)
