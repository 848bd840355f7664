"""Button payloads of the web chat's payment choice: "Pay with Alipay" / "Pay with WeChat Pay".

Why typed and closed: the provider comes back from the client, so it is a :class:`OneOf` of the web
chat's real providers (never the sandbox, which production does not have); the flow then checks it is
one this deployment offers and that the order is the shopper's own. Listed in
:data:`dialogs.payloads.ACTIONS` like every other button.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar

from dialogs.payload_kinds import Action, OneOf, PublicId

#: the providers a web shopper may pick between (the names of bot.payments.settings)
CHOOSABLE_PROVIDERS = frozenset({"alipay", "wechatpay_native"})


@dataclass(frozen=True, slots=True)
class PayWith(Action):
    """Pay this order with the picked provider (Alipay's or WeChat Pay NATIVE's QR code)."""

    prefix: ClassVar[str] = "paywith"
    provider: Annotated[str, OneOf(CHOOSABLE_PROVIDERS)]
    order_number: PublicId
