"""LiteLLM's token clamps and prompt-size bands as SQL, for every engine that sums records in a database.

From eight token columns of a record (``p`` prompt, ``c`` completion, ``cr`` cache read, ``cw`` cache write,
``rea`` reasoning, ``ai`` / ``ao`` audio in and out, ``ii`` image in; 0 when absent) ``unit_ctes`` computes the
integer unit columns an engine sums per group (UNIT_COLUMNS), with the clamps of ``formulas.split_input`` and
of the output remainder, and the record's prompt-size bucket; ``units_for`` turns those sums into the exact-money
units of a rate card's formula (``ratecards.VARIANTS``). Plain SQL (CASE, GREATEST, LEAST): DuckDB and PostgreSQL
run it as written, and sqlglot carries it to other dialects.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

from ..pricing.formulas import parse_threshold
from ..reading.records import MAX_TOKENS
from .ratecards import CompiledKey
from .streaming import PricingEngine

# The sums the engines return per group: the generic formula's units, and what the other variants need.
UNIT_COLUMNS = ("text_g", "ai_g", "ii_g", "cr", "cw", "out_g", "ao", "rea", "p", "text_t", "out_t", "c")


def unit_ctes(source: str, breaks: list[int]) -> str:
    """Two CTEs, ``units_a`` and ``w``, over ``source`` (which has the eight token columns): ``w`` adds the
    unit columns and ``bucket``."""
    return f"""units_a AS (
  SELECT *, GREATEST(p - cr - cw, 0) AS budget, (cr > 0 OR cw > 0) AND cr + cw + ai + ii > p AS clamped
  FROM {source}
),
w AS (
  SELECT *,
    CASE WHEN clamped THEN LEAST(ai, budget) ELSE ai END AS ai_g,
    CASE WHEN clamped THEN LEAST(ii, budget - LEAST(ai, budget)) ELSE ii END AS ii_g,
    CASE WHEN clamped THEN budget - LEAST(ai, budget) - LEAST(ii, budget - LEAST(ai, budget))
         ELSE GREATEST(p - cr - ai - cw - ii, 0) END AS text_g,
    GREATEST(c - rea - ao, 0) AS out_g,
    budget AS text_t, GREATEST(c - rea, 0) AS out_t,
    {bucket_expr(breaks)} AS bucket
  FROM units_a
)"""


# A time group key's text, in the two dialects that key in SQL: (format function, format per unit).
_TIME_FORMATS = {
    "duckdb": ("strftime", {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d", "month": "%Y-%m", "week": "%Y-%m-%d"}),
    "postgres": ("to_char", {"hour": "YYYY-MM-DD HH24:00", "day": "YYYY-MM-DD", "month": "YYYY-MM",
                             "week": "YYYY-MM-DD"}),
}


def time_key(dialect: str, unit: str, tz: str, moment: str, missing: str) -> str:
    """SQL for a record's time group key (reports.aggregate's text: ``2026-11-02``, ``2026-11-02 09:00``,
    ``2026-11``, ``2026-11-02 (week)`` for the week starting that Monday) in time zone ``tz``, from ``moment``
    (the instant, as a timestamp with time zone); ``(none)`` where ``missing`` is NULL."""
    function, formats = _TIME_FORMATS[dialect]
    zone = "'" + tz.replace("'", "''") + "'"
    local = f"timezone({zone}, {moment})"
    if unit == "week":
        local = f"date_trunc('week', {local})"
    key = f"{function}({local}, '{formats[unit]}')" + (" || ' (week)'" if unit == "week" else "")
    return f"(CASE WHEN {missing} IS NULL THEN '(none)' ELSE {key} END)"


def bucket_expr(breaks: list[int]) -> str:
    if len(breaks) <= 1:
        return "0"
    whens = " ".join(f"WHEN p < {b} THEN {i}" for i, b in enumerate(breaks[1:]))
    return f"(CASE {whens} ELSE {len(breaks) - 1} END)"


def global_breaks(engine: PricingEngine) -> list[int]:
    """Every prompt size at which some rate card in the cost map or the config can change band: the buckets the
    query sums by. A card with a threshold outside this list is priced by the Python engine instead."""
    values: set[float] = set()

    def collect(card: Any) -> None:
        if not isinstance(card, dict):
            return
        for k in card:
            if "_above_" in k and "_tokens" in k:
                with contextlib.suppress(ValueError):
                    values.add(parse_threshold(k))
        tiers = card.get("tiered_pricing")
        if isinstance(tiers, list):
            for tier in tiers:
                rng = tier.get("range") if isinstance(tier, dict) else None
                if isinstance(rng, (list, tuple)):
                    values.update(float(x) for x in rng if isinstance(x, (int, float)) and not isinstance(x, bool))

    for entry in engine.cost_map.entries.values():
        collect(entry)
    for d in engine.config.deployments:
        collect(d.params_prices)
        collect(d.info_prices)
    points = {0, 1}
    for x in values:
        if math.isfinite(x):
            f = math.floor(x)
            points.update({f, f + 1, math.ceil(x)})
    return sorted(p for p in points if 0 <= p <= MAX_TOKENS)


def bucket_bands(key: CompiledKey, breaks: list[int]) -> list[int] | None:
    """Band number per bucket, or None when a band edge of this card falls inside a bucket."""
    out = []
    for i, lo in enumerate(breaks):
        hi = breaks[i + 1] - 1 if i + 1 < len(breaks) else MAX_TOKENS
        inside = [b for blo, bhi, b in key.bands if blo <= lo and hi <= bhi]
        if not inside:
            return None
        out.append(inside[0])
    return out


def units_for(variant: str, fee: bool, s: dict[str, int]) -> tuple[int, ...]:
    fee_units = s["p"] if fee else 0
    if variant == "xai":
        return (s["text_g"], s["ai_g"], s["ii_g"], s["cr"], s["cw"], 0, s["c"], 0, 0, fee_units, 0)
    if variant == "text_only":
        return (s["text_t"], 0, 0, s["cr"], s["cw"], 0, s["out_t"], 0, s["rea"], fee_units, 0)
    return (s["text_g"], s["ai_g"], s["ii_g"], s["cr"], s["cw"], 0, s["out_g"], s["ao"], s["rea"], fee_units, 0)


