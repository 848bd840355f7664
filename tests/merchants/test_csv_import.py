"""CSV bulk import of listings with row-level errors (R4.3-1), on SQLite and PostgreSQL.

Must show (issue 13): 1,000 rows with 10 bad rows -> 990 submitted to review, 10 row errors that name
the row (as a spreadsheet numbers it, header = row 1) and the field.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from commerce_core.api import Commerce, NotFound
from tests.merchants.conftest import Team
from tests.merchants.listing_helpers import both_databases

HEADER = [
    "code", "category", "name_zh", "name_en", "description_zh", "description_en",
    "price", "stock", "size", "colour", "material", "usage", "images",
]  # fmt: skip
#: data row index (0-based) -> (columns to spoil with their bad values, the field the error must name)
BAD: dict[int, tuple[dict[str, str], str]] = {
    7: ({"price": "abc"}, "price"),
    101: ({"price": "-5"}, "price"),
    202: ({"stock": "many"}, "stock"),
    303: ({"category": "no-such-category"}, "category"),
    404: ({"name_zh": "", "name_en": ""}, "name"),
    505: ({"description_zh": "", "description_en": " "}, "description"),
    606: ({"code": "bad code!"}, "code"),
    707: ({"code": "CSV-0001"}, "code"),  # the same code as an earlier row
    808: ({"price": "12.345"}, "price"),
    909: ({"stock": "-1"}, "stock"),
}


def _csv(rows: int) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for index in range(rows):
        row = {
            "code": f"CSV-{index:04d}",
            "category": "dresses",
            "name_zh": f"雪纺连衣裙 {index}号款",
            "name_en": f"Chiffon dress no. {index}",
            "description_zh": f"第{index}款：雪纺面料，棉质内衬" if index % 3 else f"款式{index}，全网最好",
            "description_en": f"Chiffon dress model {index} with a cotton lining",
            "price": "259.00",
            "stock": "5",
            "size": "M",
            "colour": "red",
            "material": "chiffon",
            "usage": "summer",
            "images": "/media/demo/P0001-1.svg",
        }
        if index in BAD:
            row.update(BAD[index][0])
        writer.writerow([row[name] for name in HEADER])
    return out.getvalue()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return both_databases(request, tmp_path)


async def test_a_thousand_rows_with_ten_bad_ones(commerce: Commerce, team: Team) -> None:
    report = await commerce.listings.import_csv(team.acme, _csv(1000), actor="operator:test")
    assert len(report.submitted) == 990
    assert [(e.row, e.field) for e in report.errors] == [
        (index + 2, field) for index, (_, field) in sorted(BAD.items())
    ]
    assert {e.code for e in report.errors} >= {"invalid_price", "category_not_found", "duplicate_code"}

    queue = await commerce.listing_reviews.queue(limit=200)
    assert {i.kind for i in queue} == {"submission"}
    flagged = [i for i in queue if i.findings]
    assert flagged and all(f.code == "advertising_terms" for i in flagged for f in i.findings)
    detail = await commerce.listings.detail(team.acme, "CSV-0998")
    assert detail.product.status == "pending_review" and detail.stock == {"CSV-0998": 5}
    assert detail.product.min_price.amount == 25900
    with pytest.raises(NotFound):
        await commerce.listings.detail(team.acme, "CSV-0007")  # the bad row made nothing

    again = await commerce.listings.import_csv(team.acme, _csv(3), actor="operator:test")
    assert again.submitted == () and [(e.row, e.field, e.code) for e in again.errors] == [
        (2, "code", "duplicate_code"), (3, "code", "duplicate_code"), (4, "code", "duplicate_code")
    ]  # fmt: skip


async def test_a_file_without_the_needed_columns_is_refused_as_a_whole(
    commerce: Commerce, team: Team
) -> None:
    report = await commerce.listings.import_csv(team.acme, "code,name_en\nA1,Dress\n", actor="operator:test")
    assert report.submitted == ()
    assert [(e.row, e.field, e.code) for e in report.errors] == [
        (1, "category", "column_missing"), (1, "price", "column_missing"), (1, "stock", "column_missing")
    ]  # fmt: skip
