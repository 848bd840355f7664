"""A flow is data: a name, the intent-triggered start, and named steps with the slot each expects."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from dialogs.context import Turn

Step = Callable[[Turn], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class StepSpec:
    run: Step
    expects: str | None = None  # the NLU hint: what a bare answer here means ("quantity", "ordinal")
    interruptible: bool = True  # may another intent take over (and this flow resume later)?


@dataclass(frozen=True, slots=True)
class Flow:
    name: str
    start: Step
    steps: Mapping[str, StepSpec] = field(default_factory=dict)
    resume: Step | None = None  # after a digression, re-ask the current step
    #: intents that, said inside this flow, are answers rather than a change of subject
    own_intents: frozenset[str] = frozenset()
