"""An overdue case raises an alert (R5.4-1: the 24-hour first answer): past the deadline the staff
queue is told once; still unanswered four hours later the admins are told once; a case staff have
answered raises nothing. Time moves on the FakeClock, nobody sleeps; the periodic job is the
runtime's own ``tick``."""

from __future__ import annotations

from bot.runtime import Runtime
from commerce_core.api import SYSTEM_ACTOR, Actor, CaseKind, FakeClock, OperatorPolicy, OperatorRole
from tests.staff.desk.conftest import delivered, open_case, pushed, staff, texts


async def test_an_overdue_case_alerts_the_staff_queue_then_escalates_to_admins(
    runtime: Runtime, clock: FakeClock
) -> None:
    commerce = runtime.commerce
    await staff(commerce, "agent@example.com", OperatorRole.AGENT, "zh-Hans", "desk-agent")
    admin = await staff(commerce, "boss@example.com", OperatorRole.ADMIN, "en", "desk-admin")
    late = await delivered(runtime, clock, "late", "en")
    answered = await delivered(runtime, clock, "prompt", "zh-Hans")
    # a quality problem is accepted whatever the window (the first order arrived 15 days earlier)
    overdue_case = await open_case(commerce, late, CaseKind.RETURN, reason="quality_issue")
    answered_case = await open_case(commerce, answered, CaseKind.RETURN)
    await commerce.cases.ask_info(answered_case.number, Actor(admin.public_id, None), question="请补一张照片")

    clock.advance(hours=23, minutes=59)
    figures = await runtime.tick()
    assert figures["cases_overdue"] == 0
    assert await pushed(runtime, "desk-agent") == []

    clock.advance(minutes=2)
    assert (await runtime.tick())["cases_overdue"] == 1
    alert = texts(await pushed(runtime, "desk-agent"))
    assert overdue_case.number in alert and "24 小时内无人回复" in alert
    assert answered_case.number not in alert
    assert await pushed(runtime, "desk-admin") == []  # not yet an escalation
    assert (await commerce.cases.case(overdue_case.number)).alerted_at is not None

    clock.advance(hours=1)
    assert (await runtime.tick())["cases_overdue"] == 0  # each level once
    assert await pushed(runtime, "desk-agent") == []

    clock.advance(hours=3, minutes=1)
    assert (await runtime.tick())["cases_overdue"] == 1
    escalation = texts(await pushed(runtime, "desk-admin"))
    assert "Escalation" in escalation and overdue_case.number in escalation
    assert await pushed(runtime, "desk-agent") == []  # the admins, not the queue again
    clock.advance(hours=10)
    assert (await runtime.tick())["cases_overdue"] == 0


async def test_the_merchant_of_the_items_is_told_of_a_new_case(runtime: Runtime, clock: FakeClock) -> None:
    """Only the merchant whose items the case is about, in its user's language (R5.4-1)."""
    commerce = runtime.commerce
    policy = OperatorPolicy(hash_time_cost=1, hash_memory_kib=256, hash_parallelism=1)
    commerce.operators.policy = policy
    owner = await commerce.operators.create(
        "owner@acme.example",
        "correct horse battery",
        OperatorRole.MERCHANT_OWNER,
        merchant_code="acme",
        language="zh-Hant",
        actor=SYSTEM_ACTOR,
    )
    code = await commerce.operators.issue_binding_code(owner.public_id, Actor(owner.public_id, None))
    await commerce.operators.redeem_binding_code("console", "acme-owner", code)
    shop = await delivered(runtime, clock, "buyer", "en")
    case = await open_case(commerce, shop, CaseKind.RETURN)
    told = texts(await pushed(runtime, "acme-owner"))
    assert case.number in told and "新的售後單" in told and shop.order_number in told
