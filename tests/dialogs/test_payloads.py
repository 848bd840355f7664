"""Button payloads: every action survives the trip to a chat platform and back, and nothing else decodes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commerce_core.validation import MAX_QUANTITY_PER_LINE
from dialogs import payloads
from dialogs.payloads import (
    ACTIONS,
    MAX_WIRE_BYTES,
    QUANTITY,
    Action,
    AddSku,
    InvalidPayload,
    OneOf,
    Token,
    Whole,
    decode,
    encode,
    fields_of,
)

#: the wire forms buttons in chat histories, notifications, the WeChat menu and tests already carry
EXISTING_WIRE_FORMS = {
    "yes": payloads.Yes(),
    "no": payloads.No(),
    "skip": payloads.Skip(),
    "yes:checkout": payloads.Yes("checkout"),
    "no:cancel_order": payloads.No("cancel_order"),
    "skip:after_sales": payloads.Skip("after_sales"),
    "more": payloads.MoreResults(),
    "popular": payloads.Popular(),
    "cart": payloads.ViewCart(),
    "checkout": payloads.Checkout(),
    "orders": payloads.MyOrders(),
    "human": payloads.Human(),
    "help": payloads.Help(),
    "phone": payloads.BindPhone(),
    "export": payloads.ExportData(),
    "erase": payloads.EraseData(),
    "expired": payloads.Expired(),
    "lang:zh-Hant": payloads.Language("zh-Hant"),
    "p:D1": payloads.ShowProduct("D1"),
    "similar:P0155": payloads.Similar("P0155"),
    "add:D1": payloads.AddProduct("D1"),
    "sku:D1-RED-M:2": AddSku("D1-RED-M", 2),
    "inc:D1-RED-M": payloads.Increase("D1-RED-M"),
    "dec:D1-RED-M": payloads.Decrease("D1-RED-M"),
    "rm:P0155-WHITE-150X200CM": payloads.Remove("P0155-WHITE-150X200CM"),
    "addr:12": payloads.UseAddress(12),
    "addr:new": payloads.NewAddress(),
    "pay:SB7K3M9Q2XAB": payloads.Pay("SB7K3M9Q2XAB"),
    "sbxpay:PY0123456789": payloads.SandboxPay("PY0123456789"),
    "order:SB7K3M9Q2XAB": payloads.ShowOrder("SB7K3M9Q2XAB"),
    "track:SB7K3M9Q2XAB": payloads.Track("SB7K3M9Q2XAB"),
    "recv:SB7K3M9Q2XAB": payloads.ConfirmReceipt("SB7K3M9Q2XAB"),
    "hist:SB7K3M9Q2XAB": payloads.OrderHistory("SB7K3M9Q2XAB"),
    "cancel:SB7K3M9Q2XAB": payloads.CancelOrder("SB7K3M9Q2XAB"),
    "chaddr:SB7K3M9Q2XAB": payloads.ChangeAddress("SB7K3M9Q2XAB"),
    "as:SB7K3M9Q2XAB": payloads.AfterSales("SB7K3M9Q2XAB"),
    "asorder:SB7K3M9Q2XAB": payloads.AfterSalesOrder("SB7K3M9Q2XAB"),
    "asline:2": payloads.AfterSalesLine(2),
    "reason:size_fit": payloads.AfterSalesReason("size_fit"),
    "leavemsg": payloads.LeaveMessage(),
    "mship:SB7K3M9Q2XAB": payloads.ShipOrder("SB7K3M9Q2XAB"),
    "casans:AS7K3M9Q2XAB": payloads.CaseAnswer("AS7K3M9Q2XAB"),
    "casparc:AS7K3M9Q2XAB": payloads.CaseParcel("AS7K3M9Q2XAB"),
    "caserate:AS7K3M9Q2XAB:5": payloads.RateCase("AS7K3M9Q2XAB", 5),
    "rpt:D1": payloads.ReportListing("D1"),
    "rptr:false_claims:D1": payloads.ReportListingReason("false_claims", "D1"),
    "paywith:wechatpay_native:SB7K3M9Q2XAB": payloads.PayWith("wechatpay_native", "SB7K3M9Q2XAB"),
    "rvw:SB7K3M9Q2XAB": payloads.ReviewOrder("SB7K3M9Q2XAB"),
    "rvs:D1:4": payloads.RateProduct("D1", 4),
    "askq:PQ0123456789": payloads.AskSeller("PQ0123456789"),
}


def test_every_action_has_its_existing_wire_form() -> None:
    assert {type(a) for a in EXISTING_WIRE_FORMS.values()} == set(ACTIONS)
    for wire, action in EXISTING_WIRE_FORMS.items():
        assert encode(action) == wire
        assert decode(wire) == action


def test_a_variant_button_without_a_quantity_still_means_one() -> None:
    assert decode("sku:D1-RED-L") == AddSku("D1-RED-L", 1)  # as Telegram tests and old buttons send it


def valid_values(kind: Token | Whole | OneOf) -> st.SearchStrategy[object]:
    """Any value a field of this kind accepts."""
    if isinstance(kind, Whole):
        return st.integers(kind.low, kind.high)
    if isinstance(kind, OneOf):
        return st.sampled_from(sorted(kind.values))
    return st.from_regex(kind.pattern, fullmatch=True)


def _actions() -> st.SearchStrategy[Action]:
    def build(action: type[Action]) -> st.SearchStrategy[Action]:
        specs = fields_of(action)
        return st.fixed_dictionaries({f.name: valid_values(f.kind) for f in specs}).map(lambda v: action(**v))

    return st.sampled_from(ACTIONS).flatmap(build)


@given(_actions())
def test_every_action_round_trips_within_64_ascii_bytes(action: Action) -> None:
    wire = encode(action)
    assert decode(wire) == action
    assert wire.isascii() and len(wire.encode()) <= MAX_WIRE_BYTES


@given(st.text(max_size=90))
def test_any_string_decodes_to_an_action_or_is_rejected_cleanly(wire: str) -> None:
    try:
        action = decode(wire)
    except InvalidPayload:
        return
    assert encode(action) in (wire, wire + ":1")  # only what encode could have written gets through


@pytest.mark.parametrize(
    "wire",
    [
        "sku:D1-RED-M:²",  # "²".isdigit() is True in Python: int() used to crash with a 500
        "addr:²",
        "addr:٣",  # Arabic-Indic digit
        "asline:²",
        "sku:D1-RED-M:0",
        "sku:D1-RED-M:1000",  # over the core's limit per line
        "sku:D1-RED-M:-1",
        "sku:D1-RED-M:+1",
        "sku:D1-RED-M: 1",
        "sku:D1-RED-M:1:2",
        "addr:0",
        "addr:012",
        "addr:99999999999999999999",
        "p:D1\x00",
        "p:\x00",
        "order:SB7K3M9Q2X\x00B",
        "yes\x00",
        "p:D1\n",
        "p:D1 ",
        "p:红色连衣裙",
        "p:",
        "p",
        ":",
        "",
        "YES",
        "order:SB-7K3M",
        "order:SB7K3M9Q2XAB:1",
        "lang:fr",
        "yes:",
        "yes:Checkout",
        "no:cancel order",
        "yes:checkout:1",
        "lang:",
        "reason:because",
        "frobnicate:1",
        "drop table orders",
        "p:" + "D" * 63,  # over 64 bytes
        "sku:" + "连衣裙" * 30,
        "\ud800",  # a lone surrogate (some JSON decoders let them through)
    ],
)
def test_bad_payloads_are_rejected(wire: str) -> None:
    with pytest.raises(InvalidPayload):
        decode(wire)


@pytest.mark.parametrize(
    "action",
    [
        payloads.ShowProduct("D1 "),
        payloads.ShowProduct("红色"),
        payloads.ShowProduct("D" * 57),
        AddSku("D1-RED-M", 0),
        AddSku("D1-RED-M", 1000),
        payloads.ShowOrder("SB:1"),
        payloads.Language("fr"),
        payloads.UseAddress(0),
        payloads.Yes("Checkout"),
        payloads.Yes(""),
    ],
)
def test_a_flow_cannot_put_an_undecodable_action_on_a_button(action: Action) -> None:
    with pytest.raises(ValueError):
        encode(action)


def test_the_quantity_a_button_may_carry_is_the_cores_limit_per_line() -> None:
    assert (QUANTITY.low, QUANTITY.high) == (1, MAX_QUANTITY_PER_LINE)


def test_prefixes_are_unique() -> None:
    prefixes = [a.prefix for a in ACTIONS]
    assert len(prefixes) == len(set(prefixes))
