"""Our commerce actions answer Rasa-shaped action requests (rasa-sdk's executor, in process)."""

from __future__ import annotations

from typing import Any

from bot.rasa_actions import action_executor
from commerce_core.app import Commerce
from commerce_core.orders.types import LineRequest
from tests.commerce.factory import ADDRESS, build_shop


def call(
    action: str,
    text: str = "",
    *,
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    sender: str = "rasa-user",
) -> dict[str, Any]:
    """A request body as Rasa posts it to the action server's /webhook."""
    return {
        "next_action": action,
        "sender_id": sender,
        "version": "3.6.0",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": {"language": "en", **(slots or {})},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
            "latest_message": {
                "text": text,
                "intent": {"name": "x", "confidence": 1.0},
                "entities": entities or [],
            },
        },
    }


async def test_search_details_add_and_view_cart(commerce: Commerce) -> None:
    await build_shop(commerce)
    executor = action_executor(commerce)
    found = await executor.run(call("action_search_products", "red dress"))
    assert found is not None
    response: dict[str, Any] = dict(found)  # type: ignore[arg-type]
    assert response["responses"][0]["custom"]["products"][0]["code"] == "D1"
    assert {"event": "slot", "name": "shown_products", "value": ["D1"]} in [
        {k: e[k] for k in ("event", "name", "value")} for e in response["events"]
    ]
    details = dict(
        await executor.run(
            call(
                "action_product_details",
                "the first one",
                slots={"shown_products": ["D1"]},
                entities=[{"entity": "ordinal", "value": {"ordinal": 1}}],
            )
        )
        or {}
    )
    assert [s["sku"] for s in details["responses"][0]["custom"]["skus"]] == ["D1-RED-M", "D1-RED-L"]
    added = dict(
        await executor.run(
            call(
                "action_add_to_cart",
                "2 in L",
                slots={"product": "D1"},
                entities=[{"entity": "size", "value": "L"}, {"entity": "quantity", "value": 2}],
            )
        )
        or {}
    )
    assert "Added 2" in added["responses"][0]["text"]
    cart = dict(await executor.run(call("action_view_cart")) or {})
    assert cart["responses"][0]["custom"]["lines"] == [
        {"sku": "D1-RED-L", "title": "Red Floral Dress", "quantity": 2, "total": "¥398.00"}
    ]


async def test_order_status_cancel_and_errors_are_friendly(commerce: Commerce) -> None:
    await build_shop(commerce)
    executor = action_executor(commerce)
    customer = await commerce.customers.identify("rasa", "buyer")
    order = await commerce.orders.place(customer.id, ADDRESS, "k", items=[LineRequest("H1-BLK", 1)])
    status = dict(
        await executor.run(call("action_order_status", slots={"order_number": order.number}, sender="buyer"))
        or {}
    )
    assert status["responses"][0]["custom"]["status"] == "pending_payment"
    stranger = dict(
        await executor.run(
            call("action_order_status", slots={"order_number": order.number}, sender="someone-else")
        )
        or {}
    )
    assert stranger["responses"][0]["custom"] == {"error": "order_not_found"}
    cancelled = dict(
        await executor.run(call("action_cancel_order", slots={"order_number": order.number}, sender="buyer"))
        or {}
    )
    assert "is cancelled" in cancelled["responses"][0]["text"]
    assert (await commerce.orders.get(order.number)).status == "cancelled"


async def test_after_sales_case_from_rasa(commerce: Commerce, clock: Any) -> None:
    await build_shop(commerce)
    executor = action_executor(commerce)
    customer = await commerce.customers.identify("rasa", "returner")
    order = await commerce.orders.place(customer.id, ADDRESS, "k", items=[LineRequest("D2-BLK-S", 1)])
    await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
    await commerce.shipments.ship(order.number)
    clock.advance(days=10)
    await commerce.shipments.refresh_open()
    opened = dict(
        await executor.run(
            call(
                "action_open_after_sales",
                "too small",
                sender="returner",
                slots={"order_number": order.number, "case_kind": "return", "reason": "size_fit"},
            )
        )
        or {}
    )
    case = opened["responses"][0]["custom"]["case"]
    assert case.startswith("AS")
    assert (await commerce.after_sales.get(case)).reason_code == "size_fit"
