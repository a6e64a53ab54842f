"""Prices are data: rules (each mode's in its registry entry, ``shared.jobs.modes``), read the
same way for estimates and for settlement.

A rule prices one *component* of a job (its images, its voice, its music, its video) or of
a relayed request (the request, its tool calls) in units: ``per`` images, seconds, requests
or calls, each started unit costing ``credits``. A rule with ``when`` applies only if that
input is present (voice synthesized for image_to_video).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class PriceRule:
    mode: str
    component: str
    unit: str  # "image", "second", "request" or "call"
    per: int
    credits: int
    when: str | None = None


#: Encoders pad the last frame (an MP3 or AAC frame is ~25 ms); a unit is "started" only
#: once it is exceeded by more than this, so a requested 5 s video is never billed 6 s.
SECONDS_TOLERANCE = 0.05


def _units(rule: PriceRule, quantity: float) -> int:
    if quantity <= 0:
        return 0
    if rule.unit == "second":
        quantity = max(quantity - SECONDS_TOLERANCE, 1e-9)
    return math.ceil(quantity / rule.per)


@dataclass(frozen=True)
class Price:
    credits: int
    breakdown: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"credits": self.credits, "breakdown": self.breakdown}


def price(rules: Iterable[PriceRule], usage: Mapping[str, float], inputs: Mapping[str, Any]) -> Price:
    """Price ``usage`` (component → images or seconds) under ``rules``.

    ``inputs`` are the job's inputs; a rule with ``when`` counts only if that input is set.
    """
    lines: list[dict[str, Any]] = []
    for rule in rules:
        if rule.when and not inputs.get(rule.when):
            continue
        quantity = float(usage.get(rule.component, 0))
        units = _units(rule, quantity)
        lines.append({
            "component": rule.component,
            "unit": rule.unit,
            "quantity": round(quantity, 3),
            "units": units,
            "per": rule.per,
            "credits_per_unit": rule.credits,
            "credits": units * rule.credits,
        })
    return Price(sum(line["credits"] for line in lines), lines)


def describe(rules: Iterable[PriceRule]) -> list[dict[str, Any]]:
    """The rules as the API shows them under a model's ``pricing``."""
    return [{k: v for k, v in asdict(r).items() if k != "mode" and v is not None} for r in rules]
