"""One-time binding codes: how a Telegram or WeChat identity becomes an operator's.

The back office shows a signed-in operator an eight-character code once; the operator sends it to the
bot from the chat account to bind. Only a keyed hash of the code is stored (a database leak yields no
usable code), a code lives ten minutes and works once, and issuing a new one drops the operator's
older codes. A wrong, used or expired code all give the same answer, so the bot is no oracle.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, bindparam, delete, select

from commerce_core.errors import InvalidInput
from commerce_core.operators.credentials import BINDING_CODE_LENGTH, new_binding_code, normalise_binding_code
from commerce_core.operators.model import BindingCode, OperatorIdentity, OperatorUser
from commerce_core.operators.types import OperatorContact, OperatorRole
from commerce_core.security import FieldCipher
from commerce_core.uow import UnitOfWork, Work

#: chat channels whose identities can belong to an operator (the console for local trials)
BINDABLE_CHANNELS = frozenset({"telegram", "wechat", "console"})


def _hash(cipher: FieldCipher, code: str) -> str:
    return cipher.blind_index("operator-binding:" + code)


def _check_identity(channel: str, channel_user_id: str) -> str:
    if channel not in BINDABLE_CHANNELS:
        raise InvalidInput("unknown channel", code="invalid_channel", channel=str(channel)[:16])
    user_id = str(channel_user_id or "").strip()
    if not user_id or len(user_id) > 128:
        raise InvalidInput("unknown chat user", code="invalid_channel_user")
    return user_id


async def issue(uow: UnitOfWork, cipher: FieldCipher, user: OperatorUser, ttl: timedelta) -> str:
    """A fresh code for ``user`` (older codes of the user stop working)."""
    await uow.session.execute(delete(BindingCode).where(BindingCode.operator_id == user.id))
    code = new_binding_code()
    now = uow.now()
    uow.session.add(
        BindingCode(
            operator_id=user.id,
            code_hash=_hash(cipher, code),
            expires_at=now + ttl,
            used_at=None,
            created_at=now,
        )
    )
    return code


async def redeem(
    uow: UnitOfWork, cipher: FieldCipher, channel: str, channel_user_id: str, code: str
) -> OperatorUser | None:
    """Bind (channel, user) to the code's operator and use the code up; None when the code is no good."""
    user_id = _check_identity(channel, channel_user_id)
    cleaned = normalise_binding_code(code)
    if len(cleaned) != BINDING_CODE_LENGTH:
        return None
    row = await uow.session.scalar(
        select(BindingCode).where(BindingCode.code_hash == _hash(cipher, cleaned)).with_for_update()
    )
    now = uow.now()
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    row.used_at = now
    await uow.session.execute(
        delete(OperatorIdentity).where(
            OperatorIdentity.channel == channel, OperatorIdentity.channel_user_id == user_id
        )
    )
    uow.session.add(
        OperatorIdentity(
            operator_id=row.operator_id, channel=channel, channel_user_id=user_id, created_at=now
        )
    )
    return await uow.session.get(OperatorUser, row.operator_id)


async def operator_for(uow: UnitOfWork, channel: str, channel_user_id: str) -> OperatorUser | None:
    return await uow.session.scalar(
        select(OperatorUser)
        .join(OperatorIdentity, OperatorIdentity.operator_id == OperatorUser.id)
        .where(OperatorIdentity.channel == channel, OperatorIdentity.channel_user_id == str(channel_user_id))
    )


async def identities(uow: UnitOfWork, operator_id: int) -> list[tuple[str, str]]:
    rows = await uow.session.execute(
        select(OperatorIdentity.channel, OperatorIdentity.channel_user_id)
        .where(OperatorIdentity.operator_id == operator_id)
        .order_by(OperatorIdentity.id)
    )
    return [(channel, user_id) for channel, user_id in rows.all()]


#: (operator id, role, merchant id, language, channel, channel user id)
_ContactRows = Select[int, str, int | None, str, str, str]


def _contacts_query(filters: tuple[str, ...]) -> _ContactRows:
    """Enabled operators' bound identities, matching each filter in ``filters`` (bound by name)."""
    user, ids = OperatorUser, OperatorIdentity
    columns = {"merchant_id": user.merchant_id, "operator_id": user.id, "role": user.role}
    return (
        select(user.id, user.role, user.merchant_id, user.language, ids.channel, ids.channel_user_id)
        .join(ids, ids.operator_id == user.id)
        .where(user.disabled.is_(False), *(columns[name] == bindparam(name) for name in filters))
        .order_by(user.id, ids.id)
    )


#: one Core statement per combination of filters, built once: every paid order asks for its
#: merchants' contacts, and a statement built per call is compiled per call (issue 16)
#: (every subset of the filters, in this order: what ``contacts`` passes keeps it)
_FILTERS = ("merchant_id", "operator_id", "role")
_CONTACTS: dict[tuple[str, ...], _ContactRows] = {
    filters: _contacts_query(filters)
    for size in range(len(_FILTERS) + 1)
    for filters in itertools.combinations(_FILTERS, size)
}


async def contacts(
    uow: Work,
    *,
    merchant_id: int | None = None,
    operator_id: int | None = None,
    role: str | None = None,
) -> list[OperatorContact]:
    """Enabled operators matching every given filter who have bound at least one chat identity.

    A Core statement on any unit (the hot one on PostgreSQL: no ORM session, a prepared statement):
    the notifications of every paid order read this, and it is always read fresh, so a binding
    made or removed a moment ago counts for the very next notification."""
    given = {"merchant_id": merchant_id, "operator_id": operator_id, "role": role}
    values = {name: value for name, value in given.items() if value is not None}
    found: dict[int, tuple[Any, list[tuple[str, str]]]] = {}
    for row in (await uow.execute(_CONTACTS[tuple(values)], values)).all():
        found.setdefault(row.id, (row, []))[1].append((row.channel, row.channel_user_id))
    return [
        OperatorContact(row.id, OperatorRole(row.role), row.merchant_id, row.language, tuple(pairs))
        for row, pairs in found.values()
    ]
