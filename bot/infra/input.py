"""Bounds on untrusted input shared by every edge (HTTP routes, the NLU command line).

Python's JSON parser recurses: a body nested 1,000+ levels deep raised RecursionError, which became a
500 on ``/api/chat`` and the Telegram webhook and ended a whole ``shopbot nlu parse --jsonl`` run. No
message a shopper or platform sends nests more than a few levels, so deeper JSON is refused before
anyone parses it.
"""

from __future__ import annotations

#: deeper JSON than this is refused (400 on HTTP, an error line on the command line)
MAX_JSON_DEPTH = 32


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in ``body`` (brackets inside strings do not count)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Cheap for ordinary bodies: nesting can't exceed the number of opening brackets, so only a body
    with more than ``limit`` of them is scanned."""
    return body.count(b"[") + body.count(b"{") > limit and json_depth(body) > limit
