"""Opaque identifiers shown to people (order numbers, case numbers, tickets).

Internal primary keys are integers (so rows can be locked in primary-key order); what a shopper sees is
a random code that reveals neither volume nor sequence. Format: a two-letter prefix and ten characters
of Crockford base32 (no I, L, O, U), e.g. ``SB7K3M9Q2XAB``. The NLU recognises this shape.
"""

from __future__ import annotations

import re
import secrets

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ORDER_PREFIX = "SB"
CASE_PREFIX = "AS"
TICKET_PREFIX = "TK"
CUSTOMER_PREFIX = "CU"
MERCHANT_PREFIX = "MC"
PAYMENT_PREFIX = "PY"
REFUND_PREFIX = "RF"
_BODY_LENGTH = 10


def new_public_id(prefix: str) -> str:
    """A fresh opaque id: ``prefix`` + 10 random Crockford base32 characters (50 bits).

    One 50-bit draw from the OS generator, cut into 5-bit digits (the same distribution as ten
    ``secrets.choice`` calls, at a tenth of the cost: every checkout makes two of these)."""
    bits = secrets.randbits(5 * _BODY_LENGTH)
    return prefix + "".join(CROCKFORD[(bits >> (5 * n)) & 31] for n in range(_BODY_LENGTH))


def public_id_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"^{prefix}[{CROCKFORD}]{{{_BODY_LENGTH}}}$")


ORDER_NUMBER_RE = public_id_pattern(ORDER_PREFIX)


_LOOKALIKES = str.maketrans("OIL", "011")


def normalise_public_id(text: str) -> str:
    """Upper-case and map the look-alikes Crockford allows (O->0, I/L->1)."""
    cleaned = text.strip().upper().replace("-", "").replace(" ", "")
    head, body = cleaned[:2], cleaned[2:]
    return head + body.translate(_LOOKALIKES)
