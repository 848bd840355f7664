"""Helpers shared by the onboarding tests (HTTP and browser): sample licence files, a multipart form
post carrying the page's CSRF token, and the accounts the review needs."""

from __future__ import annotations

from typing import Any

from aiohttp import FormData

from commerce_core.api import SYSTEM_ACTOR, Commerce, OperatorRole, OperatorView
from tests.backoffice.conftest import PASSWORD, Browser

#: a tiny file that IS a PNG (the store recognises types from the first bytes)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64 + b"licence scan"
PDF = b"%PDF-1.4\n% tax registration\n"

COMPANY = {
    "company_name": "Lotus Tea Trading Co.",
    "legal_representative": "Li Hua",
    "contact_name": "Wang Fang",
    "contact_phone": "13800138000",
    "contact_email": "hello@lotus-tea.example",
}


async def post_multipart(
    browser: Browser, path: str, fields: dict[str, str], files: dict[str, tuple[bytes, str]]
) -> tuple[int, str]:
    """POST a form with files as the apply page would (its CSRF token included), following redirects."""
    data = FormData()
    data.add_field("csrf", browser.token)
    for name, value in fields.items():
        data.add_field(name, value)
    for name, (content, content_type) in files.items():
        data.add_field(name, content, filename=f"{name}.bin", content_type=content_type)
    response = await browser.client.post(path, data=data)
    body = await response.text()
    await browser.get("/admin/")  # refresh the token for the next form
    return response.status, body


async def reviewer(
    commerce: Commerce, email: str = "reviewer@example.com", language: str = "en"
) -> OperatorView:
    return await commerce.operators.create(
        email, PASSWORD, OperatorRole.REVIEWER, display_name="Rita", language=language, actor=SYSTEM_ACTOR
    )


async def applicant(commerce: Commerce, email: str, language: str = "en") -> OperatorView:
    return await commerce.operators.sign_up_applicant(email, PASSWORD, email.split("@")[0], language, None)


def standard_files(**overrides: Any) -> dict[str, tuple[bytes, str]]:
    files = {"business_licence": (PNG, "image/png"), "tax_registration": (PDF, "application/pdf")}
    files.update(overrides)
    return files
