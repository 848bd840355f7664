"""The catalogue as the NLU sees it: names and synonyms, nothing else.

``nlu`` must not import ``commerce_core``; the composition root converts the live catalogue into a
``CatalogueTerms`` value and hands it to ``Interpreter.update_catalogue``. Keeping it plain data means
a catalogue change (a new product, a new synonym) only rebuilds this small index, never the trained
intent model.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class BrandTerm:
    """A brand: ``id`` is what the entity value carries; ``names`` are every way to write it."""

    id: str
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CategoryTerm:
    """A category with its names per language (``{"zh-Hans": "运动鞋", "en": "sneakers"}``) and synonyms."""

    id: str
    names: Mapping[str, str]
    synonyms: tuple[str, ...] = ()
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class ProductTerm:
    """A product with its names per language, synonyms (nicknames, model numbers), brand and category."""

    id: str
    names: Mapping[str, str]
    synonyms: tuple[str, ...] = ()
    brand: str | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class AttributeValue:
    """A value of a product attribute (``attribute="material", code="cotton", names=("棉", "cotton")``).

    Values of ``color`` and ``size`` extend the built-in colour and size words (a shop's own "酒红"
    becomes ``color=red`` if its code is ``red``); other attributes become entities named after the
    attribute.
    """

    attribute: str
    code: str
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CatalogueTerms:
    """Everything the NLU needs to know about the catalogue."""

    products: tuple[ProductTerm, ...] = ()
    brands: tuple[BrandTerm, ...] = ()
    categories: tuple[CategoryTerm, ...] = ()
    attributes: tuple[AttributeValue, ...] = field(default=())

    def surfaces(self) -> Iterator[tuple[str, str, str]]:
        """Every ``(entity type, value, surface form)`` the matcher should recognise."""
        for p in self.products:
            for name in (*p.names.values(), *p.synonyms):
                yield "product", p.id, name
        for b in self.brands:
            for name in b.names:
                yield "brand", b.id, name
        for c in self.categories:
            for name in (*c.names.values(), *c.synonyms):
                yield "category", c.id, name
        for a in self.attributes:
            for name in a.names:
                yield a.attribute, a.code, name


EMPTY_CATALOGUE = CatalogueTerms()

SAMPLE_CATALOGUE = CatalogueTerms(
    brands=(
        BrandTerm("nike", ("Nike", "耐克")),
        BrandTerm("adidas", ("Adidas", "阿迪达斯", "阿迪")),
        BrandTerm("uniqlo", ("Uniqlo", "优衣库", "優衣庫")),
        BrandTerm("apple", ("Apple", "苹果")),
        BrandTerm("xiaomi", ("Xiaomi", "Mi", "小米")),
        BrandTerm("lining", ("Li-Ning", "Li Ning", "李宁")),
    ),
    categories=(
        CategoryTerm("tops", {"zh-Hans": "上衣", "en": "tops"}, ("T恤", "t-shirt", "tee", "衬衫", "shirt")),
        CategoryTerm("dresses", {"zh-Hans": "连衣裙", "en": "dresses"}, ("裙子", "dress", "裙")),
        CategoryTerm(
            "shoes", {"zh-Hans": "鞋子", "en": "shoes"}, ("运动鞋", "跑鞋", "sneakers", "鞋", "shoe")
        ),
        CategoryTerm("bags", {"zh-Hans": "包", "en": "bags"}, ("背包", "双肩包", "backpack", "handbag")),
        CategoryTerm("audio", {"zh-Hans": "耳机", "en": "headphones"}, ("earbuds", "earphones", "蓝牙耳机")),
        CategoryTerm("wearables", {"zh-Hans": "智能手环", "en": "fitness tracker"}, ("手环", "smart band")),
    ),
    products=(
        ProductTerm(
            "p-pegasus-40",
            {"zh-Hans": "耐克飞马40跑鞋", "en": "Nike Air Zoom Pegasus 40"},
            ("飞马40", "Pegasus 40", "pegasus"),
            "nike",
            "shoes",
        ),
        ProductTerm(
            "p-airpods-pro",
            {"zh-Hans": "AirPods Pro 无线耳机", "en": "AirPods Pro"},
            ("airpods pro", "airpods", "苹果耳机"),
            "apple",
            "audio",
        ),
        ProductTerm(
            "p-mi-band-8",
            {"zh-Hans": "小米手环8", "en": "Xiaomi Smart Band 8"},
            ("mi band 8", "小米手环"),
            "xiaomi",
            "wearables",
        ),
        ProductTerm(
            "p-uniqlo-u-tee",
            {"zh-Hans": "优衣库U系列圆领T恤", "en": "Uniqlo U Crew Neck T-Shirt"},
            ("圆领T恤", "crew neck tee", "U系列T恤"),
            "uniqlo",
            "tops",
        ),
        ProductTerm(
            "p-floral-dress",
            {"zh-Hans": "碎花连衣裙", "zh-Hant": "碎花連身裙", "en": "Floral Midi Dress"},
            ("碎花裙", "floral dress", "midi dress"),
            None,
            "dresses",
        ),
        ProductTerm(
            "p-wade-808",
            {"zh-Hans": "李宁韦德之道808篮球鞋", "en": "Li-Ning Way of Wade 808"},
            ("韦德之道", "way of wade", "wade 808"),
            "lining",
            "shoes",
        ),
        ProductTerm(
            "p-ultraboost",
            {"zh-Hans": "阿迪达斯Ultraboost跑鞋", "en": "Adidas Ultraboost Light"},
            ("ultraboost", "爆米花跑鞋"),
            "adidas",
            "shoes",
        ),
        ProductTerm(
            "p-canvas-backpack",
            {"zh-Hans": "帆布双肩包", "en": "Canvas Backpack"},
            ("帆布包", "canvas bag"),
            None,
            "bags",
        ),
    ),
    attributes=(
        AttributeValue("material", "cotton", ("纯棉", "棉质", "cotton")),
        AttributeValue("material", "leather", ("真皮", "皮质", "leather")),
        AttributeValue("material", "linen", ("亚麻", "linen")),
        AttributeValue("color", "red", ("酒红", "burgundy")),
    ),
)
"""A tiny catalogue for tests, the command line and the benchmark."""
