"""The audit log as CSV (R3.4-5): the same filters as the audit page, every matching row (up to a
bound), for auditors and incident reviews (docs/operations.md). The export itself is audited.

Cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or CR)
get a leading apostrophe: an operator's e-mail or a detail written by an attacker must not become code
on the auditor's machine.
"""

from __future__ import annotations

import csv
import io

from aiohttp import web

from bot.backoffice.pages import operators, text, visit
from bot.backoffice.views.admin import AUDIT_FIELDS, _day
from commerce_core.operators.types import AuditEntryView, AuditFilter

EXPORT_LIMIT = 50_000
PAGE = 500  # the core's largest audit page (commerce_core.operators.audit.MAX_AUDIT_PAGE)
COLUMNS = ("at", "actor_email", "actor_id", "action", "object_type", "object_id", "ip", "detail")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    shown = "" if value is None else value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + shown if shown.startswith(FORMULA_START) else shown


def _row(entry: AuditEntryView) -> list[str]:
    return [_cell(getattr(entry, column)) for column in COLUMNS]


async def audit_export(request: web.Request) -> web.StreamResponse:
    query = request.query
    shown = {name: query.get(name, "").strip()[:120] for name in AUDIT_FIELDS}
    try:
        since = _day(query.get("since", "").strip()[:10], end=False)
        until = _day(query.get("until", "").strip()[:10], end=True)
    except ValueError:
        return web.Response(status=400, text=text(request, "audit.bad_filter"))
    wanted = AuditFilter(
        actor_email=shown["actor"].lower() or None,
        action=shown["action"] or None,
        object_type=shown["object_type"] or None,
        object_id=shown["object_id"] or None,
        since=since,
        until=until,
    )
    service = operators(request)
    actor = visit(request).actor
    await service.record(actor, "audit.export", "audit_log", None, detail=query_string(request))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for offset in range(0, EXPORT_LIMIT, PAGE):
        entries = await service.audit_log(wanted, limit=PAGE, offset=offset)
        writer.writerows(_row(entry) for entry in entries)
        if len(entries) < PAGE:
            break
    return web.Response(
        body=("\ufeff" + buffer.getvalue()).encode(),  # the BOM: spreadsheets then read UTF-8 (中文)
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
    )


def query_string(request: web.Request) -> str:
    return request.query_string[:500] or "all"
