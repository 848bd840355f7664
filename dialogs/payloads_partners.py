"""Button payloads of the staff- and merchant-facing journeys: the after-sales desk's questions to the
shopper, a merchant's "Ship", and a shopper's report of a listing.

Why apart from :mod:`dialogs.payloads`: that module holds the shopper's own buttons and the codec; these
are the buttons other people's work puts in front of a shopper or merchant. Same rules (one frozen
dataclass per action, field kinds from :mod:`dialogs.payload_kinds`); :data:`dialogs.payloads.ACTIONS`
lists them too, so they encode and decode like every other button.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar

from dialogs.payload_kinds import Action, Code, OneOf, PublicId, Whole


# the after-sales desk: answer staff's question, enter the return parcel, rate a closed case 1-5 (R5.4-2)
@dataclass(frozen=True, slots=True)
class CaseAnswer(Action):
    prefix: ClassVar[str] = "casans"
    case_number: PublicId


@dataclass(frozen=True, slots=True)
class CaseParcel(Action):
    prefix: ClassVar[str] = "casparc"
    case_number: PublicId


@dataclass(frozen=True, slots=True)
class RateCase(Action):
    prefix: ClassVar[str] = "caserate"
    case_number: PublicId
    rating: Annotated[int, Whole(1, 5)]


# -- merchants ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ShipOrder(Action):
    """A merchant user's "Ship" on a paid-order notification: ship their part with the simulated carrier.

    Who may act is decided by the chat identity pressing it (bound to a merchant's operator account),
    never by the payload: a forwarded or forged button ships nothing for anyone else.
    """

    prefix: ClassVar[str] = "mship"
    order_number: PublicId


# -- listing reports (owner: listings): "Report" on a card, then the reason (the core's REPORT_REASONS) --
REPORT_REASONS = ("false_claims", "counterfeit", "prohibited", "wrong_info", "other")


@dataclass(frozen=True, slots=True)
class ReportListing(Action):
    prefix: ClassVar[str] = "rpt"
    code: Code


@dataclass(frozen=True, slots=True)
class ReportListingReason(Action):
    prefix: ClassVar[str] = "rptr"
    reason: Annotated[str, OneOf(frozenset(REPORT_REASONS))]
    code: Code
