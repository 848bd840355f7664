"""CSV bulk import of listings with row-level errors (R4.3-1).

One row is one listing with one variant. Columns (header names, any order; unknown ones ignored)::

    code, category, name_zh, name_en, description_zh, description_en, brand, sku,
    price, stock, size, colour, material, usage, images

``price`` is in yuan with at most two decimals ("49.9"), ``stock`` a whole number, ``images`` a list
of image references separated by ``|``. ``size`` and ``colour`` become the variant's options,
``material`` and ``usage`` its attributes. A row with a bad field is not imported and is reported as
(row number, field, code), row 1 being the header as in a spreadsheet; every other row is submitted
to review with the automated checks' findings. Rows are written a batch per transaction.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from commerce_core.catalog import checks, listings_store
from commerce_core.catalog.listings_types import (
    ImportReport,
    ListingContent,
    ListingInput,
    ListingPolicy,
    RowError,
    VariantInput,
)
from commerce_core.catalog.model import Category, Product, Sku
from commerce_core.errors import DomainError, InvalidInput
from commerce_core.uow import Units

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024
BATCH = 200
REQUIRED_COLUMNS = ("code", "category", "price", "stock")


def _price(raw: str) -> int:
    try:
        value = Decimal(raw.strip().replace(",", ""))
    except InvalidOperation as exc:
        raise InvalidInput("not a price", code="invalid_price", field="price") from exc
    minor = value * 100
    if not value.is_finite() or value <= 0 or minor != minor.to_integral_value() or minor > 10**10:
        raise InvalidInput("not a price", code="invalid_price", field="price")
    return int(minor)


def _stock(raw: str) -> int:
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or int(text) > 10**7:
        raise InvalidInput("not a stock count", code="invalid_quantity", field="stock")
    return int(text)


def _row_entry(
    row: dict[str, str], number: int, categories: set[str]
) -> tuple[ListingInput | None, list[RowError]]:
    """The listing a row describes, or every field error it has."""
    errors: list[RowError] = []

    def get(name: str) -> str:
        return (row.get(name) or "").strip()

    def attempt(name: str, parse):  # type: ignore[no-untyped-def]
        try:
            return parse(get(name))
        except DomainError as error:
            errors.append(RowError(number, name, error.code))
            return None

    code = get("code")
    if not listings_store.check_code_ok(code):
        errors.append(RowError(number, "code", "invalid_code"))
    if get("category") not in categories:
        errors.append(RowError(number, "category", "category_not_found"))
    name = {lang: get(column) for lang, column in (("zh-Hans", "name_zh"), ("en", "name_en")) if get(column)}
    if not name:
        errors.append(RowError(number, "name", "required"))
    description = {
        lang: get(column)
        for lang, column in (("zh-Hans", "description_zh"), ("en", "description_en"))
        if get(column)
    }
    if not description:
        errors.append(RowError(number, "description", "required"))
    price = attempt("price", _price)
    stock = attempt("stock", _stock)
    if errors or price is None or stock is None:
        return None, errors
    options = {key: get(column) for key, column in (("size", "size"), ("color", "colour")) if get(column)}
    attributes = {key: get(key) for key in ("material", "usage") if get(key)}
    images = [i.strip() for i in get("images").split("|") if i.strip()]
    entry = ListingInput(
        code=code,
        category_code=get("category"),
        content=ListingContent(name, description, attributes, images, get("brand") or None),
        variants=[VariantInput(get("sku") or code, options, price, stock)],
    )
    try:
        return listings_store.clean_input(entry), []
    except DomainError as error:
        field = str(error.params.get("field") or "row")
        return None, [RowError(number, {"sku": "sku", "code": "code"}.get(field, field), error.code)]


def parse(data: str) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """The rows (numbered as in a spreadsheet) or a file-level error (row 1: the header)."""
    if len(data.encode()) > MAX_BYTES:
        return [], [RowError(1, "file", "file_too_large")]
    reader = csv.DictReader(io.StringIO(data.lstrip("\ufeff")))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        return [], [RowError(1, name, "column_missing") for name in missing]
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for row in reader:
            if len(rows) >= MAX_ROWS:
                return [], [RowError(1, "file", "too_many_rows")]
            if any((v or "").strip() for v in row.values() if isinstance(v, str)):
                rows.append(
                    (
                        reader.line_num,
                        {k: v for k, v in row.items() if isinstance(k, str) and isinstance(v, str)},
                    )
                )
    except csv.Error:
        return [], [RowError(reader.line_num or 1, "file", "csv_invalid")]
    return rows, []


async def import_rows(
    units: Units, policy: ListingPolicy, merchant_id: int, data: str, *, actor: str
) -> ImportReport:
    rows, errors = parse(data)
    if errors:
        return ImportReport((), tuple(errors))
    async with units.orm() as uow:
        categories = {c.code: c for c in (await uow.session.scalars(select(Category))).all()}
    good: list[tuple[int, ListingInput]] = []
    seen_codes: set[str] = set()
    seen_skus: set[str] = set()
    for number, row in rows:
        entry, row_errors = _row_entry(row, number, set(categories))
        if entry is not None:
            sku = entry.variants[0].sku
            if entry.code in seen_codes:
                row_errors = [RowError(number, "code", "duplicate_code")]
            elif sku in seen_skus:
                row_errors = [RowError(number, "sku", "duplicate_sku")]
            else:
                seen_codes.add(entry.code)
                seen_skus.add(sku)
                good.append((number, entry))
        errors += row_errors
    async with units.orm() as uow:
        taken = (
            set((await uow.session.scalars(select(Product.code).where(Product.code.in_(seen_codes)))).all())
            if seen_codes
            else set()
        )
        taken_skus = (
            set((await uow.session.scalars(select(Sku.code).where(Sku.code.in_(seen_skus)))).all())
            if seen_skus
            else set()
        )
    kept: list[tuple[int, ListingInput]] = []
    for number, entry in good:
        if entry.code in taken:
            errors.append(RowError(number, "code", "duplicate_code"))
        elif entry.variants[0].sku in taken_skus:
            errors.append(RowError(number, "sku", "duplicate_sku"))
        else:
            kept.append((number, entry))
    submitted: list[str] = []
    for start in range(0, len(kept), BATCH):
        async with units.orm() as uow:
            contexts: dict[int, checks.CheckContext] = {}
            here = {c.code: c for c in (await uow.session.scalars(select(Category))).all()}
            batch: list[listings_store.NewListing] = []
            for _, entry in kept[start : start + BATCH]:
                category = here[entry.category_code]
                if category.id not in contexts:
                    contexts[category.id] = await listings_store.check_context(uow, category.id, policy)
                findings = checks.check_listing(
                    listings_store.facts(category.code, entry.content, entry.variants, entry.code),
                    contexts[category.id],
                )
                batch.append(listings_store.NewListing(category, entry, findings))
            await listings_store.insert_listings(uow, merchant_id, batch, actor)
            submitted += [listing.entry.code for listing in batch]
            await uow.commit()
    return ImportReport(tuple(submitted), tuple(sorted(errors, key=lambda e: (e.row, e.field))))
