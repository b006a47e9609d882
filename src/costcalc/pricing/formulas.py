"""PriceSheet × token counts → cost: LiteLLM 1.110.2's formulas (PRICING.md §2–§5) and nothing else.

A ``Pricer`` is compiled once per (price sheet, service tier) and then called per record with plain ints,
so the hot loop allocates nothing but the result tuple. Rates that depend on the prompt size (``_above_Nk``
keys, ``tiered_pricing``) are resolved once per size band and cached. Cards LiteLLM does not price with its plain
generic formula (another provider function, Vertex's 128k rule, off-peak windows, replicate GPU time, the Azure
Model Router fee) get a ``FormulaPricer`` (``make_pricer``), which stays off the fused hot path.
"""

from __future__ import annotations

import contextlib
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from ..rates.costfunctions import REPLICATE_GPU_PRICE_PER_SECOND
from ..rates.sheets import PriceSheet
from .exact import N_SLOTS, SLOTS, Band, seconds
from .tools import tool_charge

# The exact-money slot of each part ``Pricer._extended_parts`` names.
_PART_SLOTS = {"input": SLOTS.index("input"), "audio input": SLOTS.index("audio_input"),
               "image input": SLOTS.index("image_input"), "cache read": SLOTS.index("cache_read"),
               "cached audio": SLOTS.index("cache_read_audio"), "cached image": SLOTS.index("cache_read_image"),
               "cache write": SLOTS.index("cache_write"), "cache write 1h": SLOTS.index("cache_write_1h"),
               "output": SLOTS.index("output"), "audio output": SLOTS.index("audio_output"),
               "image output": SLOTS.index("image_output"), "reasoning": SLOTS.index("reasoning"),
               "citation tokens": SLOTS.index("citation"), "search queries": SLOTS.index("search_queries"),
               "video output": SLOTS.index("video_output"),
               # built-in tool charges (pricing/tools.py): LiteLLM books one of them per call, beside the tokens
               "web search": SLOTS.index("search_queries"), "file search": SLOTS.index("search_queries")}
_FEE_SLOT = SLOTS.index("routing_fee")
_DURATION_SLOT = SLOTS.index("duration_s")


def _in_slot(slot: int, value: Any, zero: Any) -> tuple[Any, ...]:
    """A tuple over every slot: ``value`` in ``slot``, ``zero`` elsewhere."""
    return (zero,) * slot + (value,) + (zero,) * (N_SLOTS - slot - 1)
# A measured record: the band that prices it and its integer units per slot (exact.SLOTS).
Measured = tuple[Band, tuple[Any, ...]]  # ints, and a Decimal of seconds in the duration slot

# ServiceTier values as cost-key suffixes, longest first: LiteLLM's fallback scans them by substring.
_ALL_TIER_SUFFIXES = ("_ultrafast", "_balanced", "_priority", "_auto", "_flex", "_fast")
_NON_STANDARD_SUFFIXES = (*_ALL_TIER_SUFFIXES, "_batches")
_TIER_TO_SUFFIX = {"flex": "flex", "balanced": "balanced", "priority": "priority", "fast": "priority",
                   "ultrafast": "ultrafast"}
_THRESHOLD_PREFIXES = tuple(
    f"{p}_above_" for p in ("input_cost_per_token", "output_cost_per_token", "cache_read_input_token_cost",
                            "cache_creation_input_token_cost")
)
_TTL_KEYS = {"1hr": "cache_creation_input_token_cost_above_1hr", "12hr": "cache_creation_input_token_cost_above_12hr"}
_INCLUSIVE_THRESHOLD_PROVIDERS = frozenset({"xai"})
_FIREWORKS_CACHE_READ_RATIO = 0.5
_VERTEX_128K = 128_000
# Batch result lines LiteLLM parses as Anthropic usage (Message Batches, Bedrock batch inference): input, cache read
# and cache write counts only, so audio and image input bill as text.
_ANTHROPIC_USAGE_BATCH_PROVIDERS = frozenset({"anthropic", "bedrock"})
# providers whose cost functions apply provider_specific_entry's regional multiplier for usage.inference_geo
_GEO_PROVIDERS = frozenset({"anthropic", "bedrock"})

# The formulas of LiteLLM's provider cost functions (cost_calculator.cost_per_token dispatches on the provider;
# costfunctions.formula_for decides which one a sheet gets). "generic" is generic_cost_per_token; the others are:
#   generic_no_tier  generic, but the provider function passes no service tier (deepseek, tencent, fireworks_ai)
#   xai              generic without completion details (reasoning and audio output bill as plain output), no tier
#   perplexity       (P - cached) x input + cached x cache read; output, reasoning only with its own rate; no tiers
#   dashscope        P - cached - written at input, cache read/write, (C - reasoning) x output + reasoning; the
#                    tiered_pricing table chosen by P; no _above_Nk keys, service tiers, modalities or 1-hour rates
#   vertex_128k      Vertex with *_above_128k_tokens keys: ALL prompt tokens at the input rate of the P band, all
#                    completion tokens at the output rate of the C band (> 128k)
#   zero             nothing: a provider without its own function whose rate card has no positive token price
#                    (and no tier table), or lemonade
#   replicate_gpu    completion_cost's replicate branch (a "replicate" name not in the map): GPU seconds x
#                    the request duration, returned before discount and margin
FORMULAS = ("generic", "generic_no_tier", "xai", "perplexity", "dashscope", "vertex_128k", "zero",
            "replicate_gpu")
# Formulas whose rates LiteLLM swaps for off_peak_pricing rates inside an off-peak window.
_OFF_PEAK_FORMULAS = frozenset({"generic", "generic_no_tier", "xai", "perplexity", "dashscope"})
_WEEKDAYS = {"mon": 1, "monday": 1, "tue": 2, "tues": 2, "tuesday": 2, "wed": 3, "wednesday": 3, "thu": 4,
             "thur": 4, "thurs": 4, "thursday": 4, "fri": 5, "friday": 5, "sat": 6, "saturday": 6, "sun": 7,
             "sunday": 7}


# -- off-peak windows ------------------------------------------------------------------------------------
# A rate card's ``off_peak_pricing`` block (deepseek and tencent entries in the map, or a deployment's own) holds
# rates that REPLACE the normal ones while the request falls in one of its UTC windows: ``hours_utc`` (every day)
# or ``windows`` [{hours_utc, weekdays}] with weekdays read in ``weekday_timezone`` (default UTC). A window
# "HH:MM-HH:MM" includes its start and excludes its end, may wrap past midnight, and covers the whole day when
# start equals end. The moment is the record's timestamp (LiteLLM: the moment of the request).

def _window_strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def _in_window(windows: tuple[str, ...], minute: int) -> bool:
    for window in windows:
        try:
            start_text, end_text = window.split("-")
            sh, sm = (int(x) for x in start_text.strip().split(":"))
            eh, em = (int(x) for x in end_text.strip().split(":"))
        except ValueError:
            continue
        if not (0 <= sh < 24 and 0 <= eh < 24 and 0 <= sm < 60 and 0 <= em < 60):
            continue
        start, end = sh * 60 + sm, eh * 60 + em
        if (start <= minute < end) if start < end else (minute >= start or minute < end):
            return True
    return False


def _weekday(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1 <= value <= 7 else None
    if isinstance(value, str):
        return _WEEKDAYS.get(value.strip().lower())
    return None


def is_off_peak(block: Any, epoch_seconds: float) -> bool:
    """Whether ``epoch_seconds`` falls in one of the off-peak windows of an ``off_peak_pricing`` block."""
    from datetime import datetime, timezone

    if not isinstance(block, dict):
        return False
    moment = datetime.fromtimestamp(epoch_seconds, timezone.utc)
    minute = moment.hour * 60 + moment.minute
    if _in_window(_window_strings(block.get("hours_utc")), minute):
        return True
    rules = block.get("windows")
    if not isinstance(rules, (list, tuple)):
        return False
    calendar: Any = timezone.utc
    zone = block.get("weekday_timezone")
    if isinstance(zone, str) and zone.strip():
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        with contextlib.suppress(ValueError, ZoneInfoNotFoundError):
            calendar = ZoneInfo(zone.strip())
    for rule in rules:
        if not isinstance(rule, dict):
            continue
        windows = _window_strings(rule.get("hours_utc"))
        if not windows:
            continue
        days = rule.get("weekdays")
        if days is not None:
            if isinstance(days, str) or not isinstance(days, (list, tuple)):
                continue
            if moment.astimezone(calendar).isoweekday() not in {d for d in map(_weekday, days) if d is not None}:
                continue
        if _in_window(windows, minute):
            return True
    return False


def _off_peak_value(block: dict[str, Any], key: str) -> float | None:
    value = block.get(key)
    return None if isinstance(value, bool) else _number(value)


def _off_peak_rate(block: dict[str, Any], key: str, standard: float) -> float:
    number = _off_peak_value(block, key)
    return standard if number is None else number


class Cost(NamedTuple):
    """One record's cost in USD. The parts are informational; ``total`` is computed in LiteLLM's order."""

    input: float  # uncached input (text, audio, image); per-second charges are booked here by LiteLLM
    cache_read: float
    cache_write: float
    output: float  # visible output (text, audio)
    reasoning: float
    adjustment: float  # discount (negative) and margin (positive)
    total: float
    cache_write_1h: float = 0.0  # the 1-hour share of ``cache_write`` (reports show 5-minute and 1-hour apart)
    discount: float = 0.0  # the discount's share of ``adjustment`` (≤ 0); the margin is the rest


@dataclass(frozen=True, slots=True)
class Rates:
    """The per-token rates of one prompt-size band (what LiteLLM's ``_get_token_base_cost`` resolves)."""

    input: float
    output: float
    cache_read: float
    cache_write: float
    cache_write_1h: float
    reasoning: float
    audio_input: float | None  # None: billed at ``input``
    audio_output: float
    image_input: float | None
    keys: dict[str, str]  # which rate key supplied each rate (for --explain)


def service_tier_suffix(service_tier: str | None) -> str | None:
    if not service_tier or not isinstance(service_tier, str):
        return None
    return _TIER_TO_SUFFIX.get(service_tier.lower())


def parse_threshold(key: str) -> float:
    """``..._above_272k_tokens`` → 272000.0; ``_above_272_tokens`` → 272.0 (LiteLLM's parsing)."""
    text = key.rsplit("_above_", 1)[1].split("_tokens")[0]
    return float(text.replace("k", "")) * (1000 if "k" in text else 1)


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def unit(rates: dict[str, Any], key: str, default: float | None) -> float | None:
    """LiteLLM's ``get_cost_per_unit``: the key, else (for a service-tier key) the unsuffixed key, else default."""
    value = rates.get(key)
    if value is not None:
        number = _number(value)
        return default if number is None else number
    for suffix in _ALL_TIER_SUFFIXES:
        if suffix in key:
            fallback = rates.get(key.replace(suffix, ""))
            if fallback is not None:
                number = _number(fallback)
                if number is not None:
                    return number
            break
    return default


def _exceeds(tokens: int, threshold: float, inclusive: bool) -> bool:
    return tokens > threshold or (inclusive and tokens == threshold)


def _select_tier(tiers: Any, prompt_tokens: int) -> dict[str, Any] | None:
    """LiteLLM's ``select_tier_for_input``: start < P <= end; no match → the last tier; P <= 0 → none."""
    if not isinstance(tiers, list) or not tiers or prompt_tokens <= 0:
        return None
    ranged = []
    for tier in tiers:
        bounds = tier.get("range") if isinstance(tier, dict) else None
        if isinstance(bounds, (list, tuple)) and len(bounds) == 2:
            start, end = _number(bounds[0]), _number(bounds[1])
            if start is not None and end is not None:
                ranged.append((start, end, tier))
    if not ranged:
        return None
    ranged.sort(key=lambda t: t[0])
    for start, end, tier in ranged:
        if start < prompt_tokens <= end:
            return tier
    return ranged[-1][2]


def _tier_rate(tier: dict[str, Any], key: str, fallback: str | None = None) -> float:
    value = tier.get(key)
    if value is None:
        if fallback is None:
            return 0.0
        value = tier.get(fallback, 0)
    number = _number(value)
    return 0.0 if number is None else number


def _modality_rate(rates: dict[str, Any], base_key: str, suffix: str | None, prompt_tokens: int,
                   inclusive: bool) -> tuple[float | None, str]:
    """LiteLLM's ``_modality_token_cost`` rate: a dedicated (possibly tiered) rate, or None for "the input rate"."""
    tier_sfx = f"_{suffix}" if suffix else ""
    best, best_thr = None, None
    for k, v in rates.items():
        if v is None or not k.startswith(f"{base_key}_above_") or not k.endswith(("_tokens", f"_tokens{tier_sfx}")):
            continue
        try:
            thr = parse_threshold(k)
        except ValueError:
            continue
        if _exceeds(prompt_tokens, thr, inclusive) and (best_thr is None or thr > best_thr):
            best, best_thr = k, thr
    cost_key = f"{base_key}{tier_sfx}" if best is None else f"{best.removesuffix(tier_sfx)}{tier_sfx}"
    standard_key = cost_key.removesuffix(tier_sfx) if tier_sfx else cost_key
    if rates.get(cost_key) is None and rates.get(standard_key) is None:
        return None, "input rate"
    return unit(rates, cost_key, 0.0), cost_key


def band_rates(rates: dict[str, Any], prompt_tokens: int, service_tier: str | None, provider: str | None, *,
               formula: str = "generic", off_peak: dict[str, Any] | None = None, uplift: float = 1.0) -> Rates:
    """Every per-token rate that applies to a prompt of ``prompt_tokens`` (PRICING.md §2.3–§4), under the
    provider's ``formula`` (see FORMULAS), inside an off-peak window when ``off_peak`` is the card's block, and
    scaled by a regional ``uplift`` (LiteLLM multiplies the input and output cost by it)."""
    if formula == "perplexity":
        r = _perplexity_rates(rates, off_peak)
    elif formula == "dashscope":
        r = _dashscope_rates(rates, prompt_tokens, off_peak)
    else:
        r = _generic_rates(rates, prompt_tokens, service_tier, provider, off_peak)
    if uplift != 1.0:
        r = Rates(r.input * uplift, r.output * uplift, r.cache_read * uplift, r.cache_write * uplift,
                  r.cache_write_1h * uplift, r.reasoning * uplift,
                  None if r.audio_input is None else r.audio_input * uplift, r.audio_output * uplift,
                  None if r.image_input is None else r.image_input * uplift,
                  {**r.keys, "uplift": f"x {uplift:g} (regional uplift)"})
    return r


def _plain_rate(value: Any) -> float:
    """A flat rate as the perplexity and dashscope functions read it: a number or numeric string, else 0."""
    number = None if isinstance(value, bool) else _number(value)
    return 0.0 if number is None else number


def _perplexity_rates(rates: dict[str, Any], off_peak: dict[str, Any] | None) -> Rates:
    """llms/perplexity/cost_calculator.py: flat input, output and cache-read rates (cache read falls back to
    input); cache writes, audio and images are plain input tokens; reasoning has a price only with its own key."""
    r_in = _plain_rate(rates.get("input_cost_per_token"))
    r_out = _plain_rate(rates.get("output_cost_per_token"))
    cr_value = rates.get("cache_read_input_token_cost")
    r_cr = None if cr_value is None else _plain_rate(cr_value)
    keys = {"input": "input_cost_per_token", "output": "output_cost_per_token",
            "cache_read": "cache_read_input_token_cost" if r_cr is not None else "input_cost_per_token "
            "(no cache-read price)", "cache_write": "input_cost_per_token (perplexity bills writes as input)"}
    if off_peak is not None:
        r_in = _off_peak_rate(off_peak, "input_cost_per_token", r_in)
        r_out = _off_peak_rate(off_peak, "output_cost_per_token", r_out)
        r_cr = _off_peak_rate(off_peak, "cache_read_input_token_cost", r_cr)  # type: ignore[arg-type]
        keys.update({k: f"{v} (off-peak)" for k, v in keys.items()})
    if r_cr is None:
        r_cr = r_in
    rea_value = rates.get("output_cost_per_reasoning_token")
    r_rea = r_out if rea_value is None else _plain_rate(rea_value)
    keys.update(cache_write_1h=keys["cache_write"], audio_input=keys["input"], image_input=keys["input"],
                audio_output=keys["output"],
                reasoning=keys["output"] if rea_value is None else "output_cost_per_reasoning_token")
    return Rates(r_in, r_out, r_cr, r_in, r_in, r_rea, None, r_out, None, keys)


def _dashscope_rates(rates: dict[str, Any], prompt_tokens: int, off_peak: dict[str, Any] | None) -> Rates:
    """llms/dashscope/cost_calculator.py: one flat or tiered_pricing rate set for the whole request (tier chosen
    by the prompt size, a tier without an input price included), no thresholds, service tiers or modalities."""
    flat_in = rates.get("input_cost_per_token")
    flat_rea = rates.get("output_cost_per_reasoning_token")
    tier = _select_tier(rates.get("tiered_pricing"), prompt_tokens)
    if tier is None:
        where = None
        r_in = _plain_rate(flat_in)
        cr, cw = rates.get("cache_read_input_token_cost"), rates.get("cache_creation_input_token_cost")
        r_cr = _plain_rate(flat_in if cr is None else cr)
        r_cw = _plain_rate(flat_in if cw is None else cw)
        r_out = _plain_rate(rates.get("output_cost_per_token"))
        r_rea = None if flat_rea is None else _plain_rate(flat_rea)
        keys = {"input": "input_cost_per_token", "output": "output_cost_per_token",
                "cache_read": "cache_read_input_token_cost" if cr is not None else "input_cost_per_token",
                "cache_write": "cache_creation_input_token_cost" if cw is not None else "input_cost_per_token",
                "reasoning": "output_cost_per_reasoning_token" if r_rea is not None else "output_cost_per_token"}
    else:
        rng = tier.get("range")
        where = f"tiered_pricing[{rng[0]:g}, {rng[1]:g}]" if isinstance(rng, list) else "tiered_pricing"
        r_in = _tier_rate(tier, "input_cost_per_token")
        r_cr = _tier_rate(tier, "cache_read_input_token_cost", "input_cost_per_token")
        r_cw = _tier_rate(tier, "cache_creation_input_token_cost", "input_cost_per_token")
        declares_out = "output_cost_per_token" in tier
        r_out = _tier_rate(tier, "output_cost_per_token") if declares_out \
            else _plain_rate(rates.get("output_cost_per_token"))
        if "output_cost_per_reasoning_token" in tier:
            r_rea = _tier_rate(tier, "output_cost_per_reasoning_token")
        else:
            r_rea = None if declares_out or flat_rea is None else _plain_rate(flat_rea)
        keys = {"input": where, "cache_read": where, "cache_write": where,
                "output": where if declares_out else "output_cost_per_token",
                "reasoning": where if r_rea is not None and "output_cost_per_reasoning_token" in tier
                else ("output_cost_per_reasoning_token" if r_rea is not None else "output rate")}
    if off_peak is not None:
        r_in = _off_peak_rate(off_peak, "input_cost_per_token", r_in)
        r_out = _off_peak_rate(off_peak, "output_cost_per_token", r_out)
        r_cr = _off_peak_rate(off_peak, "cache_read_input_token_cost", r_cr)
        r_cw = _off_peak_rate(off_peak, "cache_creation_input_token_cost", r_cw)
        block_rea = _off_peak_value(off_peak, "output_cost_per_reasoning_token")
        r_rea = r_rea if block_rea is None else block_rea
        keys = {k: f"{v} (off-peak)" for k, v in keys.items()}
    if r_rea is None:
        r_rea = r_out
    keys.update(cache_write_1h=keys["cache_write"], audio_input=keys["input"], image_input=keys["input"],
                audio_output=keys["output"])
    return Rates(r_in, r_out, r_cr, r_cw, r_cw, r_rea, None, r_out, None, keys)


def _generic_rates(rates: dict[str, Any], prompt_tokens: int, service_tier: str | None, provider: str | None,
                   off_peak: dict[str, Any] | None) -> Rates:
    """generic_cost_per_token's rates (``_get_token_base_cost`` and friends)."""
    if provider == "fireworks_ai" and rates.get("cache_read_input_token_cost") is None:
        # with_default_cache_read_rate: half the input rate, which get_model_info reports as 0 when unset (so an
        # override without an input price reads cached tokens for free, not at a long-context input rate)
        in_rate = rates.get("input_cost_per_token", 0.0)
        number = None if isinstance(in_rate, bool) else _number(in_rate)
        if number is not None:
            rates = {**rates, "cache_read_input_token_cost": number * _FIREWORKS_CACHE_READ_RATIO}
            if off_peak is not None and "cache_read_input_token_cost" not in off_peak:
                off_in = _off_peak_value(off_peak, "input_cost_per_token")
                off_peak = {**off_peak, "cache_read_input_token_cost":
                            number * _FIREWORKS_CACHE_READ_RATIO if off_in is None
                            else off_in * _FIREWORKS_CACHE_READ_RATIO}
    inclusive = provider in _INCLUSIVE_THRESHOLD_PROVIDERS
    suffix = service_tier_suffix(service_tier)

    def key(base: str) -> str:
        return f"{base}_{suffix}" if suffix else base

    keys: dict[str, str] = {}
    tier = _select_tier(rates.get("tiered_pricing"), prompt_tokens)
    if tier is not None and "input_cost_per_token" not in tier:
        tier = None
    if tier is not None:
        rng = tier.get("range")
        where = f"tiered_pricing[{rng[0]:g}, {rng[1]:g}]" if isinstance(rng, list) else "tiered_pricing"
        r_in = _tier_rate(tier, "input_cost_per_token")
        if "output_cost_per_token" in tier:
            r_out, keys["output"] = _tier_rate(tier, "output_cost_per_token"), where
        else:
            r_out, keys["output"] = unit(rates, "output_cost_per_token", 0.0) or 0.0, "output_cost_per_token"
        r_cr = _tier_rate(tier, "cache_read_input_token_cost", "input_cost_per_token")
        r_cw = _tier_rate(tier, "cache_creation_input_token_cost", "input_cost_per_token")
        r_1h = r_cw if tier.get(_TTL_KEYS["1hr"]) is None else _tier_rate(tier, _TTL_KEYS["1hr"])
        keys.update(input=where, cache_read=where, cache_write=where, cache_write_1h=where)
        if off_peak is not None:
            # _apply_off_peak_to_base_costs: the block's rates replace the tier's; a tier without a 1-hour rate
            # bills 1-hour writes at the (off-peak) write rate
            r_in = _off_peak_rate(off_peak, "input_cost_per_token", r_in)
            r_out = _off_peak_rate(off_peak, "output_cost_per_token", r_out)
            r_cr = _off_peak_rate(off_peak, "cache_read_input_token_cost", r_cr)
            r_cw = _off_peak_rate(off_peak, "cache_creation_input_token_cost", r_cw)
            r_1h = r_cw if tier.get(_TTL_KEYS["1hr"]) is None else _tier_rate(tier, _TTL_KEYS["1hr"])
            keys.update({k: f"{v} (off-peak)" for k, v in keys.items()})
        if "output_cost_per_reasoning_token" in tier or "output_cost_per_token" in tier:
            r_rea = _tier_rate(tier, "output_cost_per_reasoning_token", "output_cost_per_token")
            keys["reasoning"] = where
        else:
            r_rea, keys["reasoning"] = _reasoning_rate(rates, suffix, r_out)
    else:
        r_in = unit(rates, key("input_cost_per_token"), 0.0)
        r_out = unit(rates, key("output_cost_per_token"), 0.0)
        keys["input"], keys["output"] = key("input_cost_per_token"), key("output_cost_per_token")
        if r_out == 0.0:
            image_out = unit(rates, "output_cost_per_image_token", None)
            if image_out is not None:
                r_out, keys["output"] = image_out, "output_cost_per_image_token"
        r_cw = unit(rates, key("cache_creation_input_token_cost"), None)
        r_cr = unit(rates, key("cache_read_input_token_cost"), None)
        keys["cache_write"], keys["cache_read"] = key("cache_creation_input_token_cost"), \
            key("cache_read_input_token_cost")
        ttl_key = key(_TTL_KEYS["1hr"])
        tier_sfx = f"_{suffix}" if suffix else ""
        thresholds = []
        for k in rates:
            if k.startswith(_THRESHOLD_PREFIXES) and "_tokens" in k and (
                not k.endswith(_NON_STANDARD_SUFFIXES) or (tier_sfx and k.endswith(tier_sfx))
            ):
                thresholds.append(k)
        for k in sorted(thresholds, key=parse_threshold):
            try:
                text = k.rsplit("_above_", 1)[1].split("_tokens")[0]
                if not _exceeds(prompt_tokens, parse_threshold(k), inclusive):
                    continue
            except ValueError:
                continue
            for name, base in (("input", "input_cost_per_token"), ("output", "output_cost_per_token"),
                               ("cache_write", "cache_creation_input_token_cost"),
                               ("cache_read", "cache_read_input_token_cost")):
                tiered_key = key(f"{base}_above_{text}_tokens")
                current = {"input": r_in, "output": r_out, "cache_write": r_cw, "cache_read": r_cr}[name]
                new = unit(rates, tiered_key, current)
                if new is not current and unit(rates, tiered_key, None) is not None:
                    keys[name] = tiered_key
                if name == "input":
                    r_in = new
                elif name == "output":
                    r_out = new
                elif name == "cache_write":
                    r_cw = new
                else:
                    r_cr = new
            preferred = key(f"{_TTL_KEYS['1hr']}_above_{text}_tokens")
            if rates.get(preferred) is not None:
                ttl_key = preferred
        if off_peak is not None:
            # apply_off_peak_pricing: the block's rates replace the resolved ones; a cache price missing from
            # both falls back to the off-peak input rate
            r_in = _off_peak_rate(off_peak, "input_cost_per_token", r_in)
            r_out = _off_peak_rate(off_peak, "output_cost_per_token", r_out)
            block_cr = _off_peak_value(off_peak, "cache_read_input_token_cost")
            block_cw = _off_peak_value(off_peak, "cache_creation_input_token_cost")
            r_cr = r_cr if block_cr is None else block_cr
            r_cw = r_cw if block_cw is None else block_cw
            keys.update({k: f"{v} (off-peak)" for k, v in keys.items() if k in ("input", "output", "cache_read",
                                                                                  "cache_write")})
        if r_cr is None:
            r_cr, keys["cache_read"] = r_in, f"{keys['input']} (no cache-read price)"
        if r_cw is None:
            r_cw, keys["cache_write"] = r_in, f"{keys['input']} (no cache-write price)"
        r_1h = unit(rates, ttl_key, None)
        if r_1h is None:
            r_1h, keys["cache_write_1h"] = r_cw, keys["cache_write"]
        else:
            keys["cache_write_1h"] = ttl_key
        r_rea, keys["reasoning"] = _reasoning_rate(rates, suffix, r_out, keys["output"])
    if off_peak is not None:
        block_rea = _off_peak_value(off_peak, "output_cost_per_reasoning_token")
        if block_rea is not None:
            r_rea, keys["reasoning"] = block_rea, "off_peak_pricing.output_cost_per_reasoning_token"
    audio_in, keys["audio_input"] = _modality_rate(rates, "input_cost_per_audio_token", suffix, prompt_tokens,
                                                   inclusive)
    image_in, keys["image_input"] = _modality_rate(rates, "input_cost_per_image_token", suffix, 0, inclusive)
    audio_out = unit(rates, "output_cost_per_audio_token", None)
    keys["audio_output"] = "output_cost_per_audio_token" if audio_out is not None else keys["output"]
    return Rates(
        input=r_in, output=r_out, cache_read=r_cr, cache_write=r_cw, cache_write_1h=r_1h, reasoning=r_rea,
        audio_input=audio_in, audio_output=r_out if audio_out is None else audio_out, image_input=image_in,
        keys=keys,
    )


def _reasoning_rate(rates: dict[str, Any], suffix: str | None, r_out: float,
                    out_key: str = "output rate") -> tuple[float, str]:
    tier_key = f"output_cost_per_reasoning_token_{suffix}" if suffix else "output_cost_per_reasoning_token"
    if rates.get(tier_key) is not None:
        value = unit(rates, tier_key, None)
        if value is not None:
            return value, tier_key
    if suffix and rates.get(f"output_cost_per_token_{suffix}") is not None:
        return r_out, out_key
    standard = unit(rates, "output_cost_per_reasoning_token", None)
    if standard is not None:
        return standard, "output_cost_per_reasoning_token"
    return r_out, out_key


# -- batch output lines -------------------------------------------------------------------------------
# LiteLLM prices a finished batch line by line with ``batch_cost_calculator`` (cost_calculator.py) and
# ``get_batch_cost_rates`` (llm_cost_calc/utils.py), never with the chat formulas: ``*_batches`` keys (with
# their own ``_above_Nk_tokens_batches`` tiers), else half the standard rate; no service tier, reasoning
# rate, discount or margin. There is no 1-hour batch write key in get_model_info's field set, so 1-hour
# writes bill at the 5-minute batch write rate.

_BATCH_TIER_KEY = re.compile(
    r"^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|cache_creation_input_token_cost"
    r"|cache_creation_input_token_cost_above_1hr|cache_creation_input_token_cost_above_12hr)"
    r"_above_(\d+k?)_tokens_batches$"
)


class BatchRates(NamedTuple):
    """The rates one batch output line is billed at (for one prompt-size band)."""

    input: float | None  # input_cost_per_token_batches (tiered); None: LiteLLM's half-price fallback formula
    output: float  # output_cost_per_token_batches, else half of output_cost_per_token
    cache_read: float | None  # batch rate, else the standard (not halved) rate; None: reads bill as input
    cache_write: float | None  # cache_creation_input_token_cost_batches; None: writes bill as input ...
    cache_write_1h: float | None  # ... unless a 1-hour batch rate exists (None in LiteLLM 1.110.2's field set)
    audio_input: float  # input_cost_per_audio_token_batches, else ``input``
    image_input: float  # input_cost_per_image_token_batches, else ``input``
    std_input: float  # for the fallback: standard input, cache-read and cache-write rates, halved there
    std_cache_read: float
    std_cache_write: float


def _batch_value(rates: dict[str, Any], key: str) -> float | None:
    value = rates.get(key)
    return None if value is None else _number(value)


def _batch_rate_for(rates: dict[str, Any], prefix: str, prompt_tokens: int, inclusive: bool) -> float | None:
    """LiteLLM's ``_batch_rate_for_prefix``: the highest crossed ``_above_Nk_tokens_batches`` tier, else flat."""
    crossed, crossed_at = None, None
    for k, v in rates.items():
        m = _BATCH_TIER_KEY.match(k) if v is not None else None
        if m is None or m.group(1) != prefix:
            continue
        threshold = parse_threshold(k)
        if _exceeds(prompt_tokens, threshold, inclusive) and (crossed_at is None or threshold > crossed_at):
            crossed, crossed_at = m.group(2), threshold
    flat = _batch_value(rates, f"{prefix}_batches")
    if crossed is None:
        return flat
    tiered = _batch_value(rates, f"{prefix}_above_{crossed}_tokens_batches")
    return flat if tiered is None else tiered


def _context_rate(rates: dict[str, Any], cost_key: str, prompt_tokens: int) -> float | None:
    """LiteLLM's ``get_modality_token_cost_key`` + ``get_cost_per_unit(..., None)``: the rate of the highest
    crossed ``_above_Nk`` variant of ``cost_key`` (thresholds exclusive, for every provider), else the key's own."""
    suffix = "_batches" if cost_key.endswith("_batches") else ""
    base = cost_key.removesuffix(suffix)
    best, best_at = None, None
    for k, v in rates.items():
        if v is None or not k.startswith(f"{base}_above_") or not k.endswith(("_tokens", f"_tokens{suffix}")):
            continue
        try:
            threshold = parse_threshold(k)
        except ValueError:
            continue
        if prompt_tokens > threshold and (best_at is None or threshold > best_at):
            best, best_at = k, threshold
    key = cost_key if best is None else f"{best.removesuffix(suffix)}{suffix}"
    return unit(rates, key, None)


def _batch_modality_rate(rates: dict[str, Any], key: str, fallback: float, prompt_tokens: int) -> float:
    rate = _context_rate(rates, key, prompt_tokens)
    if rate is None:
        rate = _batch_value(rates, key)
    return fallback if rate is None else rate


def batch_band_rates(rates: dict[str, Any], prompt_tokens: int, provider: str | None) -> BatchRates:
    """Every rate a batch output line of ``prompt_tokens`` is billed at (LiteLLM's ``get_batch_cost_rates``)."""
    inclusive = provider in _INCLUSIVE_THRESHOLD_PROVIDERS
    r_in = _batch_rate_for(rates, "input_cost_per_token", prompt_tokens, inclusive)
    r_out = _batch_rate_for(rates, "output_cost_per_token", prompt_tokens, inclusive)
    r_cr = _batch_rate_for(rates, "cache_read_input_token_cost", prompt_tokens, inclusive)
    if r_cr is None:
        r_cr = _context_rate(rates, "cache_read_input_token_cost", prompt_tokens)
    std_in = unit(rates, "input_cost_per_token", 0.0) or 0.0
    std_cw = _number(rates.get("cache_creation_input_token_cost"))
    return BatchRates(
        input=r_in,
        output=r_out if r_out is not None else (unit(rates, "output_cost_per_token", 0.0) or 0.0) / 2,
        cache_read=r_cr,
        cache_write=_batch_rate_for(rates, "cache_creation_input_token_cost", prompt_tokens, inclusive),
        cache_write_1h=_batch_rate_for(rates, _TTL_KEYS["1hr"], prompt_tokens, inclusive),
        audio_input=_batch_modality_rate(rates, "input_cost_per_audio_token_batches", r_in or 0.0, prompt_tokens),
        image_input=_batch_modality_rate(rates, "input_cost_per_image_token_batches", r_in or 0.0, 0),
        std_input=std_in,
        std_cache_read=unit(rates, "cache_read_input_token_cost", 0.0) or 0.0,
        std_cache_write=std_in if std_cw is None else std_cw,
    )


def batch_cost(b: BatchRates, prompt: int, completion: int, cache_read: int, cache_write: int,
               cache_write_1h: int, audio_in: int, image_in: int) -> Cost:
    """One batch output line, summed in LiteLLM's order (``batch_cost_calculator`` / ``_batch_prompt_cost``)."""
    if b.input is not None:
        cached = cache_read if b.cache_read is not None else 0
        bills_writes = b.cache_write is not None or b.cache_write_1h is not None
        written = cache_write if bills_writes else 0
        text = max(prompt - audio_in - image_in - cached - written, 0)
        uncached = text * b.input + audio_in * b.audio_input + image_in * b.image_input
        read = cached * (b.cache_read or 0.0)
        write = write_1h = 0.0
        if bills_writes:
            base = b.input if b.cache_write is None else b.cache_write
            h = min(cache_write_1h, written)
            one_hour = base if b.cache_write_1h is None else b.cache_write_1h
            write = (written - h) * base + h * one_hour if h else written * base
            write_1h = h * one_hour if h else 0.0
        prompt_cost = uncached + read + write
    else:
        # LiteLLM's fallback without ``input_cost_per_token_batches``: half of the standard rates; a missing
        # cache-read price bills reads at $0 here (not at the input rate), audio and image count as text.
        uncached = (prompt - cache_read - cache_write) * b.std_input / 2
        read = (cache_read * b.std_cache_read if cache_read > 0 else 0.0) / 2
        write = cache_write * b.std_cache_write / 2
        write_1h = cache_write_1h * b.std_cache_write / 2
        prompt_cost = uncached + read + write
    out = completion * b.output
    total = prompt_cost + out
    return Cost(uncached, read, write, out, 0.0, 0.0, total, write_1h)


class Adjuster:
    """``litellm_settings`` discount then margin (PRICING.md §7.6), for one provider/model."""

    __slots__ = ("discount", "margin_fixed", "margin_pct")

    def __init__(self, discount: float, margin_pct: float, margin_fixed: float):
        self.discount, self.margin_pct, self.margin_fixed = discount, margin_pct, margin_fixed

    @property
    def active(self) -> bool:
        return bool(self.discount or self.margin_pct or self.margin_fixed)

    def __call__(self, base: float) -> float:
        total = base - base * self.discount if self.discount else base
        if self.margin_pct or self.margin_fixed:
            total = total + (total * self.margin_pct + self.margin_fixed)
        return total

    def discount_of(self, base: float) -> float:
        """The discount's part of ``self(base) - base`` (≤ 0), as the same float steps compute it."""
        return (base - base * self.discount) - base if self.discount else 0.0


NO_ADJUSTMENT = Adjuster(0.0, 0.0, 0.0)
# cost_discount._GLOB_TOKEN: a bracket expression is one token; literal characters count, "*", "?" and [...] do not
_GLOB_TOKEN = re.compile(r"\[!\][^\]]*\]|\[\][^\]]*\]|\[!(?!\])[^\]]*\]|\[(?![!\]])[^\]]*\]|.", re.DOTALL)


def _literal_length(pattern: str) -> int:
    """How specific a model-pattern discount key is: LiteLLM prefers the glob with the most literal characters."""
    return sum(1 for m in _GLOB_TOKEN.finditer(pattern) if len(m.group()) == 1 and m.group() not in "*?")


def make_adjuster(discounts: dict[str, float], margins: dict[str, Any], provider: str | None,
                  model: str | None) -> Adjuster:
    import fnmatch

    discount = 0.0
    if provider and discounts:
        prefix = f"{provider}/"
        names: list[str] = []
        if model:
            stripped = model
            while stripped.startswith(prefix):
                stripped = stripped[len(prefix):]
                names.append(stripped)
            if not names:
                names.append(model)
        patterns = [k[len(prefix):] for k in discounts if k.startswith(prefix)]
        exact = next((n for n in names if n in patterns and not set("*?[") & set(n)), None)
        if exact is not None:
            discount = discounts[prefix + exact]
        else:
            globs = [p for p in patterns if set("*?[") & set(p)
                     and any(fnmatch.fnmatchcase(n, p) for n in names if "/" in p or not n.startswith(prefix))]
            if globs:
                best = max(globs, key=_literal_length)
                discount = discounts[prefix + best]
            else:
                discount = discounts.get(provider, 0.0)
    margin_cfg = None
    if provider and provider in margins:
        margin_cfg = margins[provider]
    elif "global" in margins:
        margin_cfg = margins["global"]
    pct = fixed = 0.0
    if isinstance(margin_cfg, dict):
        pct, fixed = float(margin_cfg.get("percentage", 0.0)), float(margin_cfg.get("fixed_amount", 0.0))
    elif margin_cfg is not None:
        pct = float(margin_cfg)
    return Adjuster(discount, pct, fixed)


class Pricer:
    """Prices records against one PriceSheet under one service tier."""

    def __init__(self, sheet: PriceSheet, service_tier: str | None = None, adjuster: Adjuster = NO_ADJUSTMENT,
                 *, off_peak: dict[str, Any] | None = None):
        self.sheet = sheet
        # providers whose cost function passes no service tier bill every tier at the standard rates
        self.service_tier = service_tier if sheet.formula in ("generic", "vertex_128k") else None
        self.adjust = adjuster
        # band_rates options: the provider's formula, the off-peak block (an off-peak twin), the regional uplift
        self._options: dict[str, Any] = {"formula": sheet.formula, "off_peak": off_peak, "uplift": sheet.uplift}
        service_tier = self.service_tier
        self.per_second = sheet.per_second_rate if sheet.per_second else None
        rates = sheet.rates
        bounds: set[float] = set()
        for k in rates:
            if "_above_" in k and "_tokens" in k:
                with contextlib.suppress(ValueError):
                    bounds.add(parse_threshold(k))
        self._bounds = sorted(bounds)
        self._inclusive = sheet.provider in _INCLUSIVE_THRESHOLD_PROVIDERS
        self._tiers = rates.get("tiered_pricing")
        self._bands: dict[Any, Rates] = {}
        self._batch_bands: dict[tuple[int, int], BatchRates] = {}
        self._batch_bounds: list[float] | None = None  # thresholds of a separate batch card (lazily)
        self._adjusting = adjuster.active
        # id(Rates or BatchRates), or a formula's key -> (that object, its exact-money Band)
        self._exact: dict[Any, tuple[Any, Band]] = {}
        self.rate_tables: dict[Any, Any] = {}  # render's per-band {part: key, rate, source} tables and their JSON
        # no size-dependent rates: one band for every prompt, resolved now (the common case)
        self._flat = None if self._bounds or self._tiers is not None or self.per_second is not None \
            else band_rates(rates, 0, service_tier, sheet.provider, **self._options)

    def rates_for(self, prompt_tokens: int) -> Rates:
        if self._inclusive:
            band: Any = bisect_right(self._bounds, prompt_tokens)
        else:
            band = bisect_left(self._bounds, prompt_tokens)
        if self._tiers is not None:
            band = (band, id(_select_tier(self._tiers, prompt_tokens)))
        try:
            return self._bands[band]
        except KeyError:
            r = self._bands[band] = band_rates(self.sheet.rates, prompt_tokens, self.service_tier,
                                               self.sheet.provider, **self._options)
            return r

    @property
    def batch_card(self) -> dict[str, Any]:
        """The rates batch output lines are priced with (a deployment's may differ from its chat card)."""
        return self.sheet.rates if self.sheet.batch_rates is None else self.sheet.batch_rates

    def batch_rates_for(self, prompt_tokens: int) -> BatchRates:
        bounds = self._bounds
        if self.sheet.batch_rates is not None:
            if self._batch_bounds is None:
                found: set[float] = set()
                for k in self.sheet.batch_rates:
                    if "_above_" in k and "_tokens" in k:
                        with contextlib.suppress(ValueError):
                            found.add(parse_threshold(k))
                self._batch_bounds = sorted(found)
            bounds = self._batch_bounds
        # both bisections: batch tiers follow the provider's threshold rule, modality tiers are always exclusive
        band = (bisect_left(bounds, prompt_tokens), bisect_right(bounds, prompt_tokens))
        try:
            return self._batch_bands[band]
        except KeyError:
            r = self._batch_bands[band] = batch_band_rates(self.batch_card, prompt_tokens, self.sheet.provider)
            return r

    def price_record(self, r: Any) -> Cost | None:
        """The cost of one UsageRecord, its ``extras`` (rarer billable parts) included; a bucket of requests at
        the band of one of them (``band_prompt_tokens``)."""
        return self(r.prompt_tokens, r.completion_tokens, r.cache_read_tokens, r.cache_write_tokens,
                    r.cache_write_1h_tokens, r.reasoning_tokens, r.audio_input_tokens, r.audio_output_tokens,
                    r.image_input_tokens, r.duration_s, r.batch, extras=r.extras, band_prompt=r.band_prompt_tokens)

    def __call__(self, prompt: int, completion: int, cache_read: int = 0, cache_write: int = 0,
                 cache_write_1h: int = 0, reasoning: int = 0, audio_in: int = 0, audio_out: int = 0,
                 image_in: int = 0, duration_s: float | None = None, batch: bool = False,
                 extras: Any = None, band_prompt: int | None = None) -> Cost | None:
        """The cost of one call, or None when a per-second price has no duration to multiply. ``batch``: a
        batch output line, billed at batch rates (no service tier, per-second price, discount or margin, nor any
        of the ``extras``, as LiteLLM's batch cost path). ``band_prompt``: the prompt size that picks the
        context-length band when the counts sum several requests (None: ``prompt``)."""
        sized = prompt if band_prompt is None else band_prompt
        if batch:
            if not self.batch_card:
                return None  # no row prices the batch line (LiteLLM books it at $0): unpriced
            if self.sheet.provider in _ANTHROPIC_USAGE_BATCH_PROVIDERS:
                audio_in = image_in = 0  # their result lines carry Anthropic usage: no modality counts
            return batch_cost(self.batch_rates_for(sized), prompt, completion, cache_read, cache_write,
                              cache_write_1h, audio_in, image_in)
        if self.per_second is not None:
            if duration_s is None:
                return None
            base = self.per_second[1] * ((duration_s * 1000.0) / 1000)
            if not self._adjusting:
                return Cost(base, 0.0, 0.0, 0.0, 0.0, 0.0, base)
            total = self.adjust(base)
            return Cost(base, 0.0, 0.0, 0.0, 0.0, total - base, total, 0.0, self.adjust.discount_of(base))
        r = self._flat if self._flat is not None else self.rates_for(sized)
        if extras is not None:
            return self._extended(r, prompt, completion, cache_read, cache_write, cache_write_1h, reasoning,
                                  audio_in, audio_out, image_in, extras)
        if audio_in or image_in:
            text_in, audio_in, image_in = split_input(prompt, cache_read, cache_write, audio_in, image_in)
        else:
            text_in = prompt - cache_read - cache_write
            if text_in < 0:
                text_in = 0
        uncached = text_in * r.input
        read = cache_read * r.cache_read
        prompt_cost = uncached + read
        if audio_in:
            a = audio_in * (r.input if r.audio_input is None else r.audio_input)
            uncached += a
            prompt_cost += a
        if image_in:
            i = image_in * (r.input if r.image_input is None else r.image_input)
            uncached += i
            prompt_cost += i
        write = write_1h = 0.0
        if cache_write or cache_write_1h:
            write_1h = cache_write_1h * r.cache_write_1h
            write = max(cache_write - cache_write_1h, 0) * r.cache_write + write_1h
            prompt_cost += write
        # Output (§2.4): with a breakdown, text is the remainder after reasoning and audio.
        if reasoning > 0 or audio_out > 0:
            out = completion_cost = max(0, completion - reasoning - audio_out) * r.output
            if audio_out > 0:
                out += audio_out * r.audio_output
                completion_cost += audio_out * r.audio_output
            rea = reasoning * r.reasoning if reasoning > 0 else 0.0
            completion_cost += rea
        else:
            out = completion_cost = completion * r.output
            rea = 0.0
        base = prompt_cost + completion_cost
        if not self._adjusting:
            return Cost(uncached, read, write, out, rea, 0.0, base, write_1h)
        total = self.adjust(base)
        return Cost(uncached, read, write, out, rea, total - base, total, write_1h, self.adjust.discount_of(base))

    # -- exact money (exact.py): the same formula as __call__, as integer units and the band that prices them --

    routing_fee = 0.0  # $ per prompt token added before discount and margin (FormulaPricer: the router fee)

    def band(self, r: Rates) -> Band:
        """The exact-money Band of one set of band rates (one per Rates object, like the rates themselves)."""
        found = self._exact.get(id(r))
        if found is None:
            a = self.adjust
            band = Band((r.input, r.input if r.audio_input is None else r.audio_input,
                         r.input if r.image_input is None else r.image_input, r.cache_read, r.cache_write,
                         r.cache_write_1h, r.output, r.audio_output, r.reasoning, self.routing_fee, 0.0),
                        a.discount, a.margin_pct, a.margin_fixed, keys=r.keys)
            found = self._exact[id(r)] = (r, band)
        return found[1]

    def _per_second_band(self) -> Band:
        found = self._exact.get(0)
        if found is None:
            a = self.adjust
            key, rate = self.per_second  # type: ignore[misc]
            band = Band(_in_slot(_DURATION_SLOT, rate, 0.0), a.discount, a.margin_pct, a.margin_fixed,
                        keys={"duration_s": key})
            found = self._exact[0] = (None, band)
        return found[1]

    def _batch_band(self, b: BatchRates) -> Band:
        found = self._exact.get(id(b))
        if found is None:
            if b.input is not None:
                base = b.input if b.cache_write is None else b.cache_write
                one_hour = base if b.cache_write_1h is None else b.cache_write_1h
                rates = (b.input, b.audio_input, b.image_input, b.cache_read or 0.0, base, one_hour, b.output,
                         0.0, 0.0, 0.0, 0.0)
            else:  # LiteLLM's half-price fallback
                rates = (b.std_input / 2, 0.0, 0.0, b.std_cache_read / 2, b.std_cache_write / 2, 0.0, b.output,
                         0.0, 0.0, 0.0, 0.0)
            found = self._exact[id(b)] = (b, Band(rates, adjusts=False))
        return found[1]

    def measure(self, rec: Any) -> Measured | None:
        """A record's units and band (None where ``__call__`` gives None: no duration, no batch card)."""
        return self._measure(rec.prompt_tokens, rec.completion_tokens, rec.cache_read_tokens,
                             rec.cache_write_tokens, rec.cache_write_1h_tokens, rec.reasoning_tokens,
                             rec.audio_input_tokens, rec.audio_output_tokens, rec.image_input_tokens,
                             rec.duration_s, rec.batch, extras=rec.extras, band_prompt=rec.band_prompt_tokens)

    def _measure(self, prompt: int, completion: int, cache_read: int, cache_write: int, cache_write_1h: int,
                 reasoning: int, audio_in: int, audio_out: int, image_in: int, duration_s: float | None,
                 batch: bool, rates: Rates | None = None, extras: Any = None,
                 band_prompt: int | None = None) -> Measured | None:
        sized = prompt if band_prompt is None else band_prompt
        if batch:
            if not self.batch_card:
                return None
            if self.sheet.provider in _ANTHROPIC_USAGE_BATCH_PROVIDERS:
                audio_in = image_in = 0
            b = self.batch_rates_for(sized)
            if b.input is None:
                units = (prompt - cache_read - cache_write, 0, 0, cache_read, cache_write, 0, completion, 0, 0, 0, 0)
            else:
                cached = cache_read if b.cache_read is not None else 0
                written = cache_write if b.cache_write is not None or b.cache_write_1h is not None else 0
                h = min(cache_write_1h, written)
                units = (max(prompt - audio_in - image_in - cached - written, 0), audio_in, image_in, cached,
                         written - h, h, completion, 0, 0, 0, 0)
            return self._batch_band(b), units
        if self.per_second is not None:
            if duration_s is None:
                return None
            return self._per_second_band(), _in_slot(_DURATION_SLOT, seconds(duration_s), 0)
        r = rates if rates is not None else self._flat if self._flat is not None else self.rates_for(sized)
        if extras is not None:
            return self._measure_extended(r, prompt, completion, cache_read, cache_write, cache_write_1h, reasoning,
                                          audio_in, audio_out, image_in, extras)
        if audio_in or image_in:
            text_in, audio_in, image_in = split_input(prompt, cache_read, cache_write, audio_in, image_in)
        else:
            text_in = max(prompt - cache_read - cache_write, 0)
        written_5m = max(cache_write - cache_write_1h, 0) if cache_write or cache_write_1h else 0
        return self.band(r), (text_in, audio_in, image_in, cache_read, written_5m, cache_write_1h,
                              max(0, completion - reasoning - audio_out), audio_out, max(reasoning, 0),
                              prompt if self.routing_fee else 0, 0)

    def _measure_extended(self, r: Rates, prompt: int, completion: int, cache_read: int, cache_write: int,
                          cache_write_1h: int, reasoning: int, audio_in: int, audio_out: int, image_in: int,
                          extras: Any) -> Measured:
        """A record with ``UsageExtras``: its parts (``_extended_parts``, multipliers in the rates) as units in
        their slots, under a band made for that set of rates."""
        units = [0] * N_SLOTS
        rates = [0.0] * N_SLOTS
        for part, _, count, rate, _ in self._extended_parts(r, prompt, completion, cache_read, cache_write,
                                                            cache_write_1h, reasoning, audio_in, audio_out,
                                                            image_in, extras):
            slot = _PART_SLOTS[part]
            units[slot] += count
            rates[slot] = rate
        if self.routing_fee:
            units[_FEE_SLOT], rates[_FEE_SLOT] = prompt, self.routing_fee
        key = ("extended", tuple(rates))
        found = self._exact.get(key)
        if found is None:
            a = self.adjust
            found = self._exact[key] = (None, Band(rates, a.discount, a.margin_pct, a.margin_fixed, keys=r.keys))
        return found[1], tuple(units)

    def _extra_rate(self, key: str, fallback: float, fallback_key: str) -> tuple[float, str]:
        """A modality rate of the card and its key (with the service tier's suffix, as LiteLLM's
        ``get_service_tier_cost_key`` looks it up), scaled by the regional uplift like the other rates; the
        fallback when the card has none."""
        suffix = service_tier_suffix(self.service_tier)
        key = f"{key}_{suffix}" if suffix else key
        value = unit(self.sheet.rates, key, None)
        return (fallback, fallback_key) if value is None else (value * self.sheet.uplift, key)

    def _extended(self, r: Rates, prompt: int, completion: int, cache_read: int, cache_write: int,
                  cache_write_1h: int, reasoning: int, audio_in: int, audio_out: int, image_in: int,
                  x: Any) -> Cost:
        """``__call__`` for a record with ``UsageExtras`` (off the hot path): the sum of ``_extended_parts``,
        then discount and margin."""
        sums = dict.fromkeys(("input", "cache_read", "cache_write", "output", "reasoning"), 0.0)
        for _, bucket, units, rate, _ in self._extended_parts(r, prompt, completion, cache_read, cache_write,
                                                              cache_write_1h, reasoning, audio_in, audio_out,
                                                              image_in, x):
            sums[bucket] += units * rate
        base = sum(sums.values())
        total = self.adjust(base) if self._adjusting else base
        return Cost(sums["input"], sums["cache_read"], sums["cache_write"], sums["output"], sums["reasoning"],
                    total - base, total)

    def _extended_parts(self, r: Rates, prompt: int, completion: int, cache_read: int, cache_write: int,
                        cache_write_1h: int, reasoning: int, audio_in: int, audio_out: int, image_in: int,
                        x: Any) -> list[tuple[str, str, int, float, str]]:
        """(part, cost bucket, units, rate, rate key) of a record with ``UsageExtras``, in generic_cost_per_token's
        terms: cached audio and image at their cache-read rates (their uncached shares at the modality rates),
        image output at ``output_cost_per_image_token``; Perplexity's citation tokens and search queries
        (llms/perplexity/cost_calculator.py); every rate times Anthropic's fast-mode multiplier for ``speed:
        "fast"`` and the Anthropic / Bedrock regional multiplier for ``inference_geo``
        (``get_provider_specific_speed_multiplier`` / ``_geo_multiplier``, applied before discount and margin)."""
        formula = self.sheet.formula
        modalities = formula not in ("perplexity", "dashscope", "xai")  # their functions read no such details
        ca, ci = (x.cache_read_audio_tokens, x.cache_read_image_tokens) if modalities else (0, 0)
        image_out = x.image_output_tokens if modalities else 0
        video_out = x.video_output_tokens if modalities else 0
        text_in, audio_in, image_in = split_input(prompt, cache_read, cache_write, audio_in - ca, image_in - ci)
        keys = r.keys
        parts = [("input", "input", text_in, r.input, keys["input"])]
        if audio_in:
            parts.append(("audio input", "input", audio_in, r.input if r.audio_input is None else r.audio_input,
                          keys["input"] if r.audio_input is None else keys["audio_input"]))
        if image_in:
            parts.append(("image input", "input", image_in, r.input if r.image_input is None else r.image_input,
                          keys["input"] if r.image_input is None else keys["image_input"]))
        if cache_read - ca - ci:
            parts.append(("cache read", "cache_read", cache_read - ca - ci, r.cache_read, keys["cache_read"]))
        for part, units, key in (("cached audio", ca, "cache_read_input_audio_token_cost"),
                                 ("cached image", ci, "cache_read_input_image_token_cost")):
            if units:
                rate, shown = self._extra_rate(key, r.cache_read, keys["cache_read"])
                parts.append((part, "cache_read", units, rate, shown))
        if cache_write - cache_write_1h > 0:
            parts.append(("cache write", "cache_write", cache_write - cache_write_1h, r.cache_write,
                          keys["cache_write"]))
        if cache_write_1h:
            parts.append(("cache write 1h", "cache_write", cache_write_1h, r.cache_write_1h, keys["cache_write_1h"]))
        parts.append(("output", "output", max(0, completion - reasoning - audio_out - image_out - video_out),
                      r.output, keys["output"]))
        if audio_out:
            parts.append(("audio output", "output", audio_out, r.audio_output, keys["audio_output"]))
        if image_out:
            rate, shown = self._extra_rate("output_cost_per_image_token", r.output, keys["output"])
            parts.append(("image output", "output", image_out, rate, shown))
        if video_out:  # output_cost_per_video_token, else the output rate (no service-tier key, as LiteLLM)
            value = unit(self.sheet.rates, "output_cost_per_video_token", None)
            rate, shown = (r.output, keys["output"]) if value is None else (
                value * self.sheet.uplift, "output_cost_per_video_token")
            parts.append(("video output", "output", video_out, rate, shown))
        if reasoning:
            parts.append(("reasoning", "reasoning", reasoning, r.reasoning, keys["reasoning"]))
        if formula == "perplexity":
            rates = self.sheet.rates
            if x.citation_tokens and rates.get("citation_cost_per_token") is not None:
                parts.append(("citation tokens", "input", x.citation_tokens,
                              _plain_rate(rates["citation_cost_per_token"]), "citation_cost_per_token"))
            key = "search_queries_cost_per_query"
            if rates.get(key) is None:
                key = "search_context_cost_per_query"
            per_query = rates.get(key)
            if x.search_queries and per_query is not None:
                if isinstance(per_query, dict):
                    per_query, key = per_query.get("search_context_size_low", 0), f"{key} (search_context_size_low)"
                parts.append(("search queries", "output", x.search_queries, _plain_rate(per_query), key))
        entry = self.sheet.rates.get("provider_specific_entry")
        entry = entry if isinstance(entry, dict) else {}
        geo = x.inference_geo
        multipliers = []
        if x.speed == "fast" and self.sheet.provider == "anthropic":  # get_provider_specific_speed_multiplier
            multipliers.append((_plain_rate(entry.get("fast", 1.0)), "speed fast"))
        if geo and self.sheet.provider in _GEO_PROVIDERS and geo.lower() not in ("global", "not_available"):
            multipliers.append((_plain_rate(entry.get(geo.lower(), 1.0)), f"inference_geo {geo}"))
        for factor, why in multipliers:
            if factor != 1.0:
                note = f" x {factor:g} ({why}: provider_specific_entry)"
                parts = [(part, bucket, units, rate * factor, key + note) for part, bucket, units, rate, key in parts]
        # built-in tools: added to the token cost after its multipliers, before discount and margin
        charge = tool_charge(self.sheet.call_provider or self.sheet.provider, self.sheet.map_key or self.sheet.model,
                             self.sheet.rates, x.tools)
        if charge is not None:
            parts.append((charge.part, "output", charge.count, charge.rate, charge.key))
        return parts

    def explain(self, prompt: int, completion: int, cache_read: int = 0, cache_write: int = 0,
                cache_write_1h: int = 0, reasoning: int = 0, audio_in: int = 0, audio_out: int = 0,
                image_in: int = 0, duration_s: float | None = None, batch: bool = False,
                extras: Any = None, band_prompt: int | None = None) -> list[Charge]:
        """The charges that make up a record's cost, each as units × rate (for ``--explain``); ``band_prompt``
        as for ``__call__``."""
        sources = self.sheet.sources
        sized = prompt if band_prompt is None else band_prompt

        def charge(part: str, units: float, rate: float, key: str) -> Charge:
            base_key = key.split(" ")[0]
            # a price table's entry (search_context_cost_per_query.search_context_size_medium) has the table's source
            source = sources.get(base_key) or sources.get(base_key.split(".")[0]) or (
                "default: 0" if base_key.endswith("_cost_per_token") else "")
            return Charge(part, units, rate, key, source, units * rate)

        if extras is not None and not batch and self.per_second is None:
            return [charge(part, units, rate, key) for part, _, units, rate, key in self._extended_parts(
                self.rates_for(sized), prompt, completion, cache_read, cache_write, cache_write_1h, reasoning,
                audio_in, audio_out, image_in, extras)]

        if batch:
            if self.sheet.provider in _ANTHROPIC_USAGE_BATCH_PROVIDERS:
                audio_in = image_in = 0
            return self._explain_batch(charge, prompt, completion, cache_read, cache_write, cache_write_1h,
                                       audio_in, image_in, sized)

        if self.per_second is not None:
            key, rate = self.per_second
            if duration_s is None:
                return []
            # the cost exactly as ``__call__`` computes it (LiteLLM's milliseconds round trip)
            return [replace(charge("duration (s)", duration_s, rate, key), cost=rate * ((duration_s * 1000.0) / 1000))]
        r = self.rates_for(sized)
        text_in, audio_in, image_in = split_input(prompt, cache_read, cache_write, audio_in, image_in)
        out = [charge("input", text_in, r.input, r.keys["input"])]
        if cache_read:
            out.append(charge("cache read", cache_read, r.cache_read, r.keys["cache_read"]))
        if audio_in:
            out.append(charge("audio input", audio_in, r.input if r.audio_input is None else r.audio_input,
                              r.keys["input"] if r.audio_input is None else r.keys["audio_input"]))
        if image_in:
            out.append(charge("image input", image_in, r.input if r.image_input is None else r.image_input,
                              r.keys["input"] if r.image_input is None else r.keys["image_input"]))
        if cache_write - cache_write_1h > 0:
            out.append(charge("cache write", cache_write - cache_write_1h, r.cache_write, r.keys["cache_write"]))
        if cache_write_1h:
            out.append(charge("cache write 1h", cache_write_1h, r.cache_write_1h, r.keys["cache_write_1h"]))
        if reasoning > 0 or audio_out > 0:
            out.append(charge("output", max(0, completion - reasoning - audio_out), r.output, r.keys["output"]))
            if audio_out:
                out.append(charge("audio output", audio_out, r.audio_output, r.keys["audio_output"]))
            if reasoning:
                out.append(charge("reasoning", reasoning, r.reasoning, r.keys["reasoning"]))
        else:
            out.append(charge("output", completion, r.output, r.keys["output"]))
        return out


    def _explain_batch(self, charge: Any, prompt: int, completion: int, cache_read: int, cache_write: int,
                       cache_write_1h: int, audio_in: int, image_in: int, sized: int) -> list[Charge]:
        """Batch lines as ``batch_cost`` bills them (``*_batches`` rates, else LiteLLM's half-price fallback), at
        the band of a ``sized`` prompt."""
        b = self.batch_rates_for(sized)
        out_key = "output_cost_per_token_batches" if "output_cost_per_token_batches" in self.batch_card \
            else "output_cost_per_token (halved: no batch price)"
        if b.input is None:
            half = "(halved: no batch input price)"
            lines = [charge("batch input", prompt - cache_read - cache_write, b.std_input / 2,
                            f"input_cost_per_token {half}")]
            if cache_read:
                lines.append(charge("batch cache read", cache_read, b.std_cache_read / 2,
                                    f"cache_read_input_token_cost {half}"))
            if cache_write:
                lines.append(charge("batch cache write", cache_write, b.std_cache_write / 2,
                                    f"cache_creation_input_token_cost {half}"))
            return [*lines, charge("batch output", completion, b.output, out_key)]
        cached = cache_read if b.cache_read is not None else 0
        bills_writes = b.cache_write is not None or b.cache_write_1h is not None
        written = cache_write if bills_writes else 0
        lines = [charge("batch input", max(prompt - audio_in - image_in - cached - written, 0), b.input,
                        "input_cost_per_token_batches")]
        if audio_in:
            lines.append(charge("batch audio input", audio_in, b.audio_input, "input_cost_per_audio_token_batches"))
        if image_in:
            lines.append(charge("batch image input", image_in, b.image_input, "input_cost_per_image_token_batches"))
        if cached:
            key = "cache_read_input_token_cost_batches" if "cache_read_input_token_cost_batches" in self.batch_card \
                else "cache_read_input_token_cost (no batch price)"
            lines.append(charge("batch cache read", cached, b.cache_read or 0.0, key))
        if written:
            base = b.input if b.cache_write is None else b.cache_write
            h = min(cache_write_1h, written)
            one_hour = base if b.cache_write_1h is None else b.cache_write_1h
            lines.append(charge("batch cache write", written - h, base, "cache_creation_input_token_cost_batches"))
            if h:
                lines.append(charge("batch cache write 1h", h, one_hour, "cache_creation_input_token_cost_batches"))
        return [*lines, charge("batch output", completion, b.output, out_key)]


class FormulaPricer(Pricer):
    """A Pricer for a card LiteLLM does not price with the plain generic formula of one rate set: a provider
    function that reads fewer token counts (xai, perplexity, dashscope), Vertex's 128k rule, a provider that prices
    nothing, or rates that change with the time of day (``off_peak_pricing``). Off the fused hot path: the engine
    calls ``price_record``, which passes the record's timestamp."""

    def __init__(self, sheet: PriceSheet, service_tier: str | None = None, adjuster: Adjuster = NO_ADJUSTMENT):
        super().__init__(sheet, service_tier, adjuster)
        formula = sheet.formula
        self._xai = formula == "xai"  # completion details dropped: reasoning and audio output are plain output
        self._text_only = formula in ("perplexity", "dashscope")  # audio, image and 1-hour writes are plain input
        block = sheet.rates.get("off_peak_pricing")
        self.off_peak_block = block if isinstance(block, dict) and formula in _OFF_PEAK_FORMULAS else None
        self._off_peak = Pricer(sheet, service_tier, adjuster, off_peak=block) \
            if self.off_peak_block is not None and self.per_second is None else None
        # whether the record priced last fell in an off-peak window: --explain and the per-record rate tables
        # describe a record right after the engine priced it, without its timestamp
        self._last_off_peak = False
        self.routing_fee = sheet.prompt_fee
        if self._off_peak is not None:
            self._off_peak.routing_fee = sheet.prompt_fee

    def rates_for(self, prompt_tokens: int) -> Rates:
        if self._last_off_peak and self._off_peak is not None:
            return self._off_peak.rates_for(prompt_tokens)
        return super().rates_for(prompt_tokens)

    def price_record(self, r: Any) -> Cost | None:
        return self(r.prompt_tokens, r.completion_tokens, r.cache_read_tokens, r.cache_write_tokens,
                    r.cache_write_1h_tokens, r.reasoning_tokens, r.audio_input_tokens, r.audio_output_tokens,
                    r.image_input_tokens, r.duration_s, r.batch, r.timestamp, r.extras, r.band_prompt_tokens)

    def measure(self, rec: Any) -> Measured | None:
        if rec.batch or self.per_second is not None:
            return super().measure(rec)
        prompt, completion, formula = rec.prompt_tokens, rec.completion_tokens, self.sheet.formula
        if formula == "zero":
            return self._special_band("zero", ()), (0,) * N_SLOTS
        if formula == "replicate_gpu":
            if rec.duration_s is None:
                return None
            return self._special_band("gpu", ()), _in_slot(_DURATION_SLOT, seconds(rec.duration_s), 0)
        if formula == "vertex_128k":
            in_rate, in_key, out_rate, out_key = self._vertex_128k_rates(prompt, completion)
            band = self._special_band((in_key, out_key), (in_rate * self.sheet.uplift, out_rate * self.sheet.uplift))
            return band, (prompt, 0, 0, 0, 0, 0, completion, 0, 0, 0, 0)
        cache_write_1h, reasoning, audio_in, audio_out, image_in = self._counts(
            rec.cache_write_1h_tokens, rec.reasoning_tokens, rec.audio_input_tokens, rec.audio_output_tokens,
            rec.image_input_tokens)
        rates = None
        if self._off_peak is not None:
            import time

            self._last_off_peak = is_off_peak(self.off_peak_block,
                                              time.time() if rec.timestamp is None else rec.timestamp)
            if self._last_off_peak:
                sized = prompt if rec.band_prompt_tokens is None else rec.band_prompt_tokens
                rates = self._off_peak.rates_for(sized)
        return self._measure(prompt, completion, rec.cache_read_tokens, rec.cache_write_tokens, cache_write_1h,
                             reasoning, audio_in, audio_out, image_in, rec.duration_s, False, rates, rec.extras,
                             rec.band_prompt_tokens)

    def _special_band(self, key: Any, rates: tuple[float, ...]) -> Band:
        """Bands of the formulas that are not one rate set (zero, GPU time, Vertex's 128k rule), by ``key``."""
        found = self._exact.get(key)
        if found is None:
            a = self.adjust
            if key == "gpu":  # GPU time is returned before discount and margin
                band = Band(_in_slot(_DURATION_SLOT, REPLICATE_GPU_PRICE_PER_SECOND, 0.0), adjusts=False)
            elif key == "zero":
                band = Band((0.0,) * N_SLOTS, a.discount, a.margin_pct, a.margin_fixed)
            else:
                in_rate, out_rate = rates
                band = Band((in_rate, 0.0, 0.0, 0.0, 0.0, 0.0, out_rate, 0.0, 0.0, 0.0, 0.0), a.discount,
                            a.margin_pct, a.margin_fixed, keys={"input": key[0], "output": key[1]})
            found = self._exact[key] = (None, band)
        return found[1]

    def _counts(self, cache_write_1h: int, reasoning: int, audio_in: int, audio_out: int,
                image_in: int) -> tuple[int, int, int, int, int]:
        if self._xai:
            return cache_write_1h, 0, audio_in, 0, image_in
        if self._text_only:
            return 0, reasoning, 0, 0, 0
        return cache_write_1h, reasoning, audio_in, audio_out, image_in

    def _special(self, prompt: int, completion: int, duration_s: float | None) -> Cost | bool | None:
        """The formulas that are not one rate set over the token counts: their cost (None: no duration for GPU
        time), or False when the rate-set path applies."""
        formula = self.sheet.formula
        if formula == "zero":
            total = self.adjust(0.0) if self._adjusting else 0.0
            return Cost(0.0, 0.0, 0.0, 0.0, 0.0, total, total)  # a discount of $0 is $0: all margin
        if formula == "replicate_gpu":
            if duration_s is None:
                return None
            gpu = REPLICATE_GPU_PRICE_PER_SECOND * ((duration_s * 1000.0) / 1000)
            return Cost(gpu, 0.0, 0.0, 0.0, 0.0, 0.0, gpu)
        if formula != "vertex_128k":
            return False
        in_rate, _, out_rate, _ = self._vertex_128k_rates(prompt, completion)
        uplift = self.sheet.uplift
        uncached, out = prompt * in_rate * uplift, completion * out_rate * uplift
        base = uncached + out
        if not self._adjusting:
            return Cost(uncached, 0.0, 0.0, out, 0.0, 0.0, base)
        total = self.adjust(base)
        return Cost(uncached, 0.0, 0.0, out, 0.0, total - base, total, 0.0, self.adjust.discount_of(base))

    def _vertex_128k_rates(self, prompt: int, completion: int) -> tuple[float, str, float, str]:
        """llms/vertex_ai/cost_calculator._handle_128k_pricing: every prompt token at the input rate of the prompt's
        band, every completion token at the output rate of the completion's band (> 128k, either side)."""
        rates = self.sheet.rates
        in_key = "input_cost_per_token_above_128k_tokens"
        out_key = "output_cost_per_token_above_128k_tokens"
        if prompt <= _VERTEX_128K or rates.get(in_key) is None:
            in_key = "input_cost_per_token"
        if completion <= _VERTEX_128K or rates.get(out_key) is None:
            out_key = "output_cost_per_token"
        return _plain_rate(rates.get(in_key)), in_key, _plain_rate(rates.get(out_key)), out_key

    def __call__(self, prompt: int, completion: int, cache_read: int = 0, cache_write: int = 0,
                 cache_write_1h: int = 0, reasoning: int = 0, audio_in: int = 0, audio_out: int = 0,
                 image_in: int = 0, duration_s: float | None = None, batch: bool = False,
                 timestamp: float | None = None, extras: Any = None, band_prompt: int | None = None) -> Cost | None:
        if not batch and self.per_second is None:
            special = self._special(prompt, completion, duration_s)
            if special is not False:
                return special  # type: ignore[return-value]
            cache_write_1h, reasoning, audio_in, audio_out, image_in = self._counts(
                cache_write_1h, reasoning, audio_in, audio_out, image_in)
            if self._off_peak is not None:
                import time

                self._last_off_peak = is_off_peak(self.off_peak_block,
                                                  time.time() if timestamp is None else timestamp)
        price = self._off_peak if self._last_off_peak and self._off_peak is not None and not batch \
            else super().__call__
        cost = price(prompt, completion, cache_read, cache_write, cache_write_1h, reasoning, audio_in, audio_out,
                     image_in, duration_s, batch, extras=extras, band_prompt=band_prompt)
        fee = self.sheet.prompt_fee
        if fee and cost is not None and not batch and self.per_second is None:
            # the routing fee is part of the prompt cost, before discount and margin
            base = cost.total - cost.adjustment + prompt * fee
            total = self.adjust(base) if self._adjusting else base
            cost = cost._replace(input=cost.input + prompt * fee, adjustment=total - base, total=total,
                                 discount=self.adjust.discount_of(base) if self._adjusting else 0.0)
        return cost

    def explain(self, prompt: int, completion: int, cache_read: int = 0, cache_write: int = 0,
                cache_write_1h: int = 0, reasoning: int = 0, audio_in: int = 0, audio_out: int = 0,
                image_in: int = 0, duration_s: float | None = None, batch: bool = False,
                extras: Any = None, band_prompt: int | None = None) -> list[Charge]:
        """As Pricer.explain, with this formula's counts; off-peak or not as the record priced last (the caller
        explains a record right after pricing it and passes no timestamp)."""
        if batch or self.per_second is not None:
            return super().explain(prompt, completion, cache_read, cache_write, cache_write_1h, reasoning,
                                   audio_in, audio_out, image_in, duration_s, batch, band_prompt=band_prompt)
        sources = self.sheet.sources
        formula = self.sheet.formula
        if formula == "replicate_gpu":
            if duration_s is None:
                return []
            return [Charge("GPU time (s)", duration_s, REPLICATE_GPU_PRICE_PER_SECOND,
                           "DEFAULT_REPLICATE_GPU_PRICE_PER_SECOND", "litellm constant",
                           duration_s * REPLICATE_GPU_PRICE_PER_SECOND)]
        if formula == "zero":
            return [Charge("input", prompt, 0.0, f"none: {self.sheet.provider} has no token price", "", 0.0),
                    Charge("output", completion, 0.0, f"none: {self.sheet.provider} has no token price", "", 0.0)]
        if formula == "vertex_128k":
            in_rate, in_key, out_rate, out_key = self._vertex_128k_rates(prompt, completion)
            u = self.sheet.uplift
            return [Charge("input (all prompt tokens)", prompt, in_rate * u, in_key, sources.get(in_key, ""),
                           prompt * in_rate * u),
                    Charge("output", completion, out_rate * u, out_key, sources.get(out_key, ""),
                           completion * out_rate * u)]
        cache_write_1h, reasoning, audio_in, audio_out, image_in = self._counts(
            cache_write_1h, reasoning, audio_in, audio_out, image_in)
        charges = super().explain(prompt, completion, cache_read, cache_write, cache_write_1h, reasoning, audio_in,
                                  audio_out, image_in, duration_s, batch, extras, band_prompt)
        if self.sheet.prompt_fee:
            fee = self.sheet.prompt_fee
            charges.append(Charge("model router fee", prompt, fee, "model_router input_cost_per_token", "cost_map",
                                  prompt * fee))
        return charges


def make_pricer(sheet: PriceSheet, service_tier: str | None = None, adjuster: Adjuster = NO_ADJUSTMENT) -> Pricer:
    """The pricer for ``sheet``: the plain (hot-path) Pricer unless the card needs a FormulaPricer."""
    special = sheet.formula in ("xai", "perplexity", "dashscope", "vertex_128k", "zero", "replicate_gpu") \
        or isinstance(sheet.rates.get("off_peak_pricing"), dict) or sheet.prompt_fee
    if special and not sheet.per_second:
        return FormulaPricer(sheet, service_tier, adjuster)
    return Pricer(sheet, service_tier, adjuster)


@dataclass(frozen=True, slots=True)
class Charge:
    """One line of a cost's arithmetic: ``units × rate = cost``, with the rate's key and source."""

    part: str
    units: float
    rate: float
    key: str
    source: str
    cost: float


def split_input(prompt: int, cache_read: int, cache_write: int, audio_in: int, image_in: int) -> tuple[int, int, int]:
    """(uncached text, audio, image) input tokens, clamped the way LiteLLM clamps them (PRICING.md §2.3)."""
    if (cache_read or cache_write) and cache_read + cache_write + audio_in + image_in > prompt:
        budget = max(prompt - cache_read - cache_write, 0)
        audio_in = min(audio_in, budget)
        image_in = min(image_in, budget - audio_in)
        return budget - audio_in - image_in, audio_in, image_in
    return max(prompt - cache_read - audio_in - cache_write - image_in, 0), audio_in, image_in
