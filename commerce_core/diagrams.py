"""Every status machine of the domain, by name, for generating and checking ``docs/status/``."""

from __future__ import annotations

from typing import Any

from commerce_core.after_sales.model import CASE_STATUS
from commerce_core.catalog.model import LISTING_STATUS
from commerce_core.merchants.model import MERCHANT_STATUS
from commerce_core.orders.model import ORDER_STATUS
from commerce_core.payments.model import PAYMENT_STATUS, REFUND_STATUS
from commerce_core.shipments.model import SHIPMENT_STATUS
from commerce_core.status import StatusMachine
from commerce_core.support.model import TICKET_STATUS

STATUS_MACHINES: dict[str, StatusMachine[Any]] = {
    "order": ORDER_STATUS,
    "payment": PAYMENT_STATUS,
    "refund": REFUND_STATUS,
    "product_listing": LISTING_STATUS,
    "shipment": SHIPMENT_STATUS,
    "after_sales_case": CASE_STATUS,
    "support_ticket": TICKET_STATUS,
    "merchant": MERCHANT_STATUS,
}


def status_document(name: str) -> str:
    machine = STATUS_MACHINES[name]
    title = name.replace("_", " ").capitalize()
    return (
        f"# {title} status machine\n\nGenerated from `{machine.entity}` transitions in `commerce_core` by "
        f"`shopbot docs`; a test keeps it in step with the code.\n\n```mermaid\n{machine.mermaid()}\n```\n"
    )
