"""Customers: one person across channels, encryption at rest, masking, key rotation; support tickets."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from commerce_core.app import Commerce
from commerce_core.errors import IllegalTransition, InvalidInput, NotFound
from commerce_core.security import FieldCipher, mask_name, mask_phone, normalise_phone
from tests.commerce.factory import ADDRESS


async def test_first_contact_creates_one_customer_even_when_messages_race(commerce: Commerce) -> None:
    results = await asyncio.gather(
        *[commerce.customers.identify("telegram", "42", language="en") for _ in range(6)]
    )
    assert len({c.id for c in results}) == 1
    async with commerce.units.orm() as uow:  # the losers of the race left no customer without an account
        assert (await uow.session.execute(text("SELECT count(*) FROM customers"))).scalar() == 1
    other = await commerce.customers.identify("wechat", "o6_bmjrPTlm6_2sgVt7hMZOPfL2M")
    assert other.id != results[0].id and other.language == "zh-Hans"
    # which channels exist is the edge's registry; the core refuses names that cannot be one
    for bad in ("", "My Space", "telegram:1", "x" * 17, "9gag"):
        with pytest.raises(InvalidInput) as refused:
            await commerce.customers.identify(bad, "1")
        assert refused.value.code == "invalid_channel"


async def test_personal_data_is_encrypted_at_rest_and_masked_when_shown(commerce: Commerce) -> None:
    customer = await commerce.customers.identify("test", "p1", display_name="张三丰")
    await commerce.customers.bind_phone(customer.id, "+86 138-1234-5678", verified=True)
    await commerce.customers.add_address(customer.id, ADDRESS)
    async with commerce.units.orm() as uow:
        raw = " ".join(
            str(v)
            for row in (
                await uow.session.execute(
                    text(
                        "SELECT c.phone_enc, c.display_name_enc, a.payload_enc FROM customers c "
                        "JOIN addresses a ON a.customer_id = c.id"
                    )
                )
            ).all()
            for v in row
        )
    assert "13812345678" not in raw and "张三丰" not in raw and "世纪大道" not in raw
    view = await commerce.customers.get(customer.id)
    assert view.phone == "+8613812345678" and view.masked_phone == "138******78" and view.phone_verified
    assert view.masked_name == "张**"
    assert (await commerce.customers.find_by_phone("13812345678")) == view
    [address] = await commerce.customers.addresses(customer.id)
    assert address.is_default and address.address.masked_line().startswith("张** 138******78 上海市 上海")


async def test_a_saved_address_is_read_by_its_owner_only(commerce: Commerce) -> None:
    owner = await commerce.customers.identify("telegram", "addr-owner")
    stranger = await commerce.customers.identify("telegram", "addr-stranger")
    saved = await commerce.customers.add_address(owner.id, ADDRESS)
    assert (await commerce.customers.address(owner.id, saved.id)).address == ADDRESS.validated()
    with pytest.raises(NotFound):
        await commerce.customers.address(stranger.id, saved.id)
    with pytest.raises(NotFound):
        await commerce.customers.address(owner.id, saved.id + 1000)


async def test_saved_addresses_have_one_default_and_a_limit(commerce: Commerce) -> None:
    from commerce_core.customers.service import MAX_ADDRESSES

    customer = await commerce.customers.identify("telegram", "many-homes")
    first = await commerce.customers.add_address(customer.id, ADDRESS, make_default=False)
    assert first.is_default  # the first one is the default whatever was asked
    kept = await commerce.customers.add_address(customer.id, ADDRESS, make_default=False)
    assert not kept.is_default
    newest = await commerce.customers.add_address(customer.id, ADDRESS)
    saved = await commerce.customers.addresses(customer.id)
    assert [a.id for a in saved if a.is_default] == [newest.id]
    for _ in range(MAX_ADDRESSES - len(saved)):
        await commerce.customers.add_address(customer.id, ADDRESS, make_default=False)
    with pytest.raises(InvalidInput) as full:
        await commerce.customers.add_address(customer.id, ADDRESS)
    assert full.value.code == "too_many_addresses"
    assert len(await commerce.customers.addresses(customer.id)) == MAX_ADDRESSES
    with pytest.raises(NotFound):
        await commerce.customers.add_address(customer.id + 1000, ADDRESS)


async def test_key_rotation_keeps_data_readable(commerce: Commerce) -> None:
    customer = await commerce.customers.identify("test", "rot", display_name="Alice Smith")
    await commerce.customers.add_address(customer.id, ADDRESS)
    old_key = commerce.cipher
    new = Fernet.generate_key().decode()
    rotated = FieldCipher([new, *[k for k in _keys(old_key)]], "test-index-key")
    commerce.customers._cipher = rotated  # what a redeploy with the new key first does
    assert await commerce.customers.rotate_encryption() >= 2
    only_new = FieldCipher([new], "test-index-key")
    commerce.customers._cipher = only_new
    assert (await commerce.customers.get(customer.id)).display_name == "Alice Smith"
    assert (await commerce.customers.addresses(customer.id))[0].address.city == "上海"


def _keys(cipher: FieldCipher) -> list[str]:
    from tests.conftest import TEST_KEYS

    return TEST_KEYS


def test_masking_rules() -> None:
    assert mask_phone("+8613812345678") == "138******78"
    assert mask_phone("+14155550123").count("*") >= 6
    assert mask_name("Alice Smith") == "A**** S****"
    assert mask_name("李") == "李*"
    assert normalise_phone("0086 139 1234 5678") == "+8613912345678"
    with pytest.raises(InvalidInput):
        normalise_phone("12")


async def test_handoff_ticket_lifecycle_and_audit(commerce: Commerce) -> None:
    customer = await commerce.customers.identify("test", "needs-help")
    first = await commerce.support.open("test:needs-help", "test", "wants a person", customer_id=customer.id)
    again = await commerce.support.open("test:needs-help", "test", "asks again", customer_id=customer.id)
    other = await commerce.support.open("test:other", "test", "question", customer_id=None)
    assert first.number == again.number and first.queue_position == 1 and other.queue_position == 2
    assigned = await commerce.support.assign(first.number, "amy")
    assert assigned.status == "assigned" and assigned.assignee == "amy"
    assert (await commerce.support.active_for("test:needs-help")) is not None
    await commerce.support.close(first.number, actor="staff:amy")
    assert await commerce.support.active_for("test:needs-help") is None
    with pytest.raises(IllegalTransition):
        await commerce.support.assign(first.number, "bob")
    trail = await commerce.support.audit_trail("ticket", first.number)
    assert [(a, b) for a, b, _ in trail] == [("staff:amy", "ticket_assigned"), ("staff:amy", "ticket_closed")]


async def test_one_person_on_two_channels_becomes_one_customer(commerce: Commerce) -> None:
    from commerce_core.orders.types import LineRequest
    from tests.commerce.factory import build_shop

    await build_shop(commerce)
    on_wechat = await commerce.customers.identify("wechat", "o-abc")
    await commerce.customers.bind_phone(on_wechat.id, "13812345678", verified=True)
    order = await commerce.orders.place(on_wechat.id, ADDRESS, "w1", items=[LineRequest("D2-BLK-S", 1)])
    on_telegram = await commerce.customers.identify("telegram", "42")
    await commerce.cart.add(on_telegram.id, "D1-RED-M", 1)
    await commerce.customers.add_address(on_telegram.id, ADDRESS)
    await commerce.customers.link_into(on_telegram.id, on_wechat.id)
    again = await commerce.customers.identify("telegram", "42")
    assert again.id == on_wechat.id  # the Telegram account now logs in there
    assert [o.number for o in await commerce.orders.for_customer(again.id)] == [order.number]
    assert (await commerce.cart.view(again.id)).lines[0].sku_code == "D1-RED-M"
    assert sorted(await commerce.customers.identities(again.id)) == [("telegram", "42"), ("wechat", "o-abc")]
    trail = await commerce.support.audit_trail("customer", on_wechat.public_id)
    assert [action for _, action, _ in trail] == ["customer_merged"]
    with pytest.raises(InvalidInput):
        await commerce.customers.link_into(on_wechat.id, on_wechat.id)
