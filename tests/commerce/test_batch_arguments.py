"""Arguments taken straight from the caller's values equal what SQLAlchemy would bind (R6.2-1).

The fast path of ``commerce_core.db.fast.statements`` skips ``construct_params`` for statements and
batches whose values carry every bind (behaviour events, the hot statements of a shopper turn): the
values, their order and the bind processors (UTC timestamps) must be exactly those of the general
path, or rows would land in the wrong columns.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, insert, update
from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg

from commerce_core.analytics.model import BehaviourEvent
from commerce_core.cart.service import _CART
from commerce_core.db.base import table_of
from commerce_core.db.fast.statements import PlanCache, _arguments, _general_arguments, _many_arguments
from commerce_core.payments import statements

EVENTS = insert(table_of(BehaviourEvent)).inline()


def rows() -> list[dict[str, object]]:
    china = timezone(timedelta(hours=8))
    return [
        {
            "day": datetime(2026, 12, 4).date(),
            "at": datetime(2026, 12, 4, 9, n, tzinfo=china if n % 2 else UTC),
            "kind": kind,
            "subject": f"s{n}",
            "channel": "web",
            "language": "zh-Hans",
            "merchant_id": n if n % 3 else None,
            "product": None,
            "query": "红色连衣裙" if kind == "search" else None,
            "filters": {"colour": "red"} if n % 2 else None,
            "results": n,
            "amount": None,
        }
        for n, kind in enumerate(["search", "view", "cart", "search", "paid"])
    ]


def test_a_batch_binds_the_same_values_as_the_general_path() -> None:
    plans = PlanCache(pg_asyncpg.dialect())
    batch = rows()
    plan = plans.plan(EVENTS, tuple(batch[0]))
    sql, fast = _many_arguments(plan, batch)
    general = [_general_arguments(plan, row) for row in batch]
    assert sql == general[0][0]
    assert fast == [args for _, args in general]
    assert len(fast[0]) == len(batch[0])  # every column bound, none filled by a default


def test_a_statement_whose_binds_are_not_row_keys_goes_the_general_way() -> None:
    plans = PlanCache(pg_asyncpg.dialect())
    table = table_of(BehaviourEvent)
    statement = update(table).where(table.c.subject == bindparam("who")).values(results=7)
    batch = [{"who": "a"}, {"who": "b"}]
    plan = plans.plan(statement, tuple(batch[0]))
    sql, args = _many_arguments(plan, batch)
    assert (sql, args) == (plan.sql, [_general_arguments(plan, row)[1] for row in batch])
    assert sorted(map(str, args[0])) == ["7", "a"]  # the literal value is bound too


def test_one_statement_binds_the_same_values_as_the_general_path() -> None:
    """A prebuilt statement with ``bindparam`` (a timestamp among them) and a full insert: taken
    directly, as SQLAlchemy would bind them; with a literal among the binds, the general way."""
    plans = PlanCache(pg_asyncpg.dialect())
    table = table_of(BehaviourEvent)
    at = datetime(2026, 12, 4, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    prebuilt = update(table).where(table.c.subject == bindparam("who")).values(at=bindparam("when"))
    for statement, params in ((prebuilt, {"who": "a", "when": at}), (EVENTS, rows()[1])):
        plan = plans.plan(statement, tuple(params))
        assert _arguments(plan, params) == _general_arguments(plan, params)
    with_literal = update(table).where(table.c.subject == bindparam("who")).values(results=7)
    plan = plans.plan(with_literal, ("who",))
    assert _arguments(plan, {"who": "a"}) == _general_arguments(plan, {"who": "a"})


def test_statements_carrying_their_own_values_bind_them_directly_as_the_general_path_would() -> None:
    """A literal (``status == "frozen"``) compiles to a bind holding its value: the hot statements of
    a shopper turn that compare with one are taken directly, with the values and order that
    ``construct_params`` gives; a value the caller passes under that name still wins."""
    plans = PlanCache(pg_asyncpg.dialect())
    hot = (
        (_CART, {"b_customer": 7}),
        (statements.PAYABLE_ORDER, {"b_provider": "sandbox", "b_number": "O123"}),
        (statements.PENDING_PAY_URL, {"b_reference": "P123"}),
    )
    for statement, params in hot:
        plan = plans.plan(statement, tuple(params))
        assert plan.constants, "the statement compares with a literal"
        assert _arguments(plan, params) == _general_arguments(plan, params)
    plan = plans.plan(_CART, ("b_customer",))
    name = next(iter(plan.constants))
    overridden = {"b_customer": 7, name: "other"}
    assert _arguments(plan, overridden) == _general_arguments(plan, overridden)
    assert "other" in _arguments(plan, overridden)[1]


def test_column_defaults_are_not_taken_for_constants() -> None:
    """SQLAlchemy works column defaults out per execution (scalar ones too): such a bind keeps its
    statement on the general way."""
    table = Table(
        "defaults",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("counted", Integer, default=lambda: 5),
        Column("label", String(8), default="x"),
    )
    plans = PlanCache(pg_asyncpg.dialect())
    plan = plans.plan(insert(table), ("id",))
    assert plan.constants == {}
    assert _arguments(plan, {"id": 1}) == _general_arguments(plan, {"id": 1})
