"""Exact money (pricing/exact.py): every record's measured units × exact rates agree with the float formula that
is held against LiteLLM (to float precision), and booking sums of units gives the sum of the per-record amounts
to the last digit.

Hand-worked cases first, then every generated corpus of the differential suite through the same check.
"""

from __future__ import annotations

import random
from decimal import Decimal, localcontext
from pathlib import Path

import pytest

from costcalc.engines.streaming import Priced, PricingEngine
from costcalc.pricing.exact import N_SLOTS, SLOTS, Band, Spend, exact_rate
from costcalc.rates.config import load_config
from costcalc.rates.costmap import load_cost_map
from costcalc.reading.records import canonical
from tests.conftest import write_config
from tests.test_differential import (
    ADJUSTED_CONFIG,
    ADJUSTED_MODELS,
    CUSTOM_MODELS,
    CUSTOM_PRICING_CONFIG,
    PROVIDER_RULES_CONFIG,
    PROVIDER_RULES_MODELS,
    SDK_MODELS,
    SDK_RULES_MODELS,
    _timed,
    generate,
)


def test_rates_are_their_shortest_decimal_quantized_to_18_places():
    assert exact_rate(2.5e-06) == Decimal("0.0000025")
    assert exact_rate(0.1) == Decimal("0.1")  # not 0.1000000000000000055511151231257827...
    # float noise below 1e-18 $/token goes; the value does not
    assert exact_rate(2.0000000000000002e-07) == Decimal("0.000000200000000000")
    assert exact_rate(1.234567890123456789e-18) == Decimal("0.000000000000000001")


def test_a_band_books_parts_discount_and_margin_exactly():
    # rates $/token: input 0.0000025, cache read 0.00000025, output 0.00001; discount 5%, margin 10% + $0.001
    rates = [0.0] * len(SLOTS)
    rates[SLOTS.index("input")] = 2.5e-6
    rates[SLOTS.index("cache_read")] = 2.5e-7
    rates[SLOTS.index("output")] = 1e-5
    band = Band(rates, 0.05, 0.10, 0.001)
    units = [0] * len(SLOTS)
    units[SLOTS.index("input")] = 1200  # 1200 × 0.0000025 = 0.003
    units[SLOTS.index("cache_read")] = 800  # 800 × 0.00000025 = 0.0002
    units[SLOTS.index("output")] = 333  # 333 × 0.00001 = 0.00333
    m = band.money(2, units)  # two records
    assert m.part("input") == Decimal("0.003")
    assert m.part("cache_read") == Decimal("0.0002")
    assert m.part("output") == Decimal("0.00333")
    # base 0.00653; discount 0.00653 × 0.05 = 0.0003265; margin (0.00653 − 0.0003265) × 0.1 + 2 × 0.001
    assert m.discount == Decimal("0.0003265")
    # margin = 0.0062035 × 0.1 + 0.002 = 0.00062035 + 0.002 = 0.00262035
    assert m.margin == Decimal("0.00262035")
    # total = 0.00653 − 0.0003265 + 0.00262035 = 0.00882385
    assert m.total == Decimal("0.00882385")


def test_an_18_decimal_rate_and_a_large_bill_stay_exact():
    rates = [0.0] * len(SLOTS)
    # shortest repr 1.2345678901234568e-06: 22 places, booked at 18 (0.000001234567890123)
    rates[SLOTS.index("output")] = 1.23456789012345678e-06
    band = Band(rates, 0.123, 0.0375, 0.0)
    units = [0] * len(SLOTS)
    units[SLOTS.index("output")] = 9_007_199_254_740_991  # 2^53 − 1 tokens: a $11 billion line
    m = band.money(1, units)
    with localcontext(prec=80):
        base = Decimal("0.000001234567890123") * 9_007_199_254_740_991
        total = (base - base * Decimal("0.123")) * Decimal("1.0375")
    assert m.part("output") == base == Decimal("11119998979.843043263712131893")
    assert m.total == total


def _pairs(money, c):
    """(exact, float) per part: the report's parts (pricing.exact.PART_GROUPS, then discount, margin, total)
    against the float Cost LiteLLM's formula gives."""
    uncached, read, write_5m, write_1h, output, discount, margin, total = (v / 10**72 for v in money.report_units())
    return [(uncached, c.input), (read, c.cache_read), (write_5m + write_1h, c.cache_write),
            (output, c.output + c.reasoning), (discount + margin, c.adjustment), (total, c.total)]


def _corpora():
    rng = random.Random(20261129)
    yield "custom", CUSTOM_PRICING_CONFIG, [r for m in CUSTOM_MODELS for r in generate(rng, m, 30)]
    yield "adjusted", ADJUSTED_CONFIG, [r for m in ADJUSTED_MODELS for r in generate(rng, m, 40)]
    yield "bare", None, [r for m in SDK_MODELS for r in generate(rng, m, 25, prices=True)]
    yield "rules", PROVIDER_RULES_CONFIG, [
        r for m in PROVIDER_RULES_MODELS for r in _timed(rng, generate(rng, m, 12), batch=True)]
    yield "sdk-rules", None, [r for m in SDK_RULES_MODELS for r in _timed(rng, generate(rng, m, 12), batch=True)]


@pytest.mark.parametrize(("name", "config", "records"), list(_corpora()), ids=lambda v: v if isinstance(v, str) else "")
def test_measured_money_matches_the_float_formula_record_by_record(tmp_path, name, config, records):
    engine = PricingEngine(load_cost_map(), load_config(write_config(tmp_path, config)) if config else None)
    whole, priced = Spend(), 0
    per_record_total = Decimal(0)
    for i, raw in enumerate(records, 1):
        outcome = engine.price(canonical(dict(raw), "gen", i))
        if not isinstance(outcome, Priced):
            continue
        band, units = outcome.measured
        money = band.money(1, units)
        c = outcome.cost
        for got, want in _pairs(money, c):
            assert abs(got - want) <= 1e-12 * max(abs(c.total), 1e-9), (name, raw, got, want)
        whole.add(band, units)
        per_record_total += money.total
        priced += 1
    assert priced >= 50
    assert whole.money.total == per_record_total  # sums of units book the sum of the records, to the last digit


def test_every_log_shape_fixture_measures_to_its_float_cost():
    """The shapes with rarer parts (cached audio and image, image output, citations, searches, regional and
    fast-mode multipliers) are measured part by part like the rest."""
    from costcalc.reading.jsonl import expand_paths

    engine = PricingEngine(load_cost_map())
    priced = 0
    for outcome in engine.run(expand_paths([str(Path(__file__).parent / "data")])):
        if not isinstance(outcome, Priced):
            continue
        band, units = outcome.measured
        money, c = band.money(1, units), outcome.cost
        for got, want in _pairs(money, c):
            assert abs(got - want) <= 1e-12 * max(abs(c.total), 1e-9), (outcome.record, got, want)
        priced += 1
    assert priced >= 30


def test_one_records_texts_are_the_money_it_books():
    """Band.record_texts (the per-record export's shortcut) writes exactly Money.report_texts, for every mix of
    slots, rates with up to 18 places, discount, margin and fixed fee, with and without adjustments."""
    rng = random.Random(1)
    for _ in range(2000):
        rates = [rng.choice([0, 2.5e-6, 1.23456789012e-7, 3e-5, 0.0004, 1e-9, 7.5e-8]) for _ in range(N_SLOTS)]
        band = Band(rates, discount=rng.choice([0, 0.1, 0.0333]), margin_pct=rng.choice([0, 0.05, 0.125]),
                    margin_fixed=rng.choice([0, 0.001]), adjusts=rng.random() < 0.8)
        units = tuple(rng.choice([0, 0, 1, 17, 1000, 123456789, 10**15]) for _ in range(rng.randint(1, N_SLOTS)))
        assert band.record_texts(units) == band.money(1, units).report_texts()
    # by hand: 1000 tokens at $0.0000025 and a 5% margin: 0.0025, margin 0.000125, total 0.002625
    band = Band([2.5e-6], margin_pct=0.05)
    assert band.record_texts((1000,)) == ("0.0025", "0", "0", "0", "0", "0", "0.000125", "0.002625")
