"""The desk's rules on the core alone (SQLite and PostgreSQL): the policy staff decide by, what a
merchant may accept, ratings, and an audit row for every action (R5.4-1, R5.4-2, R7.1-3)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commerce_core.api import (
    Actor,
    AfterSalesPolicy,
    AuditFilter,
    CaseItemRequest,
    CaseKind,
    Commerce,
    FakeClock,
    InvalidInput,
    NotAllowed,
    NotFound,
)
from tests.commerce.factory import build_shop
from tests.commerce.test_fulfilment import delivered_order

STAFF = Actor("OPSTAFF00001", "10.1.2.3")


async def test_staff_decide_by_the_policy_and_every_action_is_audited(
    commerce: Commerce, clock: FakeClock
) -> None:
    shop = await build_shop(commerce)
    number = await delivered_order(commerce, clock, shop.customer_id)
    quality = await commerce.after_sales.open(
        shop.customer_id, number, CaseKind.RETURN, [CaseItemRequest(1, 1)], reason_code="quality_issue"
    )
    with pytest.raises(NotAllowed) as refused:
        await commerce.cases.reject(quality.number, STAFF, reason="worn")
    assert refused.value.code == "quality_always_accepted"
    with pytest.raises(InvalidInput):
        await commerce.cases.ask_info(quality.number, STAFF, question="   ")  # a question is needed
    asked = await commerce.cases.ask_info(quality.number, STAFF, question="Photo of the label, please")
    assert asked.status == "awaiting_info" and asked.first_responded_at == clock.now()
    await commerce.case_parties.answer_info(shop.customer_id, quality.number, "here", ["photo-9"])
    accepted = await commerce.cases.accept(quality.number, STAFF, note="sorry about that")
    with pytest.raises(NotAllowed):
        await commerce.cases.accept(quality.number, STAFF)  # decided once
    assert accepted.status == "accepted" and "photo-9" in accepted.photos
    await commerce.cases.receive_return(quality.number, STAFF)
    await commerce.cases.refund(quality.number, STAFF)
    closed = await commerce.cases.close(quality.number, STAFF)
    assert closed.status == "closed" and closed.refunded == 19900

    other = await commerce.after_sales.open(
        shop.customer_id, number, CaseKind.RETURN, [CaseItemRequest(1, 1)], reason_code="changed_mind"
    )
    rejected = await commerce.cases.reject(other.number, STAFF, reason="worn and washed")
    assert rejected.status == "rejected"
    with pytest.raises(NotAllowed):
        await commerce.case_parties.rate(shop.customer_id, other.number, 5)  # rated once closed
    await commerce.cases.close(other.number, STAFF)
    with pytest.raises(InvalidInput):
        await commerce.case_parties.rate(shop.customer_id, other.number, 6)
    with pytest.raises(NotFound):
        await commerce.case_parties.rate(shop.customer_id + 999, other.number, 5)  # not theirs
    assert (await commerce.case_parties.rate(shop.customer_id, other.number, 2)).rating == 2

    entries = await commerce.operators.audit_log(AuditFilter(object_type="after_sales_case"), limit=100)
    done = {
        (e.object_id, e.action) for e in entries if e.actor_id == STAFF.operator_id and e.ip == "10.1.2.3"
    }
    assert {
        (quality.number, "case.ask_info"),
        (quality.number, "case.accept"),
        (quality.number, "case.receive_return"),
        (quality.number, "case.refund"),
        (quality.number, "case.close"),
        (other.number, "case.reject"),
        (other.number, "case.close"),
    } <= done


async def test_the_merchant_accepts_only_within_the_policy_and_only_its_own(
    commerce: Commerce, clock: FakeClock
) -> None:
    shop = await build_shop(commerce)
    number = await delivered_order(commerce, clock, shop.customer_id)
    clock.advance(days=3)
    case = await commerce.after_sales.open(
        shop.customer_id, number, CaseKind.RETURN, [CaseItemRequest(1, 1)], reason_code="size_fit"
    )
    acme = (await commerce.merchants.get("acme")).id
    with pytest.raises(NotFound):
        await commerce.case_parties.merchant_case(acme + 1, case.number)
    with pytest.raises(NotFound):
        await commerce.case_parties.merchant_accept(
            acme + 1, case.number, STAFF, returns_address="somewhere 1"
        )
    commerce.cases.policy = AfterSalesPolicy(return_window=timedelta(days=2))  # the shop's window shrank
    with pytest.raises(NotAllowed) as refused:
        await commerce.case_parties.merchant_accept(acme, case.number, STAFF, returns_address="somewhere 1")
    assert refused.value.code == "outside_policy"
    assert (await commerce.cases.case(case.number)).status == "open"  # staff arbitrate
    commerce.cases.policy = AfterSalesPolicy()
    accepted = await commerce.case_parties.merchant_accept(
        acme, case.number, STAFF, returns_address="仓库 2 号"
    )
    assert accepted.status == "accepted" and accepted.returns_address == "仓库 2 号"
    assert [c.number for c in await commerce.case_parties.for_merchant(acme)] == [case.number]
    assert await commerce.case_parties.for_merchant(acme + 1) == []
