"""What LiteLLM 1.110.2's cost calculator does beyond the generic formula, each rule worked by hand on a small
cost map (tests/test_differential.py checks the same rules against LiteLLM itself): which provider function
prices a call, regional uplifts, off-peak windows, how the proxy routes and names a call, and the special cases
of completion_cost (replicate GPU time, together_ai size classes, the Azure AI Model Router fee)."""

from __future__ import annotations

import pytest

from costcalc.engines.streaming import NotPriced
from costcalc.pricing.formulas import is_off_peak

from .conftest import engine_for, make_map, record

MON_0930 = 1796031000  # Monday 2026-11-30 09:30 UTC
MON_1030 = 1796034600  # Monday 10:30 UTC
MON_2300 = 1796079600  # Monday 23:00 UTC
SAT_1200 = 1795867200  # Saturday 2026-11-28 12:00 UTC
SUN_2000 = 1795982400  # Sunday 2026-11-29 20:00 UTC = Monday 04:00 in Asia/Shanghai


def total(engine, model: str, **counts) -> float:
    outcome = engine.price(record(model, **counts))
    assert not isinstance(outcome, NotPriced), outcome.reason
    return outcome.cost.total


def config(*deployments: str, settings: str = "") -> str:
    return "model_list:\n" + "".join(f"  - {d}\n" for d in deployments) + settings


# -- off-peak windows --------------------------------------------------------------------------------------

def test_off_peak_windows():
    night = {"hours_utc": ["22:00-06:00"]}  # wraps past midnight; start included, end excluded
    assert is_off_peak(night, MON_2300) and is_off_peak(night, MON_2300 + 7 * 3600 - 60)
    assert not is_off_peak(night, MON_2300 + 7 * 3600) and not is_off_peak(night, MON_1030)
    assert is_off_peak({"hours_utc": "00:00-00:00"}, MON_1030)  # start == end: the whole day
    deepseek = {"windows": [{"hours_utc": ["00:00-01:00", "10:00-00:00"], "weekdays": [1, 2, 3, 4, 5]},
                            {"hours_utc": "00:00-00:00", "weekdays": ["sat", "sun"]}]}
    assert is_off_peak(deepseek, MON_1030) and is_off_peak(deepseek, SAT_1200)
    assert not is_off_peak(deepseek, MON_0930)
    # weekdays are read on the block's calendar: Sunday 20:00 UTC is Monday in Shanghai
    monday_evening = {"windows": [{"hours_utc": "19:00-21:00", "weekdays": [1]}]}
    assert not is_off_peak(monday_evening, SUN_2000)
    assert is_off_peak({**monday_evening, "weekday_timezone": "Asia/Shanghai"}, SUN_2000)


def test_off_peak_rates_replace_the_standard_ones_at_the_record_timestamp():
    cm = make_map({
        "deepseek/m": {"litellm_provider": "deepseek", "mode": "chat", "input_cost_per_token": 1e-6,
                       "output_cost_per_token": 2e-6, "cache_read_input_token_cost": 1e-7,
                       "input_cost_per_token_priority": 9e-6,
                       "off_peak_pricing": {"input_cost_per_token": 5e-7, "output_cost_per_token": 1e-6,
                                            "hours_utc": "22:00-06:00"}},
        "deepseek/n": {"litellm_provider": "deepseek", "mode": "chat", "input_cost_per_token": 1e-6,
                       "output_cost_per_token": 2e-6, "off_peak_pricing": {"input_cost_per_token": 5e-7,
                                                                           "hours_utc": "22:00-06:00"}},
    })
    e = engine_for(cm)
    counts = {"prompt_tokens": 1000, "cache_read_tokens": 200, "completion_tokens": 100}
    # off-peak: 800 x 5e-7 + 200 x 1e-7 (the block sets no cache price: the card's stays) + 100 x 1e-6
    assert total(e, "deepseek/m", timestamp=MON_2300, **counts) == pytest.approx(0.00052, rel=1e-12)
    # peak: 800 x 1e-6 + 200 x 1e-7 + 100 x 2e-6; deepseek's cost function passes no service tier
    assert total(e, "deepseek/m", timestamp=MON_1030, service_tier="priority", **counts) == \
        pytest.approx(0.00102, rel=1e-12)
    # a card without a cache price reads cached tokens at the OFF-PEAK input rate: 1000 x 5e-7 + 100 x 2e-6
    assert total(e, "deepseek/n", timestamp=MON_2300, **counts) == pytest.approx(0.0007, rel=1e-12)


# -- which provider function prices the call -------------------------------------------------------------

def test_perplexity_function():
    cm = make_map({"perplexity/x": {"litellm_provider": "perplexity", "mode": "chat", "input_cost_per_token": 1e-6,
                                    "output_cost_per_token": 2e-6, "cache_read_input_token_cost": 1e-7,
                                    "output_cost_per_reasoning_token": 5e-6,
                                    "input_cost_per_token_above_200k_tokens": 9e-6}})
    # (P - cached) at input, cache writes included and no long-context tier: 200000 x 1e-6 + 100000 x 1e-7;
    # output: 600 x 2e-6 + 400 reasoning x 5e-6
    got = total(engine_for(cm), "perplexity/x", prompt_tokens=300_000, cache_read_tokens=100_000,
                cache_write_tokens=50_000, completion_tokens=1000, reasoning_tokens=400)
    assert got == pytest.approx(0.2 + 0.01 + 0.0012 + 0.002, rel=1e-12)


def test_dashscope_function():
    cm = make_map({
        "dashscope/q": {"litellm_provider": "dashscope", "mode": "chat", "input_cost_per_token": 1e-6,
                        "output_cost_per_token": 2e-6, "input_cost_per_token_above_128k_tokens": 5e-6,
                        "input_cost_per_audio_token": 9e-6},
        "dashscope/t": {"litellm_provider": "dashscope", "mode": "chat", "output_cost_per_token": 2e-6,
                        "tiered_pricing": [{"range": [0, 1000], "input_cost_per_token": 1e-6},
                                           {"range": [1000, 10000], "output_cost_per_token": 4e-6}]},
    })
    e = engine_for(cm)
    # no _above_Nk keys, modalities or reasoning rate: 200000 x 1e-6 + (800 + 200 reasoning) x 2e-6
    assert total(e, "dashscope/q", prompt_tokens=200_000, audio_input_tokens=50_000, completion_tokens=1000,
                 reasoning_tokens=200) == pytest.approx(0.202, rel=1e-12)
    # a tier without an input price still applies (input 0); it declares output, so output is 4e-6
    assert total(e, "dashscope/t", prompt_tokens=2000, completion_tokens=100) == pytest.approx(4e-4, rel=1e-12)


def test_xai_function_bills_reasoning_and_audio_as_output():
    cm = make_map({"xai/g": {"litellm_provider": "xai", "mode": "chat", "input_cost_per_token": 1e-6,
                             "output_cost_per_token": 2e-6, "output_cost_per_reasoning_token": 9e-6,
                             "output_cost_per_audio_token": 7e-6, "input_cost_per_token_priority": 5e-6}})
    # 1000 x 1e-6 + 500 x 2e-6: no reasoning or audio rate, no service tier
    assert total(engine_for(cm), "xai/g", prompt_tokens=1000, completion_tokens=500, reasoning_tokens=200,
                 audio_output_tokens=100, service_tier="priority") == pytest.approx(0.002, rel=1e-12)


def test_other_providers_need_a_positive_token_price(tmp_path):
    cm = make_map({"mistral/m": {"litellm_provider": "mistral", "mode": "chat", "input_cost_per_token": 1e-6,
                                 "output_cost_per_token": 2e-6}})
    text = config("model_name: m\n    litellm_params: {model: mistral/m}\n"
                  "    model_info: {cache_read_input_token_cost: 1.0e-6, input_cost_per_token_priority: 1.0e-5}",
                  settings="litellm_settings:\n  cost_margin_config: {global: {fixed_amount: 0.01}}\n")
    # the deployment's card has no input or output price: mistral's calls cost nothing, plus the fixed margin
    assert total(engine_for(cm, tmp_path, text), "m", prompt_tokens=1000, completion_tokens=100) == \
        pytest.approx(0.01, rel=1e-12)


def test_vertex_128k_rule(tmp_path):
    cm = make_map({"vertex_ai/gemini-z": {"litellm_provider": "vertex_ai-language-models", "mode": "chat",
                                          "input_cost_per_token": 1e-7, "output_cost_per_token": 1e-7}})
    text = config("model_name: v\n    litellm_params: {model: vertex_ai/gemini-z}\n"
                  "    model_info: {input_cost_per_token: 1.0e-6, output_cost_per_token: 2.0e-6,"
                  " input_cost_per_token_above_128k_tokens: 3.0e-6}")
    # every prompt token, cached ones included, at the above-128k rate; output by the completion's own size
    assert total(engine_for(cm, tmp_path, text), "v", prompt_tokens=130_000, cache_read_tokens=30_000,
                 completion_tokens=1000) == pytest.approx(0.39 + 0.002, rel=1e-12)


# -- regional uplifts --------------------------------------------------------------------------------------

VERTEX = {"vertex_ai/claude-x": {"litellm_provider": "vertex_ai-anthropic_models", "mode": "chat",
                                 "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
                                 "regional_endpoint_uplift_multiplier": 1.1}}


def test_vertex_regional_endpoint_uplift(tmp_path):
    text = config("model_name: g\n    litellm_params: {model: vertex_ai/claude-x, vertex_location: global}",
                  "model_name: r\n    litellm_params: {model: vertex_ai/claude-x, vertex_location: us-east5}")
    e = engine_for(make_map(VERTEX), tmp_path, text)
    counts = {"prompt_tokens": 1000, "completion_tokens": 100}
    # no location configured: LiteLLM's default us-central1 is regional, so +10% on (0.001 + 0.0002)
    assert total(engine_for(make_map(VERTEX)), "vertex_ai/claude-x", **counts) == pytest.approx(0.00132, rel=1e-12)
    assert total(e, "r", **counts) == pytest.approx(0.00132, rel=1e-12)
    assert total(e, "g", **counts) == pytest.approx(0.0012, rel=1e-12)


def test_openai_data_residency_from_api_base(tmp_path):
    cm = make_map({"gpt-z": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-6,
                             "output_cost_per_token": 0.0, "regional_processing_uplift_multiplier_eu": 1.1}})
    text = config("model_name: eu\n    litellm_params: {model: openai/gpt-z, api_base: 'https://eu.api.openai.com/v1'}",
                  "model_name: world\n    litellm_params: {model: openai/gpt-z, api_base: 'https://api.openai.com/v1'}")
    e = engine_for(cm, tmp_path, text)
    assert total(e, "eu", prompt_tokens=1000) == pytest.approx(0.0011, rel=1e-12)
    assert total(e, "world", prompt_tokens=1000) == pytest.approx(0.001, rel=1e-12)


# -- names ---------------------------------------------------------------------------------------------------

def test_a_bare_name_is_looked_up_under_its_provider():
    cm = make_map({
        "gemini-x": {"litellm_provider": "vertex_ai-language-models", "mode": "chat", "input_cost_per_token": 1e-6},
        "vertex_ai/gemini-x": {"litellm_provider": "vertex_ai-language-models", "mode": "chat",
                               "input_cost_per_token": 2e-6},
    })
    # completion_cost looks gemini-x up under vertex_ai, whose "vertex_ai/gemini-x" row comes first
    assert total(engine_for(cm), "gemini-x", prompt_tokens=1000) == pytest.approx(0.002, rel=1e-12)


def test_bedrock_mantle_region_comes_from_the_deployment(tmp_path):
    cm = make_map({
        "acme.m": {"litellm_provider": "bedrock_converse", "mode": "chat", "input_cost_per_token": 1e-6},
        "bedrock_mantle/us-gov-west-1/acme.m": {"litellm_provider": "bedrock_mantle", "mode": "chat",
                                                "input_cost_per_token": 2e-6},
    })
    text = config("model_name: gov\n    litellm_params: {model: bedrock_mantle/acme.m, aws_region_name: us-gov-west-1}")
    e = engine_for(cm, tmp_path, text)
    # the region in the model string only routes; LiteLLM's default region (us-east-1) has no row of its own
    assert total(e, "bedrock_mantle/us-gov-west-1/acme.m", prompt_tokens=1000) == pytest.approx(0.001, rel=1e-12)
    assert total(e, "gov", prompt_tokens=1000) == pytest.approx(0.002, rel=1e-12)


def test_unroutable_name_with_request_prices_is_unpriced():
    e = engine_for(make_map({"gpt-z": {"litellm_provider": "openai", "input_cost_per_token": 1e-6}}))
    outcome = e.price(record("no-such-model", prompt_tokens=10, request_prices=(("input_cost_per_token", 1e-6),)))
    assert isinstance(outcome, NotPriced)  # LiteLLM cannot tell the provider: the call itself fails


def test_request_prices_drop_keys_model_info_does_not_declare():
    cm = make_map({"gpt-z": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-6,
                             "output_cost_per_token": 1e-6, "input_cost_per_token_above_32k_tokens": 5e-6}})
    e = engine_for(cm)
    # the map card keeps its undeclared above-32k rate: 40000 x 5e-6 ...
    assert total(e, "gpt-z", prompt_tokens=40_000) == pytest.approx(0.2, rel=1e-12)
    # ... the per-call card is validated as a ModelInfo, which drops it: 40000 x 1e-6 + 10 x 2e-6
    got = total(e, "gpt-z", prompt_tokens=40_000, completion_tokens=10,
                request_prices=(("output_cost_per_token", 2e-6),))
    assert got == pytest.approx(0.04002, rel=1e-12)


# -- deployments -------------------------------------------------------------------------------------------

def test_a_shared_deployment_id_routes_to_the_last_deployment(tmp_path):
    cm = make_map({"gpt-z": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-6}})
    text = config("model_name: a\n    litellm_params: {model: openai/gpt-z}",
                  "model_name: a\n    litellm_params: {model: openai/gpt-z}\n"
                  "    model_info: {input_cost_per_token: 1.0e-3, output_cost_per_token: 0}")
    # same model_name + litellm_params: one generated id, which the Router routes to the last of them
    assert total(engine_for(cm, tmp_path, text), "a", prompt_tokens=1000) == pytest.approx(1.0, rel=1e-12)


def test_base_model_priced_under_its_own_provider_and_margin_by_the_called_one(tmp_path):
    cm = make_map({"claude-y": {"litellm_provider": "anthropic", "mode": "chat", "input_cost_per_token": 1e-6,
                                "output_cost_per_token": 2e-6}})
    text = config("model_name: a\n    litellm_params: {model: azure/my-deployment}\n"
                  "    model_info: {base_model: claude-y}",
                  settings="litellm_settings:\n  cost_margin_config: {azure: 0.5, anthropic: 0.0}\n")
    # azure has no claude-y row, anthropic's prices it; the margin is azure's: (0.001 + 0.0002) x 1.5
    assert total(engine_for(cm, tmp_path, text), "a", prompt_tokens=1000, completion_tokens=100) == \
        pytest.approx(0.0018, rel=1e-12)


def test_fireworks_cache_reads_default_to_half_an_unset_input_price(tmp_path):
    cm = make_map({"fireworks_ai/m": {"litellm_provider": "fireworks_ai", "mode": "chat",
                                      "input_cost_per_token": 1e-6, "output_cost_per_token": 1e-6}})
    text = config("model_name: f\n    litellm_params: {model: fireworks_ai/m}\n"
                  "    model_info: {input_cost_per_token_above_128k_tokens: 2.5e-7}")
    # get_model_info reports the missing input price as 0, so cached tokens cost 0 x 0.5, not the tier's rate
    assert total(engine_for(cm, tmp_path, text), "f", prompt_tokens=256_000, cache_read_tokens=32_448) == \
        pytest.approx((256_000 - 32_448) * 2.5e-7, rel=1e-12)


# -- completion_cost's special cases ---------------------------------------------------------------------------

def test_replicate_gpu_time(tmp_path):
    cm = make_map({"replicate/acme/mapped": {"litellm_provider": "replicate", "mode": "chat",
                                             "input_cost_per_token": 1e-6}})
    text = config("model_name: r\n    litellm_params: {model: replicate/acme/mapped}\n"
                  "    model_info: {input_cost_per_token: 1.0e-3}",
                  settings="litellm_settings:\n  cost_margin_config: {global: 0.5}\n")
    e = engine_for(cm, tmp_path, text)
    # an unmapped replicate name, and any custom-priced replicate deployment ('replicate/<id>' is never a map
    # key), bill $0.0014 per second of the request, before (so without) the margin
    assert total(e, "replicate/acme/unmapped", prompt_tokens=1000, duration_s=2.0) == pytest.approx(0.0028)
    assert total(e, "r", prompt_tokens=1000, duration_s=2.0) == pytest.approx(0.0028)
    assert isinstance(e.price(record("r", prompt_tokens=1000)), NotPriced)  # no duration, nothing to multiply


def test_together_size_class():
    cm = make_map({"together-ai-41.1b-80b": {"litellm_provider": "together_ai", "mode": "chat",
                                             "input_cost_per_token": 9e-7, "output_cost_per_token": 9e-7}})
    # no together_ai/<name> row: the first "<N>b" in the name picks the class, 70 -> 41.1b-80b
    assert total(engine_for(cm), "together_ai/acme/llama-70b-chat", prompt_tokens=1000, completion_tokens=1000) \
        == pytest.approx(0.0018, rel=1e-12)


def test_azure_model_router_fee():
    cm = make_map({"azure_ai/model_router": {"litellm_provider": "azure_ai", "mode": "chat",
                                             "input_cost_per_token": 1.4e-7, "output_cost_per_token": 0}})
    # priced as the router row (dated name stripped) plus the router's fee on every prompt token: 2 x 1000 x 1.4e-7
    assert total(engine_for(cm), "azure_ai/model_router-2026-01-01", prompt_tokens=1000) == \
        pytest.approx(2.8e-4, rel=1e-12)


# -- batch output lines ---------------------------------------------------------------------------------------

def test_batch_lines_of_a_custom_priced_deployment(tmp_path):
    cm = make_map({"gpt-z": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 2e-6,
                             "output_cost_per_token": 8e-6, "input_cost_per_token_batches": 1e-6,
                             "output_cost_per_token_batches": 4e-6}})
    text = config("model_name: z\n    litellm_params: {model: openai/gpt-z, input_cost_per_token: 1.0e-5}",
                  "model_name: b\n    litellm_params: {model: azure/my-deployment}\n"
                  "    model_info: {base_model: gpt-z}")
    e = engine_for(cm, tmp_path, text)
    # chat: the custom input price, output 0 (the proxy does not fall back for the other side)
    assert total(e, "z", prompt_tokens=1000, completion_tokens=100) == pytest.approx(0.01, rel=1e-12)
    # batch: the side the deployment leaves unset takes the published output and output batch rates; the input
    # side has no batch rate, so LiteLLM halves the custom one: 1000 x 1e-5 / 2 + 100 x 4e-6
    assert total(e, "z", prompt_tokens=1000, completion_tokens=100, batch=True) == pytest.approx(0.0054, rel=1e-12)
    # batch lines are priced from the deployment model, never base_model: azure/my-deployment has no row
    assert total(e, "b", prompt_tokens=1000, completion_tokens=100) == pytest.approx(0.0028, rel=1e-12)
    assert isinstance(e.price(record("b", prompt_tokens=1000, completion_tokens=100, batch=True)), NotPriced)
