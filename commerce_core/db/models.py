"""Import every aggregate's tables so ``Base.metadata`` is complete (for Alembic and tests)."""

from commerce_core.after_sales import model as after_sales_model
from commerce_core.alerts import model as alerts_model
from commerce_core.analytics import model as analytics_model
from commerce_core.cart import model as cart_model
from commerce_core.catalog import model as catalog_model
from commerce_core.customers import model as customers_model
from commerce_core.db.base import Base
from commerce_core.inventory import model as inventory_model
from commerce_core.merchants import model as merchants_model
from commerce_core.operators import model as operators_model
from commerce_core.orders import model as orders_model
from commerce_core.orders import parts as order_parts_model
from commerce_core.outbox import model as outbox_model
from commerce_core.payments import model as payments_model
from commerce_core.questions import model as questions_model
from commerce_core.reviews import model as reviews_model
from commerce_core.shipments import model as shipments_model
from commerce_core.status import StatusChange
from commerce_core.support import model as support_model

metadata = Base.metadata
__all__ = [
    "StatusChange",
    "after_sales_model",
    "alerts_model",
    "analytics_model",
    "cart_model",
    "catalog_model",
    "customers_model",
    "inventory_model",
    "merchants_model",
    "metadata",
    "operators_model",
    "order_parts_model",
    "orders_model",
    "outbox_model",
    "payments_model",
    "questions_model",
    "reviews_model",
    "shipments_model",
    "support_model",
]
