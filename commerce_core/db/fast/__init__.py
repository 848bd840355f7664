"""The fast path: PostgreSQL hot units on a raw asyncpg connection with prepared statements.

When to use which unit (services ask by name: ``units.hot()`` or ``units.orm()``, see
:class:`commerce_core.uow.Units`):

* **hot** for what runs on every shopper turn or every order, where the ORM's per-unit (~300-400 µs)
  and per-statement (~100 µs) CPU cost would dominate: search, product pages, the cart, addresses,
  first contact, order status, placing an order, starting and capturing a payment, the pre-checkout
  check. Code written for it takes a :class:`~commerce_core.uow.Work` (no ``session``), uses Core
  statements built once at module level with ``bindparam`` (compiled and prepared once per
  database), and keeps every branch ORM-free, rare ones included (a retried order is answered from
  column reads; a late payment's refund is queued with Core statements). On SQLite, or any other
  driver, ``hot()`` hands out an ORM unit behind the same interface, so the code is the same.
* **orm** for everything else: merchant and staff actions, after-sales, shipments, refunds paid
  back, maintenance jobs. Clarity wins there; the unit has the ``AsyncSession``.

Both kinds write status history and outbox rows through :mod:`commerce_core.db.journal` in their
own transaction. Modules: :mod:`.pg_unit` (the connection-level unit), :mod:`.statements`
(compiling Core statements once and running them on the driver) and :mod:`.parking` (a hot unit's
connection kept for the next hot unit instead of a pool checkin and checkout each time). The
engine's fair connection pool (:mod:`commerce_core.db.fair_pool`) stays beside the engine: it serves
both kinds of unit.
"""
