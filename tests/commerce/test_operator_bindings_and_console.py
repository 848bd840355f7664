"""Binding a chat identity with a one-time code, and the merchant console's reads, which only ever show
the caller's own merchant (another merchant's product or order is simply "not found")."""

from __future__ import annotations

import pytest

from commerce_core.api import (
    Actor,
    AuditFilter,
    Commerce,
    FakeClock,
    InvalidInput,
    NotAllowed,
    NotFound,
    OperatorPolicy,
    OperatorRole,
    OperatorView,
)
from commerce_core.catalog.types import ProductDraft, VariantDraft
from commerce_core.merchants.types import MerchantStatus
from tests.commerce.factory import ADDRESS, build_shop, names

SERVER = Actor(operator_id=None, ip=None)
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_hashing(commerce: Commerce) -> None:
    commerce.operators.policy = OperatorPolicy(hash_time_cost=1, hash_memory_kib=256, hash_parallelism=1)


async def agent(commerce: Commerce, email: str = "agent@example.com") -> OperatorView:
    return await commerce.operators.create(email, PASSWORD, OperatorRole.AGENT, actor=SERVER)


async def test_a_binding_code_binds_a_telegram_identity_once(commerce: Commerce) -> None:
    user = await agent(commerce)
    me = Actor(user.public_id, "198.51.100.3")
    code = await commerce.operators.issue_binding_code(user.public_id, me)
    assert len(code) == 8 and code.isalnum() and code.upper() == code
    assert await commerce.operators.operator_for_identity("telegram", "4242") is None

    bound = await commerce.operators.redeem_binding_code("telegram", "4242", f" {code.lower()} ")
    assert bound.public_id == user.public_id
    assert (await commerce.operators.operator_for_identity("telegram", "4242")) == bound
    assert await commerce.operators.identities_of(user.public_id) == [("telegram", "4242")]
    with pytest.raises(InvalidInput) as again:  # single use
        await commerce.operators.redeem_binding_code("wechat", "o-openid", code)
    assert again.value.code == "binding_code_invalid"
    actions = [e.action for e in await commerce.operators.audit_log(AuditFilter(object_id=user.public_id))]
    assert actions[:2] == ["identity.bound", "identity.code_issued"]


async def test_wrong_expired_and_replaced_codes_all_look_the_same(
    commerce: Commerce, clock: FakeClock
) -> None:
    user = await agent(commerce)
    me = Actor(user.public_id, None)
    ops = commerce.operators
    first = await ops.issue_binding_code(user.public_id, me)
    second = await ops.issue_binding_code(user.public_id, me)  # the newer code replaces the older
    expired = second
    clock.advance(minutes=10, seconds=1)
    refusals = set()
    for code in [first, expired, "ZZZZZZZZ", "", "x" * 500]:
        with pytest.raises(InvalidInput) as caught:
            await ops.redeem_binding_code("telegram", "77", code)
        refusals.add((caught.value.code, str(caught.value)))
    assert refusals == {("binding_code_invalid", "binding code invalid")}
    assert await ops.identities_of(user.public_id) == []
    fresh = await ops.issue_binding_code(user.public_id, me)
    clock.advance(minutes=9)
    await ops.redeem_binding_code("wechat", "o-openid", fresh)
    assert await ops.identities_of(user.public_id) == [("wechat", "o-openid")]
    with pytest.raises(InvalidInput):
        await ops.redeem_binding_code("whatsapp", "77", fresh)


async def test_an_identity_moves_to_whoever_binds_it_last_and_disabled_operators_lose_it(
    commerce: Commerce,
) -> None:
    first, second = await agent(commerce, "one@example.com"), await agent(commerce, "two@example.com")
    admin = await commerce.operators.create("admin@example.com", PASSWORD, OperatorRole.ADMIN, actor=SERVER)
    ops = commerce.operators
    await ops.redeem_binding_code(
        "telegram", "99", await ops.issue_binding_code(first.public_id, Actor(first.public_id, None))
    )
    await ops.redeem_binding_code(
        "telegram", "99", await ops.issue_binding_code(second.public_id, Actor(second.public_id, None))
    )
    assert await ops.identities_of(first.public_id) == []
    found = await ops.operator_for_identity("telegram", "99")
    assert found is not None and found.public_id == second.public_id
    await ops.disable(second.public_id, Actor(admin.public_id, None))
    assert await ops.operator_for_identity("telegram", "99") is None


async def test_applicants_have_no_chat_identity(commerce: Commerce) -> None:
    applicant = await commerce.operators.sign_up_applicant("a@shop.test", PASSWORD, "A", "en", None)
    with pytest.raises(NotAllowed):
        await commerce.operators.issue_binding_code(applicant.public_id, Actor(applicant.public_id, None))


async def two_merchant_shop(commerce: Commerce) -> tuple[int, int, str]:
    """acme (from the test shop) and beta, and one order with a line of each; returns their ids and it."""
    shop = await build_shop(commerce)
    await commerce.merchants.register("beta", names("贝塔", "Beta"), status=MerchantStatus.ACTIVE)
    await commerce.catalog.create_product(
        ProductDraft(
            "B1",
            "beta",
            "headphones",
            names("有线耳机", "Wired Earphones"),
            names("3.5mm", "3.5 mm jack"),
            [VariantDraft("B1-WHT", {"color": "white"}, 4900, 5)],
        )
    )
    await commerce.catalog.publish("B1")
    await commerce.cart.add(shop.customer_id, "D1-RED-M", 2)
    await commerce.cart.add(shop.customer_id, "B1-WHT", 1)
    order = await commerce.orders.place(shop.customer_id, ADDRESS, "two-merchants")
    acme = (await commerce.merchants.get("acme")).id
    beta = (await commerce.merchants.get("beta")).id
    return acme, beta, order.number


async def test_merchant_console_shows_only_the_merchants_own_products(commerce: Commerce) -> None:
    acme, beta, _ = await two_merchant_shop(commerce)
    ops = commerce.operators
    assert sorted(p.code for p in await ops.merchant_products(acme)) == ["D1", "D2", "D3", "H1"]
    [earphones] = await ops.merchant_products(beta)
    assert earphones.code == "B1" and earphones.sku_count == 1 and earphones.status == "live"
    assert earphones.min_price.format() == "¥49.00" and earphones.stock_on_hand == 5
    dress = await ops.merchant_product(acme, "D1")
    assert dress.sku_count == 2 and dress.stock_on_hand == 20 and dress.stock_reserved == 2
    for merchant, code in [(beta, "D1"), (acme, "B1"), (acme, "NOPE")]:
        with pytest.raises(NotFound):
            await ops.merchant_product(merchant, code)
    assert [p.code for p in await ops.merchant_products(acme, limit=1, offset=1)] != []
    with pytest.raises(InvalidInput):
        await ops.merchant_products(acme, limit=10_000)


async def test_merchant_console_shows_only_the_merchants_own_lines_of_an_order(commerce: Commerce) -> None:
    acme, beta, number = await two_merchant_shop(commerce)
    ops = commerce.operators
    mine = await ops.merchant_order(acme, number.lower())
    assert [line.sku_code for line in mine.lines] == ["D1-RED-M"]
    assert mine.total.amount == 2 * 19900 and mine.lines[0].quantity == 2
    theirs = await ops.merchant_order(beta, number)
    assert [line.sku_code for line in theirs.lines] == ["B1-WHT"] and theirs.total.amount == 4900
    assert [o.number for o in await commerce.merchant_orders.orders(beta)] == [number]

    await commerce.merchants.register("gamma", names("伽马", "Gamma"), status=MerchantStatus.ACTIVE)
    gamma = (await commerce.merchants.get("gamma")).id
    assert await commerce.merchant_orders.orders(gamma) == []
    for merchant, wanted in [(gamma, number), (acme, "SB0000000000"), (acme, "not a number")]:
        with pytest.raises(NotFound):
            await ops.merchant_order(merchant, wanted)
