"""The back office's alerts page (R3.4-2, R4.1-6) over real HTTP: admins and agents list alerts with
filters and acknowledge them (an audit row names who, with the note); a merchant user is refused the
page and the action; the page shows masked contacts only, in the visitor's language."""

from __future__ import annotations

from dataclasses import replace

from commerce_core.api import AlertRule, AlertThresholds, Commerce
from commerce_core.operators.types import AuditFilter
from commerce_core.orders.types import LineRequest
from tests.backoffice.conftest import Browser, People
from tests.commerce.factory import ADDRESS

ACK = "/admin/alerts/{}/acknowledge"


async def _large_order_alert(commerce: Commerce, people: People) -> str:
    """people.order_b holds two wrenches: with a two-item threshold it is an unusually large order."""
    commerce.alerts.thresholds = AlertThresholds(large_order_quantity=2)
    (alert,) = await commerce.alerts.order_placed(people.order_b)
    assert await commerce.alerts.order_placed(people.order_a) == []  # one item: below the threshold
    return alert.public_id


async def test_an_admin_filters_and_acknowledges_an_alert_with_an_audit_row(
    browser: Browser, people: People, commerce: Commerce
) -> None:
    """R3.4-2: the admin sees the alert (rule, order, quantity), filters it in and out, acknowledges
    it with a note; it then shows as acknowledged by them, and the audit log has the row."""
    alert_id = await _large_order_alert(commerce, people)
    await browser.login(people.admin.email)
    status, page = await browser.get("/admin/alerts")
    assert status == 200 and alert_id in page and people.order_b in page and "2 items" in page
    _, other_rule = await browser.get(f"/admin/alerts?rule={AlertRule.REFUND_LOOP.value}")
    assert alert_id not in other_rule and "No alerts match." in other_rule
    _, large = await browser.get("/admin/alerts?rule=large_order&state=open&since=2020-01-01")
    assert alert_id in large
    _, later = await browser.get("/admin/alerts?since=2999-01-01")
    assert alert_id not in later
    status, after = await browser.post(ACK.format(alert_id), {"note": "checked with the buyer"})
    assert status == 200 and "Alert acknowledged." in after
    assert people.admin.public_id in after and "checked with the buyer" in after
    _, still_open = await browser.get("/admin/alerts?state=open")
    assert alert_id not in still_open
    (row,) = await commerce.operators.audit_log(AuditFilter(action="alert.acknowledge"))
    assert row.actor_email == people.admin.email and row.object_id == alert_id
    assert row.detail is not None and "checked with the buyer" in row.detail
    status, again = await browser.post(ACK.format(alert_id), {"note": "twice"})
    assert status == 409 and "already acknowledged" in again


async def test_an_agent_sees_alerts_and_a_bad_filter_is_a_clear_400(
    browser: Browser, people: People, commerce: Commerce
) -> None:
    """R3.4-2: agents read alerts too; a date that is not a date is refused with a message, not a 500."""
    alert_id = await _large_order_alert(commerce, people)
    await browser.login(people.agent.email)
    status, page = await browser.get("/admin/alerts")
    assert status == 200 and alert_id in page
    status, refused = await browser.get("/admin/alerts?since=yesterday&rule=nonsense")
    assert status == 400 and "check the dates" in refused
    status, _ = await browser.post(ACK.format("AL0000000000"))
    assert status == 404


async def test_a_merchant_user_cannot_see_or_acknowledge_alerts(
    browser: Browser, people: People, commerce: Commerce
) -> None:
    """R4.1-6: alerts are staff's; a merchant owner is refused the page and the action, and the alert
    stays open."""
    alert_id = await _large_order_alert(commerce, people)
    await browser.login(people.owner_b.email)
    status, page = await browser.get("/admin/alerts")
    assert status == 403 and alert_id not in page
    _, home = await browser.get("/admin/")
    assert "/admin/alerts" not in home  # no link to a page they cannot open
    status, _ = await browser.post(ACK.format(alert_id), {"note": "mine now"})
    assert status == 403
    assert (await commerce.alerts.get(alert_id)).acknowledged_at is None


async def test_the_page_speaks_chinese_and_shows_only_masked_phones(
    browser: Browser, people: People, commerce: Commerce
) -> None:
    """R3.4-2: three new accounts shipping to one phone: the page (in Simplified Chinese) names the
    rule and shows the phone masked, never in clear."""
    commerce.alerts.thresholds = AlertThresholds(accounts_per_contact=3)
    for n in range(3):
        shopper = await commerce.customers.identify("web", f"shared-{n}")
        address = replace(ADDRESS, line=f"长寿路{n}号")
        order = await commerce.orders.place(shopper.id, address, f"k{n}", items=[LineRequest("D3-BLU-M", 1)])
        await commerce.alerts.order_placed(order.number)
    await browser.login(people.admin.email)
    await browser.post("/admin/language", {"lang": "zh-Hans", "back": "/admin/alerts"})
    status, page = await browser.get("/admin/alerts")
    assert status == 200 and "多个新账户共用电话" in page and "138******78" in page
    assert "13812345678" not in page and "长寿路" not in page
