"""A small catalogue for tests, built through the public services (no SQL behind their back)."""

from __future__ import annotations

from dataclasses import dataclass

from commerce_core.app import Commerce
from commerce_core.catalog.types import ProductDraft, VariantDraft
from commerce_core.customers.types import AddressInput
from commerce_core.merchants.types import MerchantStatus, MerchantView

ADDRESS = AddressInput("张三丰", "13812345678", "上海", "浦东新区世纪大道100号8楼", region="上海市")


@dataclass(frozen=True)
class Shop:
    customer_id: int


def names(zh: str, en: str, hant: str | None = None) -> dict[str, str]:
    result = {"zh-Hans": zh, "en": en}
    if hant:
        result["zh-Hant"] = hant
    return result


async def build_shop(commerce: Commerce, *, stock: int = 10) -> Shop:
    await commerce.merchants.register("acme", names("极客商店", "Acme Store"), status=MerchantStatus.ACTIVE)
    await commerce.catalog.create_category("apparel", names("服装", "Apparel"), synonyms=["衣服", "clothes"])
    await commerce.catalog.create_category(
        "dresses", names("连衣裙", "Dresses"), parent="apparel", synonyms=["裙子", "dress"]
    )
    await commerce.catalog.create_category("electronics", names("数码", "Electronics"))
    await commerce.catalog.create_category("headphones", names("耳机", "Headphones"), parent="electronics")
    products = [
        ProductDraft(
            "D1",
            "acme",
            "dresses",
            names("红色碎花连衣裙", "Red Floral Dress", "紅色碎花連衣裙"),
            names("雪纺面料，适合夏天", "Chiffon, for summer"),
            [
                VariantDraft("D1-RED-M", {"color": "red", "size": "M"}, 19900, stock),
                VariantDraft("D1-RED-L", {"color": "red", "size": "L"}, 19900, stock),
            ],
            brand="Lumi",
            attributes={"material": names("雪纺", "chiffon")},
            synonyms=["裙子", "sundress"],
        ),
        ProductDraft(
            "D2",
            "acme",
            "dresses",
            names("黑色小礼服", "Little Black Dress"),
            names("经典款", "A classic"),
            [VariantDraft("D2-BLK-S", {"color": "black", "size": "S"}, 39900, stock)],
            brand="Noir",
        ),
        ProductDraft(
            "D3",
            "acme",
            "dresses",
            names("蓝色牛仔连衣裙", "Blue Denim Dress"),
            names("牛仔", "Denim"),
            [VariantDraft("D3-BLU-M", {"color": "blue", "size": "M"}, 9900, stock)],
            brand="Lumi",
        ),
        ProductDraft(
            "H1",
            "acme",
            "headphones",
            names("无线降噪耳机", "Wireless Noise Cancelling Headphones"),
            names("蓝牙5.3", "Bluetooth 5.3"),
            [VariantDraft("H1-BLK", {"color": "black"}, 59900, stock)],
            brand="Sonix",
        ),
    ]
    for draft in products:
        await commerce.catalog.create_product(draft)
        await commerce.catalog.publish(draft.code)
    customer = await commerce.customers.identify("test", "shopper-1", language="zh-Hans")
    return Shop(customer.id)


async def add_bolt(commerce: Commerce, *, stock: int = 5, contact_phone: str | None = None) -> MerchantView:
    """A second active merchant, "bolt" (闪电五金), selling one published wrench, SKU ``B1-STD`` at
    49.00: what tests of two merchants' orders, consoles and alerts add beside :func:`build_shop`."""
    bolt = await commerce.merchants.register(
        "bolt", names("闪电五金", "Bolt Hardware"), contact_phone=contact_phone, status=MerchantStatus.ACTIVE
    )
    await commerce.catalog.create_category("tools", names("工具", "Tools"))
    wrench = [VariantDraft("B1-STD", {"size": "std"}, 4900, stock)]
    await commerce.catalog.create_product(
        ProductDraft("B1", "bolt", "tools", names("扳手", "Wrench"), names("钢", "Steel"), wrench)
    )
    await commerce.catalog.publish("B1")
    return bolt
