"""The merchant console's listings (R4.3-1/2): enter a product, edit it, change stock and prices, import
a CSV; and the public image route the chat's product cards load pictures from.

Scoping is by the signed-in operator's merchant id only (never the request): the core answers "not
found" for another merchant's listing or SKU, which the guard shows as the same 404 page as an unknown
code. Images are uploaded into the file store (type recognised from the bytes, size limited) under the
merchant as owner; the listing keeps the image's path. A refusal from the core (a bad price, a taken
code) is shown on the form with the field it is about, and nothing typed is lost.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from bot.backoffice.pages import field, flash, form, operators, redirect, render, text, url, visit
from commerce_core.api import (
    Commerce,
    DomainError,
    FileRef,
    FileStore,
    InvalidInput,
    ListingContent,
    ListingInput,
    VariantInput,
    pick_language,
)

#: the commerce core (its ``listings`` and ``listing_reviews``), set by ``setup_backoffice``
LISTINGS: web.AppKey[Commerce] = web.AppKey("backoffice.listings", Commerce)
#: where uploaded product images go (the local folder store by default)
IMAGES: web.AppKey[FileStore] = web.AppKey("backoffice.listing_images")
CODE_LIMIT = 64
VARIANT_ROWS = 3
MAX_CSV_BYTES = 5 * 1024 * 1024


def commerce(request: web.Request) -> Commerce:
    return request.app[LISTINGS]


def merchant_id(request: web.Request) -> int:
    found = visit(request).me().merchant_id
    if found is None:  # a merchant role always has one; refuse rather than show anyone's data
        raise web.HTTPNotFound()
    return found


def actor(request: web.Request) -> str:
    return f"operator:{visit(request).me().public_id}"


def price_minor(raw: str) -> int:
    """Yuan as typed ("259", "259.90") in fen; anything else is ``invalid_price`` on field ``price``."""
    try:
        value = Decimal(raw.replace(",", "").strip())
    except InvalidOperation as exc:
        raise InvalidInput("not a price", code="invalid_price", field="price") from exc
    minor = value * 100
    if not value.is_finite() or value <= 0 or minor != minor.to_integral_value() or minor > 10**10:
        raise InvalidInput("not a price", code="invalid_price", field="price")
    return int(minor)


def whole(raw: str, name: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or int(raw) > 10**7:
        raise InvalidInput("not a whole number", code="invalid_quantity", field=name)
    return int(raw)


def refusal(request: web.Request, error: DomainError) -> str:
    """The refusal in the visitor's language, naming the field when the core said which."""
    name = str(error.params.get("field") or "")
    label = text(request, f"listings.field.{name}") if name else ""
    reason = text(request, f"listings.error.{error.code}")
    if reason == f"listings.error.{error.code}":
        reason = text(request, "listings.error.other")
    return text(request, "listings.error.with_field", field=label, reason=reason) if label else reason


def _texts(values: MultiDictProxy[Any], stem: str, limit: int) -> dict[str, str]:
    pairs = (("zh-Hans", f"{stem}_zh"), ("en", f"{stem}_en"))
    return {lang: field(values, name, limit) for lang, name in pairs if field(values, name, limit)}


async def _images(request: web.Request, values: MultiDictProxy[Any], owner: str) -> list[str]:
    """Store every uploaded image (checked by the store) and return their paths."""
    stored = []
    for upload in values.getall("images", []):
        if isinstance(upload, str) or not getattr(upload, "filename", None):
            continue
        data = upload.file.read()
        if not data:
            continue
        try:
            ref = await request.app[IMAGES].put(
                data, content_type=upload.content_type, owner=owner, kind="image"
            )
        except InvalidInput as error:
            raise InvalidInput(str(error), code=error.code, field="images") from error
        major, minor = ref.content_type.split("/")
        stored.append(
            url(
                request,
                "listings.image",
                owner=ref.owner,
                digest=ref.digest,
                major=major,
                minor=minor,
                size=str(ref.size),
            )
        )
    return stored


def _owner(request: web.Request) -> str:
    return f"merchant:{visit(request).me().merchant_code or merchant_id(request)}"


async def _content(request: web.Request, values: MultiDictProxy[Any], keep: list[str]) -> ListingContent:
    attributes = {
        name: field(values, name, 200) for name in ("material", "usage") if field(values, name, 200)
    }
    return ListingContent(
        name=_texts(values, "name", 200),
        description=_texts(values, "description", 5000),
        attributes=attributes,
        images=[*keep, *await _images(request, values, _owner(request))],
        brand=field(values, "brand", 100) or None,
    )


def _variants(values: MultiDictProxy[Any], code: str) -> list[VariantInput]:
    variants = []
    for row in range(1, VARIANT_ROWS + 1):
        price = field(values, f"price_{row}", 20)
        if not price:
            continue
        options = {
            name: field(values, f"{name}_{row}", 64)
            for name in ("color", "size")
            if field(values, f"{name}_{row}", 64)
        }
        sku = field(values, f"sku_{row}", CODE_LIMIT) or f"{code}-{row}"
        stock = whole(field(values, f"stock_{row}", 10) or "0", "stock")
        variants.append(VariantInput(sku, options, price_minor(price), stock))
    return variants


async def new_page(request: web.Request) -> web.StreamResponse:
    categories = await commerce(request).catalog.categories()
    return render(request, "listing_new.html", categories=categories, values={}, rows=VARIANT_ROWS)


async def new_submit(request: web.Request) -> web.StreamResponse:
    values = await form(request)
    code = field(values, "code", CODE_LIMIT)
    try:
        entry = ListingInput(
            code=code,
            category_code=field(values, "category", CODE_LIMIT),
            content=await _content(request, values, []),
            variants=_variants(values, code),
        )
        await commerce(request).listings.submit(merchant_id(request), entry, actor=actor(request))
    except DomainError as refused:
        categories = await commerce(request).catalog.categories()
        kept = {k: v for k, v in values.items() if isinstance(v, str) and k != "csrf"}
        return render(
            request,
            "listing_new.html",
            status=400,
            categories=categories,
            values=kept,
            rows=VARIANT_ROWS,
            error=refusal(request, refused),
        )
    await operators(request).record(visit(request).actor, "listing.submit", "listing", code)
    flash(request, "listings.submitted")
    raise redirect(request, "listings.detail", code=code)


async def detail(request: web.Request, *, error: str | None = None, status: int = 200) -> web.StreamResponse:
    code = request.match_info["code"][:CODE_LIMIT]
    shown = await commerce(request).listings.detail(merchant_id(request), code)
    return render(request, "listing.html", status=status, listing=shown, error=error)


async def edit(request: web.Request) -> web.StreamResponse:
    """New texts, attributes or images: to review (a live listing keeps selling its approved version)."""
    code = request.match_info["code"][:CODE_LIMIT]
    mine = merchant_id(request)
    current = await commerce(request).listings.detail(mine, code)  # 404 unless it is mine
    values = await form(request)
    keep = [image for image in current.product.images if image in values.getall("keep_image", [])]
    try:
        content = _keep_attributes(await _content(request, values, keep), current.product.attributes, request)
        await commerce(request).listings.edit(mine, code, content, actor=actor(request))
    except DomainError as refused:
        return await detail(request, error=refusal(request, refused), status=400)
    await operators(request).record(visit(request).actor, "listing.edit", "listing", code)
    flash(request, "listings.edited")
    raise redirect(request, "listings.detail", code=code)


def _keep_attributes(
    content: ListingContent, current: dict[str, Any], request: web.Request
) -> ListingContent:
    """The attributes the form does not show stay; one shown unchanged keeps all its languages."""
    lang = visit(request).language
    attributes = {k: v for k, v in current.items() if k not in ("material", "usage")}
    for name in ("material", "usage"):
        typed = content.attributes.get(name)
        before = current.get(name)
        shown = pick_language(before, lang) if isinstance(before, dict) else before
        if typed and typed == shown:
            attributes[name] = before
        elif typed:
            attributes[name] = typed
    return replace(content, attributes=attributes)


async def stock_price(request: web.Request) -> web.StreamResponse:
    """Stock and price of one variant: they take effect at once (a big price move is flagged)."""
    code = request.match_info["code"][:CODE_LIMIT]
    mine = merchant_id(request)
    await commerce(request).listings.detail(mine, code)  # 404 unless it is mine
    values = await form(request)
    sku = field(values, "sku", CODE_LIMIT)
    listings = commerce(request).listings
    flagged = False
    try:
        if field(values, "stock", 10):
            await listings.set_stock(
                mine, sku, whole(field(values, "stock", 10), "stock"), actor=actor(request)
            )
        if field(values, "price", 20):
            price = price_minor(field(values, "price", 20))
            flagged = await listings.set_price(mine, sku, price, actor=actor(request))
    except DomainError as refused:
        if refused.code == "sku_not_found":
            raise
        return await detail(request, error=refusal(request, refused), status=400)
    await operators(request).record(visit(request).actor, "listing.stock_price", "sku", sku)
    flash(request, "listings.price_flagged" if flagged else "listings.stock_saved")
    raise redirect(request, "listings.detail", code=code)


async def import_page(request: web.Request) -> web.StreamResponse:
    return render(request, "listing_import.html", report=None)


async def import_submit(request: web.Request) -> web.StreamResponse:
    values = await form(request)
    upload = values.get("file")
    raw = upload.file.read(MAX_CSV_BYTES + 1) if upload is not None and not isinstance(upload, str) else b""
    if not raw or len(raw) > MAX_CSV_BYTES:
        return render(
            request, "listing_import.html", status=400, report=None, error=text(request, "listings.csv_file")
        )
    try:
        data = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return render(
            request, "listing_import.html", status=400, report=None, error=text(request, "listings.csv_utf8")
        )
    report = await commerce(request).listings.import_csv(merchant_id(request), data, actor=actor(request))
    detail_text = f"{len(report.submitted)} submitted, {len(report.errors)} errors"
    await operators(request).record(visit(request).actor, "listing.import", "listing", None, detail_text)
    return render(request, "listing_import.html", status=200 if report.submitted else 400, report=report)


async def image(request: web.Request) -> web.StreamResponse:
    """A listing image (public: shoppers' product cards show it); anything malformed is a 404."""
    parts = request.match_info
    key = "/".join(parts[name] for name in ("owner", "digest", "major", "minor", "size"))
    try:
        ref = FileRef.parse(key)
        if not ref.owner.startswith("merchant:") or not ref.content_type.startswith("image/"):
            raise web.HTTPNotFound()
        data, content_type = await request.app[IMAGES].get(ref)
    except DomainError as missing:
        raise web.HTTPNotFound() from missing
    return web.Response(
        body=data, content_type=content_type, headers={"Cache-Control": "public, max-age=86400"}
    )
