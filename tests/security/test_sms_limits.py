"""Finding 6 (no anti-automation on SMS codes): codes are limited per phone number and per origin,
wrong guesses per phone number whoever makes them; a right code still links accounts."""

from __future__ import annotations

import re
from typing import Any

import fakeredis
import pytest

from commerce_core.api import Commerce, DomainError, PhoneVerifier, SandboxSms, SmsLimits


def _verifier(commerce: Commerce, sms: SandboxSms, limits: SmsLimits | None = None) -> PhoneVerifier:
    store: Any = fakeredis.FakeAsyncRedis()
    return PhoneVerifier(store, sms, commerce.customers, secret="test-secret", limits=limits)


async def _customers(commerce: Commerce, count: int) -> list[int]:
    return [(await commerce.customers.identify("web", f"attacker-{i}")).id for i in range(count)]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_many_accounts_cannot_flood_one_phone_number(commerce: Commerce) -> None:
    sms = SandboxSms()
    verifier = _verifier(commerce, sms)
    refused = 0
    for customer_id in await _customers(commerce, 30):
        try:
            await verifier.start(customer_id, "13812345678", "code {code}", origin=f"ip-{customer_id}")
        except DomainError as error:
            assert error.code == "too_many_codes"
            refused += 1
    assert len(sms.sent) == 1 and refused == 29


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_one_origin_cannot_send_codes_to_many_numbers(commerce: Commerce) -> None:
    sms = SandboxSms()
    verifier = _verifier(commerce, sms)
    customers = await _customers(commerce, 10)
    outcomes = []
    for i, customer_id in enumerate(customers):
        try:
            await verifier.start(customer_id, f"1381234{i:04d}", "code {code}", origin="203.0.113.9")
            outcomes.append("sent")
        except DomainError as error:
            outcomes.append(error.code)
    assert outcomes == ["sent"] * 3 + ["too_many_codes"] * 7


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_wrong_guesses_are_counted_per_phone_across_accounts(commerce: Commerce) -> None:
    sms = SandboxSms()
    limits = SmsLimits(per_phone=((100, 60),), per_origin=((100, 60),))
    verifier = _verifier(commerce, sms, limits)
    checked = 0
    refused_codes: set[str] = set()
    for customer_id in await _customers(commerce, 30):
        await verifier.start(customer_id, "13812345678", "code {code}")
        for guess in range(5):
            try:
                await verifier.confirm(customer_id, f"{guess:06d}x")  # never right
            except DomainError as error:
                if error.code == "wrong_code":
                    checked += 1
                else:
                    refused_codes.add(error.code)
    assert checked == 10  # not 150: the phone's guess budget is spent, whoever guesses
    assert refused_codes == {"too_many_attempts"}
    # even the right code is refused once the phone's budget is spent
    victim = (await _customers(commerce, 31))[-1]
    await verifier.start(victim, "13812345678", "code {code}")
    code = re.findall(r"\d{6}", sms.sent[-1][1])[0]
    with pytest.raises(DomainError) as refused:
        await verifier.confirm(victim, code)
    assert refused.value.code == "too_many_attempts"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_only_the_right_code_links_into_the_account_that_owns_the_number(commerce: Commerce) -> None:
    owner = await commerce.customers.identify("telegram", "owner")
    await commerce.customers.bind_phone(owner.id, "13812345678", verified=True)
    sms = SandboxSms()
    verifier = _verifier(commerce, sms)
    intruder = await commerce.customers.identify("web", "intruder")
    await verifier.start(intruder.id, "13812345678", "code {code}")
    with pytest.raises(DomainError):
        await verifier.confirm(intruder.id, "000000" if "000000" not in sms.sent[-1][1] else "111111")
    assert (await commerce.customers.get(intruder.id)).id == intruder.id
    code = re.findall(r"\d{6}", sms.last_to("+86 138 1234 5678") or "")[0]
    linked = await verifier.confirm(intruder.id, code)
    assert linked.id == owner.id


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_in_development_the_chat_shows_the_sandbox_code(runtime: Any) -> None:
    """So a newcomer trying the demo can finish binding a phone."""
    from dialogs.messages import InboundMessage

    async def say(text: str) -> str:
        message = InboundMessage("console", "newcomer", "newcomer", text, language_hint="zh-Hans")
        return "\n".join(r.text for r in await runtime.pipeline.handle(message))

    await say("我要绑定手机号")
    answer = await say("13812345678")
    code = re.findall(r"\d{6}", runtime.sms.sent[-1][1])[0]
    assert "开发环境提示" in answer and code in answer
    assert "138******78" in await say(code)  # bound: the masked number is confirmed


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_outside_development_codes_are_never_shown(commerce: Commerce) -> None:
    store: Any = fakeredis.FakeAsyncRedis()
    hidden = PhoneVerifier(store, SandboxSms(), commerce.customers, secret="s", reveal_sandbox_codes=False)
    customer = await commerce.customers.identify("web", "prod-user")
    await hidden.start(customer.id, "13812345678", "code {code}")
    assert hidden.sandbox_message("13812345678") is None
