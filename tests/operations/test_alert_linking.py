"""A channel identity linked into an existing account from a new channel (R5.1-3): staff get an alert
and the shopper is told on the channel they used before, in their language, naming the new channel;
a second device on a channel the account already uses is only announced, with no alert."""

from __future__ import annotations

from commerce_core.api import AlertRule
from tests.operations.alerts_support import Staffed, staffed

__all__ = ["staffed"]

OLD_CHAT = 7801


async def test_a_new_channel_linked_in_alerts_staff_and_tells_the_shopper_on_the_old_one(
    staffed: Staffed,
) -> None:
    """R5.1-3: a Telegram shopper (reading Traditional Chinese) proves their phone from the web chat:
    the Telegram chat is told "linked to 網頁聊天" in zh-Hant, and staff get one alert."""
    customers = staffed.commerce.customers
    owner = await customers.identify("telegram", str(OLD_CHAT), language="zh-Hant")
    await customers.bind_phone(owner.id, "13800001111", verified=True)
    newcomer = await customers.identify("web", "w-browser-1")
    await customers.link_into(newcomer.id, owner.id)
    await staffed.relay()
    (told,) = staffed.told(OLD_CHAT)
    assert "網頁聊天" in told and "不是您本人" in told
    (alert,) = await staffed.alerts(AlertRule.NEW_CHANNEL_LINKED)
    assert alert.details["new_channels"] == ["web"] and alert.details["old_channels"] == ["telegram"]
    assert "w-browser-1" not in repr(alert)  # the joined account's id stays out of the alert
    post = next(p for p in staffed.group_posts() if alert.public_id in p)
    assert "the web chat" in post and owner.public_id in post
    await staffed.relay()  # relayed again: nothing new
    assert len(await staffed.alerts()) == 1 and len(staffed.told(OLD_CHAT)) == 1


async def test_a_second_device_on_a_known_channel_is_announced_without_an_alert(staffed: Staffed) -> None:
    """R5.1-3 below the rule: a second web session joining an account that already chats on the web
    is announced on the other channels (the generic sign-in notice), and raises no alert."""
    customers = staffed.commerce.customers
    owner = await customers.identify("telegram", str(OLD_CHAT + 1), language="en")
    first_web = await customers.identify("web", "w-first")
    await customers.link_into(first_web.id, owner.id)
    await staffed.relay()
    assert len(await staffed.alerts(AlertRule.NEW_CHANNEL_LINKED)) == 1  # web was new then
    second_web = await customers.identify("web", "w-second")
    await customers.link_into(second_web.id, owner.id)
    await staffed.relay()
    assert len(await staffed.alerts(AlertRule.NEW_CHANNEL_LINKED)) == 1  # web is known now
    told = staffed.told(OLD_CHAT + 1)
    assert len(told) == 2
    assert "linked to the web chat" in told[0]
    assert "signed in from another chat or device" in told[1]
