"""The formulas (PRICING.md §2–§5), each worked by hand from the price table below."""

from __future__ import annotations

import pytest

from costcalc.pricing.formulas import Pricer, make_adjuster, parse_threshold
from costcalc.rates.sheets import PriceSheet

CHAT = {
    "input_cost_per_token": 2e-6,
    "output_cost_per_token": 8e-6,
    "cache_read_input_token_cost": 5e-7,
    "cache_creation_input_token_cost": 2.5e-6,
    "cache_creation_input_token_cost_above_1hr": 4e-6,
    "output_cost_per_reasoning_token": 1e-5,
    "input_cost_per_audio_token": 4e-5,
    "output_cost_per_audio_token": 8e-5,
    "input_cost_per_token_priority": 4e-6,
    "output_cost_per_token_priority": 1.6e-5,
    "input_cost_per_token_above_200k_tokens": 4e-6,
    "output_cost_per_token_above_200k_tokens": 1.2e-5,
    "cache_read_input_token_cost_above_200k_tokens": 1e-6,
}


def pricer(rates: dict, provider: str = "openai", tier: str | None = None, mode: str | None = "chat",
           adjuster=None) -> Pricer:
    sheet = PriceSheet(model="m", provider=provider, rates=rates, sources={}, rule="test", mode=mode)
    return Pricer(sheet, tier, adjuster) if adjuster else Pricer(sheet, tier)


def test_plain_input_and_output():
    # 1000 * 2e-6 + 500 * 8e-6 = 0.002 + 0.004
    assert pricer(CHAT)(1000, 500).total == pytest.approx(0.006, rel=1e-12)


def test_cache_read_and_write_are_inside_prompt_tokens():
    c = pricer(CHAT)(1000, 500, cache_read=400, cache_write=100)
    # uncached (1000-400-100)=500 * 2e-6 = 0.001; read 400 * 5e-7 = 0.0002; write 100 * 2.5e-6 = 0.00025
    assert c.input == pytest.approx(0.001)
    assert c.cache_read == pytest.approx(0.0002)
    assert c.cache_write == pytest.approx(0.00025)
    assert c.output == pytest.approx(0.004)
    assert c.total == pytest.approx(0.001 + 0.0002 + 0.00025 + 0.004, rel=1e-12)


def test_one_hour_cache_writes_use_their_own_rate():
    c = pricer(CHAT)(1000, 0, cache_write=300, cache_write_1h=200)
    # 5-minute 100 * 2.5e-6 = 0.00025; 1-hour 200 * 4e-6 = 0.0008; uncached 700 * 2e-6 = 0.0014
    assert c.cache_write == pytest.approx(0.00105)
    assert c.total == pytest.approx(0.00245, rel=1e-12)


def test_missing_cache_prices_fall_back_to_input_rate():
    rates = {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}
    # every prompt token at 1e-6 whatever its cache status: 1000 * 1e-6 + 10 * 2e-6
    assert pricer(rates)(1000, 10, cache_read=300, cache_write=200).total == pytest.approx(0.00102, rel=1e-12)


def test_explicit_zero_cache_price_stays_zero():
    rates = {"input_cost_per_token": 1e-6, "output_cost_per_token": 0.0, "cache_read_input_token_cost": 0.0}
    # 600 uncached * 1e-6; 400 cached free
    assert pricer(rates)(1000, 0, cache_read=400).total == pytest.approx(0.0006, rel=1e-12)


def test_reasoning_tokens_use_reasoning_rate_and_are_part_of_completion():
    c = pricer(CHAT)(100, 500, reasoning=200)
    # text out 300 * 8e-6 = 0.0024; reasoning 200 * 1e-5 = 0.002; input 100 * 2e-6 = 0.0002
    assert c.output == pytest.approx(0.0024)
    assert c.reasoning == pytest.approx(0.002)
    assert c.total == pytest.approx(0.0046, rel=1e-12)


def test_reasoning_without_its_own_rate_costs_like_output():
    rates = {"input_cost_per_token": 1e-6, "output_cost_per_token": 4e-6}
    # 500 * 4e-6 whether 200 of them are reasoning or not
    assert pricer(rates)(0, 500, reasoning=200).total == pytest.approx(0.002, rel=1e-12)


def test_audio_in_and_out():
    c = pricer(CHAT)(1500, 900, audio_in=1000, audio_out=700)
    # input: text 500 * 2e-6 = 0.001, audio 1000 * 4e-5 = 0.04; output: text 200 * 8e-6 = 0.0016, audio 700 * 8e-5
    assert c.total == pytest.approx(0.001 + 0.04 + 0.0016 + 0.056, rel=1e-12)


def test_context_tier_moves_the_whole_request_strictly_above_threshold():
    p = pricer(CHAT)
    # 200000 is not above 200k: base rates. 200000 * 2e-6 + 100 * 8e-6
    assert p(200_000, 100).total == pytest.approx(0.4 + 0.0008, rel=1e-12)
    # 200001: every token at the tier rates, cache reads too: 150001 * 4e-6 + 50000 * 1e-6 + 100 * 1.2e-5
    assert p(200_001, 100, cache_read=50_000).total == pytest.approx(0.600004 + 0.05 + 0.0012, rel=1e-12)


def test_xai_thresholds_are_inclusive():
    rates = {"input_cost_per_token": 2e-7, "output_cost_per_token": 5e-7,
             "input_cost_per_token_above_128k_tokens": 4e-7, "output_cost_per_token_above_128k_tokens": 1e-6}
    # at exactly 128000: xai bills the upper tier, everyone else the base
    assert pricer(rates, provider="xai")(128_000, 0).total == pytest.approx(128_000 * 4e-7, rel=1e-12)
    assert pricer(rates, provider="openai")(128_000, 0).total == pytest.approx(128_000 * 2e-7, rel=1e-12)


def test_highest_crossed_threshold_wins_and_missing_components_keep_lower_rate():
    rates = {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
             "input_cost_per_token_above_100k_tokens": 3e-6, "input_cost_per_token_above_200k_tokens": 5e-6,
             "output_cost_per_token_above_100k_tokens": 4e-6}
    # P=250000: input at the 200k rate 5e-6, output keeps the 100k rate 4e-6
    assert pricer(rates)(250_000, 1000).total == pytest.approx(1.25 + 0.004, rel=1e-12)


def test_priority_service_tier_uses_suffixed_rates_and_falls_back():
    p = pricer(CHAT, tier="priority")
    # input 1000 * 4e-6, output 500 * 1.6e-5; cache read has no _priority key → 5e-7
    assert p(1000, 500).total == pytest.approx(0.004 + 0.008, rel=1e-12)
    assert p(1000, 0, cache_read=1000).total == pytest.approx(1000 * 5e-7, rel=1e-12)
    # "fast" bills as priority; unknown tiers bill base rates
    assert pricer(CHAT, tier="fast")(1000, 0).total == pytest.approx(0.004, rel=1e-12)
    assert pricer(CHAT, tier="default")(1000, 0).total == pytest.approx(0.002, rel=1e-12)


def test_tiered_pricing_table():
    rates = {"tiered_pricing": [
        {"range": [0, 256000], "input_cost_per_token": 4e-7, "output_cost_per_token": 1.2e-6,
         "output_cost_per_reasoning_token": 4e-6},
        {"range": [256000, 1000000], "input_cost_per_token": 1.2e-6, "output_cost_per_token": 3.6e-6,
         "output_cost_per_reasoning_token": 1.2e-5},
    ]}
    p = pricer(rates, provider="dashscope")
    # 256000 stays in tier 1: 256000 * 4e-7 + 100 * 1.2e-6
    assert p(256_000, 100).total == pytest.approx(0.1024 + 0.00012, rel=1e-12)
    # 300000 in tier 2, reasoning at the tier's reasoning rate: 0.36 + 600 * 3.6e-6 + 400 * 1.2e-5
    assert p(300_000, 1000, reasoning=400).total == pytest.approx(0.36 + 0.00216 + 0.0048, rel=1e-12)
    # above every range → the last tier
    assert p(2_000_000, 0).total == pytest.approx(2.4, rel=1e-12)


def test_tier_without_output_uses_flat_output_and_cache_falls_back_to_tier_input():
    rates = {"output_cost_per_token": 1e-5,
             "tiered_pricing": [{"range": [0, 1000000], "input_cost_per_token": 1e-6}]}
    # 1000 prompt (300 cached at the tier input rate) * 1e-6 + 10 * 1e-5
    assert pricer(rates)(1000, 10, cache_read=300).total == pytest.approx(0.001 + 0.0001, rel=1e-12)


def test_per_second_is_charged_once_and_needs_a_duration():
    rates = {"input_cost_per_second": 0.01, "output_cost_per_second": 0.02}
    p = pricer(rates)
    # the first rate present (input) x 2 s; not input + output
    c = p(1000, 500, duration_s=2.0)
    assert c.total == pytest.approx(0.02, rel=1e-12)
    assert c.input == c.total  # booked as input, as LiteLLM does
    assert p(1000, 500) is None


def test_positive_token_price_beats_per_second_but_zero_does_not():
    assert pricer({"input_cost_per_token": 1e-6, "input_cost_per_second": 1.0})(1000, 0, duration_s=5).total \
        == pytest.approx(0.001)
    assert pricer({"input_cost_per_token": 0.0, "input_cost_per_second": 1.0})(1000, 0, duration_s=5).total \
        == pytest.approx(5.0)


def test_double_counted_modalities_are_clamped_into_the_uncached_budget():
    # cached 400 + audio 700 > prompt 1000: only 600 uncached tokens remain, all audio
    c = pricer(CHAT)(1000, 0, cache_read=400, audio_in=700)
    assert c.total == pytest.approx(400 * 5e-7 + 600 * 4e-5, rel=1e-12)


def test_discount_then_margin():
    adj = make_adjuster({"anthropic": 0.1}, {"global": {"percentage": 0.1, "fixed_amount": 0.001}},
                        "anthropic", "claude-x")
    c = pricer({"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}, provider="anthropic",
               adjuster=adj)(1000, 500)
    # base 0.002; discounted 0.0018; margin 0.0018 * 1.1 + 0.001 = 0.00298
    assert c.total == pytest.approx(0.00298, rel=1e-12)
    assert c.adjustment == pytest.approx(0.00098, rel=1e-9)


def test_discount_patterns_pick_most_specific():
    cfg = {"openai": 0.05, "openai/gpt-4o*": 0.2, "openai/gpt-4o-mini": 0.3}
    assert make_adjuster(cfg, {}, "openai", "gpt-4o-mini").discount == 0.3
    assert make_adjuster(cfg, {}, "openai", "gpt-4o-2024-08-06").discount == 0.2
    assert make_adjuster(cfg, {}, "openai", "o3").discount == 0.05
    assert make_adjuster(cfg, {"openai": 0.1, "global": 0.5}, "openai", "o3").margin_pct == 0.1
    assert make_adjuster({}, {"global": 0.5}, "anthropic", "x").margin_pct == 0.5


@pytest.mark.parametrize("key,value", [
    ("input_cost_per_token_above_272k_tokens", 272_000.0),
    ("input_cost_per_token_above_272_tokens", 272.0),
    ("cache_creation_input_token_cost_above_1hr_above_200k_tokens", 200_000.0),
    ("input_cost_per_token_above_128k_tokens_flex", 128_000.0),
])
def test_threshold_parsing(key, value):
    assert parse_threshold(key) == value
