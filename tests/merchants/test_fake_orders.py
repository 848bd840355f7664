"""Fake-order signals (R4.1-6, "刷单") flagged to staff: a merchant buying its own listings (the buyer
is a chat account a merchant user bound, or ships to the merchant's contact phone) and pay-then-refund
loops (K of one shopper's paid orders refunded within the window). Each is triggered by a test and
stays quiet for an ordinary purchase; the alert reaches the Telegram staff group once."""

from __future__ import annotations

from commerce_core.api import SYSTEM_ACTOR, AlertRule, MerchantStatus, OperatorPolicy, OperatorRole
from commerce_core.catalog.types import ProductDraft, VariantDraft
from tests.commerce.factory import add_bolt, names
from tests.operations.alerts_support import Staffed, other_address, staffed

__all__ = ["staffed"]

MERCHANT_CHAT = "7901"


async def _bound_owner(staffed: Staffed) -> None:
    """acme's owner binds Telegram user MERCHANT_CHAT with the console's one-time code."""
    operators = staffed.commerce.operators
    operators.policy = OperatorPolicy(hash_time_cost=1, hash_memory_kib=256, hash_parallelism=1)
    owner = await operators.create(
        "owner@acme.example",
        "correct horse battery",
        OperatorRole.MERCHANT_OWNER,
        merchant_code="acme",
        actor=SYSTEM_ACTOR,
    )
    code = await operators.issue_binding_code(owner.public_id, SYSTEM_ACTOR)
    await operators.redeem_binding_code("telegram", MERCHANT_CHAT, code)


async def test_a_merchant_user_buying_its_own_listing_is_flagged(staffed: Staffed) -> None:
    """R4.1-6: the Telegram account acme's owner bound buys acme's dress: one self-purchase alert
    naming the merchant, the order and the signal; another shopper's purchase raises nothing."""
    await _bound_owner(staffed)
    stranger = await staffed.commerce.customers.identify("telegram", "7902")
    await staffed.pay(await staffed.order(stranger.id, "fair"))
    await staffed.relay()
    assert await staffed.alerts() == []
    insider = await staffed.commerce.customers.identify("telegram", MERCHANT_CHAT)
    number = await staffed.order(insider.id, "own")
    await staffed.pay(number)
    await staffed.relay()
    await staffed.relay()
    (alert,) = await staffed.alerts()
    assert alert.rule is AlertRule.SELF_PURCHASE
    assert alert.details == {
        "order": number,
        "merchant": "acme",
        "customer": insider.public_id,
        "signals": ["bound_identity"],
    }
    posts = [p for p in staffed.group_posts() if alert.public_id in p]
    assert len(posts) == 1 and "merchant acme" in posts[0] and number in posts[0]


async def test_shipping_to_the_merchants_contact_phone_is_flagged_for_that_merchant_only(
    staffed: Staffed,
) -> None:
    """R4.1-6: an order with a line from bolt, shipped to the phone bolt gave as its contact, flags
    bolt; the same phone buying only from acme flags nobody."""
    commerce = staffed.commerce
    await add_bolt(commerce, stock=50, contact_phone="13855556666")
    shopper = await commerce.customers.identify("telegram", "7903")
    to_contact = other_address("138 5555 6666", line="工业路1号")
    await staffed.order(shopper.id, "acme-only", sku="D3-BLU-M", address=to_contact)
    await staffed.relay()
    assert await staffed.alerts(AlertRule.SELF_PURCHASE) == []
    number = await staffed.order(shopper.id, "bolt", sku="B1-STD", address=to_contact)
    await staffed.relay()
    (alert,) = await staffed.alerts(AlertRule.SELF_PURCHASE)
    assert alert.details["merchant"] == "bolt" and alert.details["signals"] == ["contact_phone"]
    assert alert.details["order"] == number and "13855556666" not in repr(alert)


async def test_a_pay_then_refund_loop_is_flagged_once(staffed: Staffed) -> None:
    """R4.1-6: two paid-then-refunded orders are a change of mind; the third within 72 hours is a
    loop: one alert listing the orders. A fourth adds no second alert."""
    commerce = staffed.commerce
    shopper = await commerce.customers.identify("telegram", "7904")
    numbers: list[str] = []
    for n in range(4):
        number = await staffed.order(shopper.id, f"loop{n}")
        await staffed.pay(number)
        await commerce.orders.cancel(number, actor="customer", reason="changed mind", customer_id=shopper.id)
        numbers.append(number)
        await staffed.relay()
        loops = await staffed.alerts(AlertRule.REFUND_LOOP)
        assert len(loops) == (0 if n < 2 else 1)
    (alert,) = await staffed.alerts(AlertRule.REFUND_LOOP)
    assert alert.details["customer"] == shopper.public_id
    assert alert.details["orders"] == sorted(numbers[:3]) and alert.details["count"] == 3
    assert len([p for p in staffed.group_posts() if alert.public_id in p]) == 1


async def test_the_chat_account_that_applied_for_the_shop_buying_from_it_is_flagged(staffed: Staffed) -> None:
    """R4.1-6: a shop opened from a Telegram chat ("我要开店"); that same chat account buys the shop's
    product: the alert names the "applicant" signal."""
    from commerce_core.api import Actor, LocalFileStore
    from commerce_core.merchants.types import Applicant, ApplicationForm

    commerce = staffed.commerce
    applicant_chat = "7905"
    buyer = await commerce.customers.identify("telegram", applicant_chat)
    store = LocalFileStore(staffed.runtime.container.settings.data_dir / "files")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    refs = {
        kind: await store.put(png, content_type="image/png", owner=f"chat:{applicant_chat}")
        for kind in ("business_licence", "tax_registration")
    }
    chat = Applicant("zh-Hans", channel="telegram", channel_user_id=applicant_chat, customer_id=buyer.id)
    form = ApplicationForm("莲花茶业", "李华", "王芳", "13700001234", "tea@example.com")
    submitted = await commerce.onboarding.submit(chat, form, refs)
    await commerce.onboarding.approve(submitted.public_id, Actor(None, None))
    await commerce.merchants.change_status(submitted.merchant_code, MerchantStatus.ACTIVE, actor="test")
    code = submitted.merchant_code
    await commerce.catalog.create_category("tea", names("茶", "Tea"))
    await commerce.catalog.create_product(
        ProductDraft(
            "T1",
            code,
            "tea",
            names("龙井", "Longjing"),
            names("绿茶", "Green tea"),
            [VariantDraft("T1-STD", {"size": "std"}, 5900, 50)],
        )
    )
    await commerce.catalog.publish("T1")
    number = await staffed.order(buyer.id, "tea", sku="T1-STD")
    await staffed.relay()
    (alert,) = await staffed.alerts(AlertRule.SELF_PURCHASE)
    assert alert.details["merchant"] == code and alert.details["order"] == number
    assert alert.details["signals"] == ["applicant"]
