"""Rate cards compiled for SQL engines, from the Python engine's own resolution (resolution is written once).

For each distinct (model, model_id, service_tier) that records call, ``compile_rate_cards`` asks the
``PricingEngine`` for its pricer and turns it into rows a query can join on:

- **bands**: the prompt-size intervals ``lo <= prompt_tokens <= hi`` over which the pricer's rates do not change
  (``_above_Nk`` keys, ``tiered_pricing`` ranges, xAI's inclusive thresholds), each with the exact-money
  ``Band`` (pricing/exact.py) that prices it. Intervals are found by probing the pricer itself at every integer
  where one of its thresholds can flip, so a new threshold rule in the pricer needs no change here.
- **variant**: which token counts the provider's formula reads (``xai`` bills reasoning and audio output as plain
  output; ``text_only`` bills audio, image and 1-hour writes as plain input), and whether a routing fee is
  charged on prompt tokens.
- **status** ``python``: cards whose price depends on more than the prompt size (off-peak windows by time of day,
  Vertex's 128k rule on the completion too): their records are priced by the Python engine in the same run.
- **status** ``unpriced``: what the Python engine answers for a record of that key without a duration (no card,
  or a per-second price): the reason is taken from the engine itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..pricing.exact import Band
from ..pricing.formulas import FormulaPricer, Pricer
from ..reading.records import MAX_TOKENS, UsageRecord
from .streaming import NotPriced, PricingEngine

Key = tuple[str, str | None, str | None]  # (model, model_id, service_tier)
VARIANTS = ("generic", "xai", "text_only")


class NotCompilable(Exception):
    """A card whose bands could not be laid out as intervals of the prompt size."""


@dataclass
class CompiledKey:
    key: Key
    status: str  # "bands" | "python" | "unpriced"
    variant: str = "generic"
    routing_fee: bool = False
    bands: list[tuple[int, int, int]] = field(default_factory=list)  # (lo, hi, band number)
    sheet: Any = None  # the PriceSheet (group keys by deployment and provider read it)
    not_priced: NotPriced | None = None  # status "unpriced": what the engine answers for such a record


@dataclass
class RateCards:
    keys: list[CompiledKey]
    bands: list[Band]  # band number -> Band

    def band_rows(self) -> list[tuple[int, int, int, int]]:
        """(key number, lo, hi, band number) for every compiled band."""
        return [(n, lo, hi, b) for n, k in enumerate(self.keys) for lo, hi, b in k.bands]


def compile_rate_cards(engine: PricingEngine, keys: list[Key], text_completion: bool = False) -> RateCards:
    """The cards of ``keys``; ``text_completion``: the cards their text completions are priced with
    (``text_completion_keys``)."""
    bands: list[Band] = []
    numbers: dict[int, int] = {}  # id(Band) -> band number
    compiled = []
    for key in keys:
        model, model_id, tier = key
        p = engine.pricer(model, model_id, tier, (), text_completion)
        if not isinstance(p, Pricer):
            compiled.append(CompiledKey(key, "unpriced", not_priced=_answer(engine, key, text_completion)))
            continue
        sheet = p.sheet
        labels = {"sheet": sheet}
        variant = _variant(p)
        if variant is None:
            compiled.append(CompiledKey(key, "unpriced", not_priced=_answer(engine, key, text_completion), **labels))
            continue
        if variant == "python":
            compiled.append(CompiledKey(key, "python", **labels))
            continue
        try:
            intervals = _prompt_bands(p, variant == "zero")
        except NotCompilable:
            compiled.append(CompiledKey(key, "python", **labels))
            continue
        rows = []
        for lo, hi, band in intervals:
            number = numbers.get(id(band))
            if number is None:
                number = numbers[id(band)] = len(bands)
                bands.append(band)
            rows.append((lo, hi, number))
        compiled.append(CompiledKey(key, "bands", "generic" if variant == "zero" else variant,
                                    bool(p.routing_fee), rows, **labels))
    return RateCards(compiled, bands)


def text_completion_keys(engine: PricingEngine, keys: list[Key]) -> list[Key]:
    """The keys whose text completions the proxy prices with another card than their other calls
    (Resolver.resolve_text_completion: an openai deployment of a model that is not an OpenAI chat model)."""
    resolver = engine.resolver
    return [k for k in keys if resolver.resolve_text_completion(k[0], k[1]) is not resolver.resolve(k[0], k[1])]


def _answer(engine: PricingEngine, key: Key, text_completion: bool = False) -> NotPriced:
    """What the engine answers for a record of ``key`` with no duration (the fast lane never has one)."""
    outcome = engine.price(UsageRecord("", 0, key[0], model_id=key[1], service_tier=key[2],
                                       text_completion=text_completion))
    if not isinstance(outcome, NotPriced):  # pragma: no cover - _variant decided it cannot be priced
        raise NotCompilable(f"{key}: priced without a duration")
    return outcome


def _variant(p: Pricer) -> str | None:
    """How SQL reads the counts for this pricer; None: no record without a duration is priced by it."""
    if p.per_second is not None:
        return None
    if p.__class__ is Pricer:
        return "generic"
    assert isinstance(p, FormulaPricer)
    formula = p.sheet.formula
    if p.off_peak_block is not None or formula == "vertex_128k":
        return "python"
    if formula == "replicate_gpu":
        return None
    if formula == "zero":
        return "zero"
    if formula == "xai":
        return "xai"
    if formula in ("perplexity", "dashscope"):
        return "text_only"
    return "generic"


def _prompt_bands(p: Pricer, zero: bool) -> list[tuple[int, int, Band]]:
    """Intervals of the prompt size with one Band each, adjacent equal ones merged."""
    if zero:
        return [(0, MAX_TOKENS, p._special_band("zero", ()))]  # type: ignore[attr-defined]
    points = {0, 1}
    for bound in p._bounds:
        points.update(_flips(bound))
    tiers = p._tiers if isinstance(p._tiers, list) else []
    for tier in tiers:
        rng = tier.get("range") if isinstance(tier, dict) else None
        if isinstance(rng, (list, tuple)):
            for edge in rng:
                if isinstance(edge, (int, float)) and not isinstance(edge, bool):
                    points.update(_flips(float(edge)))
    starts = sorted(x for x in points if 0 <= x <= MAX_TOKENS)
    out: list[tuple[int, int, Band]] = []
    for i, lo in enumerate(starts):
        hi = starts[i + 1] - 1 if i + 1 < len(starts) else MAX_TOKENS
        rates = p.rates_for(lo)
        if p.rates_for(hi) is not rates:
            raise NotCompilable(f"rates change inside [{lo}, {hi}]")
        band = p.band(rates)
        if out and out[-1][2] is band:
            out[-1] = (out[-1][0], hi, band)
        else:
            out.append((lo, hi, band))
    return out


def _flips(x: float) -> set[int]:
    """The integers at which a comparison of the prompt size with ``x`` (<, <=, >, >=) can change its answer."""
    if not math.isfinite(x):
        return set()
    f = math.floor(x)
    return {f, f + 1, math.ceil(x)}


def describe(cards: RateCards) -> dict[str, Any]:
    """How many keys went which way (for the run's JSON and tests)."""
    counts: dict[str, int] = {}
    for k in cards.keys:
        counts[k.status] = counts.get(k.status, 0) + 1
    return {"keys": counts, "bands": len(cards.bands)}
