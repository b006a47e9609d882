"""costcalc against LiteLLM 1.110.2's own proxy path, record by record, to 1e-9 relative.

Configs below cover the rules of PRICING.md §2–§7 (custom prices in model_info and litellm_params, partial,
cache-only and per-second overrides, base_model, tiers, service tiers, wildcards, shared names, discount and
margin, per-request prices); records are generated from a fixed seed around every threshold. The reference
is ``tests/litellm_oracle.py`` (a real Router, a mocked provider response with the exact usage, the cost the
proxy's spend tracker books). Where costcalc deliberately differs (SPEC §2.6: an unmapped deployment is
unpriced, not $0), the test asserts the difference explicitly.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

litellm = pytest.importorskip("litellm", reason="litellm==1.110.2 (the test extra) is not installed: "
                                                "the differential suite needs it as the reference")

from costcalc.engines.streaming import NotPriced, Priced, PricingEngine
from costcalc.rates.config import load_config
from costcalc.reading.records import canonical

from .conftest import write_config
from .litellm_oracle import ProxyOracle

SONNET = "anthropic/claude-sonnet-4-5-20250929"

CUSTOM_PRICING_CONFIG = """
model_list:
  - model_name: c-full
    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929}
    model_info: {input_cost_per_token: 1.0e-5, output_cost_per_token: 2.0e-5,
                 cache_creation_input_token_cost: 3.0e-5, cache_read_input_token_cost: 4.0e-6}
  - model_name: c-in-only
    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929, input_cost_per_token: 1.0e-5}
  - model_name: c-out-only
    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929}
    model_info: {output_cost_per_token: 1.0e-5}
  - model_name: c-cache-only
    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929, cache_read_input_token_cost: 1.0e-6}
  - model_name: c-persec
    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929}
    model_info: {input_cost_per_second: 0.01}
  - model_name: sm-persec
    litellm_params: {model: sagemaker/my-endpoint, input_cost_per_second: 0.00042, output_cost_per_second: 0.02}
  - model_name: both-sides
    litellm_params: {model: openai/gpt-4o, input_cost_per_token: 1.0e-6}
    model_info: {input_cost_per_token: 9.0e-6, output_cost_per_token: 2.0e-6}
  - model_name: gpt-over
    litellm_params: {model: openai/gpt-4o}
    model_info: {input_cost_per_token: "1e-6", output_cost_per_token: "2e-6"}
  - model_name: gpt54-over
    litellm_params: {model: openai/gpt-5.4, input_cost_per_token: 1.0e-6, output_cost_per_token: 2.0e-6}
  - model_name: azure-base
    litellm_params: {model: azure/my-deployment, api_key: os.environ/AZURE_API_KEY}
    model_info: {base_model: azure/gpt-4o}
  - model_name: azure-base-custom
    litellm_params: {model: azure/dep2}
    model_info: {base_model: azure/gpt-4o, input_cost_per_token: 1.0e-3}
  - model_name: tiered-custom
    litellm_params: {model: openai/gpt-4o}
    model_info:
      tiered_pricing:
        - {range: [0, 1000], input_cost_per_token: 1.0e-6, cache_read_input_token_cost: 1.0e-7}
        - {range: [1000, 100000], input_cost_per_token: 2.0e-6, output_cost_per_token: 3.0e-6,
           output_cost_per_reasoning_token: 5.0e-6}
  - model_name: above-info
    litellm_params: {model: openai/gpt-4o}
    model_info: {input_cost_per_token: 1.0e-6, output_cost_per_token: 2.0e-6,
                 input_cost_per_token_above_32k_tokens: 3.0e-6, output_cost_per_token_above_32k_tokens: 4.0e-6}
  - model_name: above-params
    litellm_params: {model: openai/gpt-4o, input_cost_per_token: 1.0e-6, output_cost_per_token: 2.0e-6,
                     input_cost_per_token_above_32k_tokens: 3.0e-6}
  - model_name: haiku-reasoning
    litellm_params: {model: anthropic/claude-haiku-4-5-20251001}
    model_info: {input_cost_per_token: 2.0e-6, output_cost_per_token: 6.0e-6, output_cost_per_reasoning_token: 9.0e-6,
                 cache_creation_input_token_cost_above_1hr: 7.0e-6}
  - model_name: shared
    litellm_params: {model: openai/gpt-4o-mini}
    model_info: {id: shared-a}
  - model_name: shared
    litellm_params: {model: openai/gpt-4o-mini}
    model_info: {id: shared-b, input_cost_per_token: 5.0e-7, output_cost_per_token: 1.5e-6}
  - model_name: gem
    litellm_params: {model: gemini/gemini-2.5-pro}
  - model_name: vtx
    litellm_params: {model: vertex_ai/gemini-2.5-pro}
  - model_name: qwen
    litellm_params: {model: dashscope/qwen-plus-2025-07-28}
  - model_name: grok
    litellm_params: {model: xai/grok-4.20}
  - model_name: bedrock-sonnet
    litellm_params: {model: bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0}
  - model_name: gpt54
    litellm_params: {model: openai/gpt-5.4}
  - model_name: audio
    litellm_params: {model: openai/gpt-4o-audio-preview-2024-12-17}
  - model_name: flash
    litellm_params: {model: gemini/gemini-2.5-flash}
"""

ADJUSTED_CONFIG = """
model_list:
  - model_name: sonnet
    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929}
  - model_name: sonnet-custom
    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929, input_cost_per_token: 2.0e-6,
                     output_cost_per_token: 1.0e-5}
  - model_name: mini
    litellm_params: {model: openai/gpt-4o-mini}
  - model_name: "openai/*"
    litellm_params: {model: "openai/*"}
litellm_settings:
  cost_discount_config: {anthropic: 0.1, "openai/gpt-4o*": 0.2}
  cost_margin_config: {global: {percentage: 0.1, fixed_amount: 0.001}, openai: 0.05}
"""

CUSTOM_MODELS = ["c-full", "c-in-only", "c-out-only", "c-cache-only", "c-persec", "sm-persec", "both-sides",
                 "gpt-over", "gpt54-over", "azure-base", "azure-base-custom", "tiered-custom", "above-info",
                 "above-params", "haiku-reasoning", "shared", "gem", "vtx", "qwen", "grok", "bedrock-sonnet",
                 "gpt54", "audio", "flash", "anthropic/claude-sonnet-4-5-20250929", "azure/dep2"]
ADJUSTED_MODELS = ["sonnet", "sonnet-custom", "mini", "openai/gpt-4o", "openai/o3", "gpt-4o"]
SDK_MODELS = ["gpt-4o", "openai/gpt-4o", "azure/gpt-4o", "gpt-4o-mini", "o3", "gpt-5.4", SONNET,
              "claude-haiku-4-5-20251001", "gemini-2.5-pro", "gemini/gemini-2.5-pro", "vertex_ai/gemini-2.5-pro",
              "gemini/gemini-2.5-flash", "dashscope/qwen-plus-2025-07-28", "xai/grok-4.20", "xai/grok-4.3",
              "bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0", "gpt-4o-audio-preview-2024-12-17",
              "deepseek/deepseek-chat"]

THRESHOLDS = [32_000, 128_000, 200_000, 256_000, 272_000]
PRICE_OVERRIDES = [{"input_cost_per_token": 1e-6}, {"output_cost_per_token": 3e-6},
                   {"input_cost_per_token": 2e-6, "output_cost_per_token": 4e-6, "cache_read_input_token_cost": 1e-7},
                   {"input_cost_per_second": 0.002}]


def generate(rng: random.Random, model: str, n: int, *, tiers: bool = True, prices: bool = False,
             allow_tier: bool = True) -> list[dict[str, Any]]:
    out = []
    for _ in range(n):
        if rng.random() < 0.25:
            prompt = rng.choice(THRESHOLDS) + rng.choice([-1, 0, 1, 5000])
        else:
            prompt = rng.randint(0, 4000)
        completion = rng.randint(0, 3000)
        rec: dict[str, Any] = {"model": model, "prompt_tokens": prompt, "completion_tokens": completion}
        if rng.random() < 0.5 and prompt:
            read = rng.randint(0, prompt)
            write = rng.randint(0, prompt - read)
            rec["cache_read_input_tokens"] = read
            rec["cache_creation_input_tokens"] = write
            if write and rng.random() < 0.4:
                rec["cache_creation_1h_input_tokens"] = rng.randint(0, write)
        if rng.random() < 0.3 and completion:
            rec["reasoning_tokens"] = rng.randint(0, completion)
        if rng.random() < 0.15 and prompt:
            rec["audio_input_tokens"] = rng.randint(0, prompt)
        if rng.random() < 0.1 and completion:
            rec["audio_output_tokens"] = rng.randint(0, completion - rec.get("reasoning_tokens", 0))
        if rng.random() < 0.1 and prompt:
            rec["image_input_tokens"] = rng.randint(0, prompt)
        if allow_tier and tiers and rng.random() < 0.2:
            rec["service_tier"] = rng.choice(["priority", "flex", "fast", "default"])
        if rng.random() < 0.5:
            rec["duration_s"] = rng.choice([0.0, 0.25, 1.5, 2.0, 12.75])
        if prices and rng.random() < 0.3:
            rec.update(rng.choice(PRICE_OVERRIDES))
        out.append(rec)
    return out


def _no_tier(model: str) -> bool:
    # Anthropic refuses priority/flex unless drop_params is set: LiteLLM raises, nothing to compare.
    return "sonnet" in model or "haiku" in model or model.startswith("c-")


def compare(config_text: str | None, records: list[dict[str, Any]], tmp_path) -> tuple[int, list[str]]:
    model_list, settings = [], None
    engine_config = None
    if config_text is not None:
        import yaml

        doc = yaml.safe_load(config_text)
        model_list, settings = doc["model_list"], doc.get("litellm_settings")
        engine_config = load_config(write_config(tmp_path, config_text))
    from costcalc.rates.costmap import load_cost_map

    engine = PricingEngine(load_cost_map(), engine_config)
    oracle = ProxyOracle(model_list or None, settings)
    compared, problems = 0, []
    for i, raw in enumerate(records):
        rec = dict(raw)
        if rec.get("duration_s") is None:
            rec["duration_s"] = 0.0  # the oracle's clock: a record without a duration is 0 ms there
        expected = oracle.price(rec)
        outcome = engine.price(canonical(dict(rec), "gen", i + 1))
        if expected.cost is None:
            if "UnsupportedParamsError" in str(expected.error):
                continue  # the provider refuses the request (e.g. a service tier): LiteLLM has no price
            if isinstance(outcome, Priced):
                problems.append(f"{raw}: LiteLLM raised ({expected.error}) but costcalc priced {outcome.cost.total}")
            continue
        if isinstance(outcome, NotPriced):
            if expected.cost == 0.0:
                continue  # SPEC §2.6: unmapped deployments are unpriced here, $0 in a LiteLLM Router
            problems.append(f"{raw}: costcalc unpriced ({outcome.reason}); LiteLLM {expected.cost!r}")
            continue
        got = outcome.cost.total
        compared += 1
        if abs(got - expected.cost) > 1e-9 * max(abs(expected.cost), 1e-12) and abs(got - expected.cost) > 1e-18:
            problems.append(f"{raw}: costcalc {got!r} LiteLLM {expected.cost!r} ({outcome.sheet.rule})")
    if problems:
        problems = [p.replace("\n", " ")[:400] for p in problems]
    return compared, problems


def _assert_clean(compared: int, problems: list[str], minimum: int) -> None:
    assert not problems, f"{len(problems)} disagreements, first ones:\n" + "\n".join(problems[:15])
    assert compared >= minimum


def test_custom_pricing_config_matches_litellm(tmp_path):
    rng = random.Random(20261128)
    records = []
    for model in CUSTOM_MODELS:
        records += generate(rng, model, 30, allow_tier=not _no_tier(model))
    compared, problems = compare(CUSTOM_PRICING_CONFIG, records, tmp_path)
    _assert_clean(compared, problems, 650)


def test_discount_margin_and_wildcards_match_litellm(tmp_path):
    rng = random.Random(7)
    records = []
    for model in ADJUSTED_MODELS:
        records += generate(rng, model, 40, allow_tier=not _no_tier(model))
    compared, problems = compare(ADJUSTED_CONFIG, records, tmp_path)
    _assert_clean(compared, problems, 200)


def test_bare_map_models_and_request_prices_match_litellm(tmp_path):
    rng = random.Random(11)
    records = []
    for model in SDK_MODELS:
        records += generate(rng, model, 25, prices=True, allow_tier=not _no_tier(model))
    compared, problems = compare(None, records, tmp_path)
    _assert_clean(compared, problems, 400)


def test_unmapped_deployment_is_unpriced_where_litellm_books_zero(tmp_path):
    """SPEC §2.6, a deliberate deviation: LiteLLM's Router books an unmapped deployment at $0.0."""
    config = "model_list:\n  - model_name: mystery\n    litellm_params: {model: azure/my-deployment}\n"
    rec = {"model": "mystery", "prompt_tokens": 1000, "completion_tokens": 500, "duration_s": 0.0}
    import yaml

    assert ProxyOracle(yaml.safe_load(config)["model_list"]).cost(rec) == 0.0
    engine = PricingEngine(__import__("costcalc").load_cost_map(), load_config(write_config(tmp_path, config)))
    outcome = engine.price(canonical(dict(rec), "gen", 1))
    assert isinstance(outcome, NotPriced)
    assert "would book it at $0" in outcome.reason


# -- provider cost functions, regional uplifts, off-peak windows, routing and batch lines ----------------------------
# Found by a randomized differential fuzz against the oracle; each deployment below exercises one rule (see
# tests/test_provider_rules.py for the same rules worked by hand).

PROVIDER_RULES_CONFIG = """
model_list:
  - model_name: vtx-claude          # Vertex regional-endpoint uplift: no location is LiteLLM's us-central1
    litellm_params: {model: vertex_ai/claude-sonnet-4-5}
  - model_name: vtx-claude-global
    litellm_params: {model: vertex_ai/claude-sonnet-4-5, vertex_location: global}
  - model_name: gemini-bare         # a bare name is priced under its provider: the vertex_ai/ row comes first
    litellm_params: {model: gemini-3.5-flash-lite}
  - model_name: vtx-128k            # Vertex 128k rule on a custom card
    litellm_params: {model: vertex_ai/gemini-2.5-pro}
    model_info: {input_cost_per_token: 1.0e-6, output_cost_per_token: 2.0e-6,
                 input_cost_per_token_above_128k_tokens: 3.0e-6}
  - model_name: pplx                # perplexity's own function
    litellm_params: {model: perplexity/sonar-reasoning}
  - model_name: pplx-custom
    litellm_params: {model: perplexity/sonar, input_cost_per_token: 1.0e-6, output_cost_per_token: 2.0e-6}
    model_info: {output_cost_per_reasoning_token: 4.0e-6, cache_read_input_token_cost: 1.0e-7,
                 output_cost_per_token_above_200k_tokens: 9.0e-6}
  - model_name: qwen-custom         # dashscope's function: no thresholds, modalities or service tiers
    litellm_params: {model: dashscope/qwen-turbo-2025-04-28}
    model_info: {input_cost_per_token: 1.0e-6, output_cost_per_token: 2.0e-6,
                 input_cost_per_token_above_128k_tokens: 5.0e-6, input_cost_per_audio_token: 3.0e-6}
  - model_name: qwen-tiers
    litellm_params: {model: dashscope/qwen-plus-2025-07-28}
  - model_name: grok-custom         # xai's function: reasoning and audio output at the output rate, no tier
    litellm_params: {model: xai/grok-4.3}
    model_info: {input_cost_per_token: 1.0e-6, output_cost_per_token: 2.0e-6, output_cost_per_reasoning_token: 9.0e-6}
  - model_name: ds                  # off-peak windows of the map row, by the record's timestamp
    litellm_params: {model: deepseek/deepseek-v4-flash}
  - model_name: offpeak-custom      # a deployment's own off_peak_pricing
    litellm_params: {model: openai/gpt-4o}
    model_info: {input_cost_per_token: 2.0e-6, output_cost_per_token: 8.0e-6,
                 off_peak_pricing: {input_cost_per_token: 1.0e-6, hours_utc: "22:00-06:00"}}
  - model_name: fw-custom           # fireworks: cache reads at half an unset (0) input price, no service tier
    litellm_params: {model: fireworks_ai/accounts/fireworks/models/gpt-oss-120b}
    model_info: {input_cost_per_token_above_128k_tokens: 2.5e-7}
  - model_name: mistral-zero        # a provider without its own function needs a positive token price
    litellm_params: {model: mistral/mistral-large-latest}
    model_info: {cache_read_input_token_cost: 1.0e-6, input_cost_per_token_priority: 1.0e-5}
  - model_name: shared              # same name + params: one generated id, routed to the last of them
    litellm_params: {model: openai/gpt-4o-mini}
  - model_name: shared
    litellm_params: {model: openai/gpt-4o-mini}
    model_info: {input_cost_per_token: 1.0e-5, output_cost_per_token: 0}
  - model_name: base-own-provider   # base_model priced under its own provider; margin by the called one
    litellm_params: {model: azure/my-claude}
    model_info: {base_model: claude-sonnet-4-5-20250929}
  - model_name: mantle-gov          # Bedrock Mantle regional rows come from aws_region_name
    litellm_params: {model: bedrock_mantle/nvidia.nemotron-nano-3-30b, aws_region_name: us-gov-west-1}
  - model_name: mantle
    litellm_params: {model: bedrock_mantle/us-gov-west-1/nvidia.nemotron-nano-3-30b}
  - model_name: openai-eu           # OpenAI data residency from api_base
    litellm_params: {model: openai/gpt-6-sol, api_base: "https://eu.api.openai.com/v1"}
  - model_name: together-70b        # together_ai size class of an unmapped name
    litellm_params: {model: together_ai/meta-llama/Llama-3-70b-chat-hf-custom}
  - model_name: replicate-custom    # custom-priced replicate: GPU time, no margin
    litellm_params: {model: replicate/meta/llama-2-70b-chat}
    model_info: {output_cost_per_token: 6.0e-6}
  - model_name: router              # Azure AI Model Router fee on a custom card
    litellm_params: {model: azure_ai/model-router}
    model_info: {output_cost_per_audio_token: 6.0e-6}
  - model_name: batch-input-only    # batch lines: the published output side for the side left unset
    litellm_params: {model: openai/gpt-4o, input_cost_per_token: 1.0e-6}
  - model_name: batch-base          # batch lines: the deployment model, not base_model
    litellm_params: {model: openai/gpt-4o}
    model_info: {base_model: gpt-4o-mini}
litellm_settings:
  cost_margin_config: {azure: 0.5, openai: {percentage: 0.1}}
"""

PROVIDER_RULES_MODELS = ["vtx-claude", "vtx-claude-global", "gemini-bare", "vtx-128k", "pplx", "pplx-custom",
                         "qwen-custom", "qwen-tiers", "grok-custom", "ds", "offpeak-custom", "fw-custom",
                         "mistral-zero", "shared", "base-own-provider", "mantle-gov", "mantle", "openai-eu",
                         "together-70b", "replicate-custom", "router", "batch-input-only", "batch-base"]
SDK_RULES_MODELS = ["gemini-3.5-flash-lite", "vertex_ai/claude-opus-4-5", "perplexity/perplexity/sonar",
                    "deepseek/deepseek-v4-flash", "dashscope/qwen-plus-2025-07-28",
                    "together_ai/togethercomputer/CodeLlama-34b-Instruct",
                    "bedrock_mantle/us-gov-west-1/openai.gpt-oss-20b", "azure_ai/model_router-2026-01-01",
                    "replicate/meta/llama-77", "grok-4.3"]
# Monday 2026-11-30 09:30 (peak) and 10:30 (off-peak for deepseek), 23:00, Saturday noon; as epoch or ISO 8601
MOMENTS = [1796031000, 1796034600, "2026-11-30T23:00:00Z", "2026-11-28T12:00:00+00:00"]


def _timed(rng: random.Random, records: list[dict[str, Any]], *, batch: bool) -> list[dict[str, Any]]:
    for rec in records:
        rec["timestamp"] = rng.choice(MOMENTS)
        if "replicate" in rec["model"]:
            rec["duration_s"] = rng.choice([0.25, 1.5, 12.75])  # GPU time with no duration is LiteLLM's wall clock
        if batch and rng.random() < 0.2:
            rec["batch"] = True
    return records


def test_provider_rules_match_litellm(tmp_path):
    rng = random.Random(20261130)
    records = []
    for model in PROVIDER_RULES_MODELS:
        records += _timed(rng, generate(rng, model, 10, allow_tier="claude" not in model), batch=True)
    compared, problems = compare(PROVIDER_RULES_CONFIG, records, tmp_path)
    _assert_clean(compared, problems, 180)


def test_sdk_provider_rules_match_litellm(tmp_path):
    rng = random.Random(5)
    records = []
    for model in SDK_RULES_MODELS:
        records += _timed(rng, generate(rng, model, 10, prices=True, allow_tier="claude" not in model), batch=False)
    compared, problems = compare(None, records, tmp_path)
    _assert_clean(compared, problems, 60)
