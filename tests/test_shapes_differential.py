"""Log shapes and batch pricing against LiteLLM 1.110.2 itself, record by record, to 1e-9 relative.

Three references, each catching a different mistake:
- every fixture line's NORMALISED record, written back as a canonical record, priced by the proxy oracle
  (``tests/litellm_oracle.py``): costcalc prices what it normalised the way the proxy does;
- the raw provider body parsed by LiteLLM's OWN parsers (``AnthropicConfig.calculate_usage``, Gemini's
  ``_calculate_usage``, the Responses API usage transform, ``Usage(**usage)``, ``AmazonConverseConfig
  .transform_usage``, the Realtime ``response.done`` usage collector, the xAI, Perplexity and Cohere v2
  ``transform_response`` and Cohere's embed response; the batch path ``batch_cost_and_usage`` for batch output
  lines): the normalisation reads each convention as LiteLLM does, except where ``KNOWN_DIFFERENCES`` says
  by how much and why;
- batch records around every batch rule (``_batches`` keys and their tiers, the half-price fallback, the
  standard cache-read fallback, writes without a batch write rate, 1-hour writes, audio, custom-priced
  deployments) through the oracle's batch path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

litellm = pytest.importorskip("litellm", reason="litellm==1.110.2 (the test extra) is not installed: "
                                                "the differential suite needs it as the reference")

from costcalc.engines.streaming import Priced, PricingEngine
from costcalc.rates.config import load_config
from costcalc.rates.costmap import load_cost_map
from costcalc.reading.jsonl import read_usage
from costcalc.reading.records import UsageRecord, canonical

from .conftest import write_config
from .litellm_oracle import ProxyOracle
from .test_shapes import SPEND_LOG_CONFIG

DATA = Path(__file__).parent / "data"
PROVIDER_FILES = ["openai_chat.jsonl", "openai_responses.jsonl", "anthropic.jsonl", "gemini.jsonl",
                  "openai_batch.jsonl", "anthropic_batch.jsonl", "claude_code", "bedrock_converse.jsonl",
                  "cohere.jsonl", "openai_realtime.jsonl", "xai.jsonl", "perplexity.jsonl"]


BATCH_CONFIG = """
model_list:
  - model_name: batch-mini
    litellm_params: {model: openai/gpt-4o-mini}
  - model_name: batch-custom
    litellm_params: {model: openai/gpt-4o}
    model_info: {id: batch-custom-1, input_cost_per_token: 2.0e-6, output_cost_per_token: 8.0e-6}
"""


def close(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1e-300)


def as_canonical(r: UsageRecord) -> dict[str, Any]:
    """The canonical record a normalised UsageRecord stands for (what the oracle prices)."""
    out: dict[str, Any] = {"model": r.model, "prompt_tokens": r.prompt_tokens, "completion_tokens": r.completion_tokens}
    for key, value in (("cache_read_input_tokens", r.cache_read_tokens),
                       ("cache_creation_input_tokens", r.cache_write_tokens),
                       ("cache_creation_1h_input_tokens", r.cache_write_1h_tokens),
                       ("reasoning_tokens", r.reasoning_tokens), ("audio_input_tokens", r.audio_input_tokens),
                       ("audio_output_tokens", r.audio_output_tokens), ("image_input_tokens", r.image_input_tokens)):
        if value:
            out[key] = value
    x = r.extras
    if x is not None:
        for key in ("cache_read_audio_tokens", "cache_read_image_tokens", "image_output_tokens", "video_output_tokens",
                    "citation_tokens", "search_queries"):
            if getattr(x, key):
                out[key] = getattr(x, key)
        for key in ("inference_geo", "speed"):
            if getattr(x, key) is not None:
                out[key] = getattr(x, key)
    if r.model_id:
        out["model_id"] = r.model_id
    if r.service_tier:
        out["service_tier"] = r.service_tier
    if r.batch:
        out["batch"] = True
    return out


def records(paths: list[Path]) -> list[UsageRecord]:
    return [r for r in read_usage([str(p) for p in paths]) if isinstance(r, UsageRecord)]


PROVIDER_RECORDS = records([DATA / f for f in PROVIDER_FILES])


@pytest.fixture(scope="module")
def engine() -> PricingEngine:
    return PricingEngine(load_cost_map())


@pytest.fixture
def oracle() -> ProxyOracle:
    # one per test: conftest puts LiteLLM's global state back after every test
    # drop_params: Anthropic rejects service_tier "standard"/"priority" as a request parameter; the served tier
    # prices nothing different for the models used here
    return ProxyOracle(None, {"drop_params": True})


@pytest.mark.parametrize("r", PROVIDER_RECORDS, ids=lambda r: f"{r.shape}:{Path(r.file).name}:{r.line}")
def test_normalised_record_prices_as_the_proxy_does(r, engine, oracle):
    mine = engine.price(r)
    assert isinstance(mine, Priced), mine
    booked = oracle.price(as_canonical(r))
    assert close(mine.cost.total, booked.cost), (as_canonical(r), mine.cost, booked)


def test_spend_log_rows_price_as_the_proxy_does(tmp_path):
    config_path = write_config(tmp_path, SPEND_LOG_CONFIG)
    engine = PricingEngine(load_cost_map(), load_config(config_path))
    import yaml

    oracle = ProxyOracle(yaml.safe_load(SPEND_LOG_CONFIG)["model_list"])
    rows = [r for r in records([DATA / "litellm_spend_logs.jsonl"]) if r.call_type is None]
    assert len(rows) == 4  # and the image call, which the proxy prices per image (tests/test_shapes.py)
    for r in rows:
        mine = engine.price(r)
        assert isinstance(mine, Priced), mine
        booked = oracle.price(as_canonical(r))
        assert close(mine.cost.total, booked.cost), (as_canonical(r), mine.cost, booked)


# -- the raw bodies through LiteLLM's own parsers --------------------------------------------------------

class _NoLogging:
    """The logging object a provider's ``transform_response`` is handed (it only reports the raw response)."""

    def __init__(self) -> None:
        self.model_call_details: dict[str, Any] = {}

    def post_call(self, *args: Any, **kwargs: Any) -> None:
        pass


def transformed_usage(config: Any, body: dict[str, Any], model: str) -> Any:
    """The Usage LiteLLM's own ``transform_response`` for that provider makes of a raw response body."""
    import httpx
    from litellm.types.utils import ModelResponse

    body = {**body, "choices": body.get("choices") or [
        {"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": "stop"}]}
    raw = httpx.Response(200, json=body, request=httpx.Request("POST", "https://provider.invalid"))
    return config.transform_response(model=model, raw_response=raw, model_response=ModelResponse(),
                                     logging_obj=_NoLogging(), request_data={}, messages=[], optional_params={},
                                     litellm_params={}, encoding=None).usage


def _without_reported_cost(usage: dict[str, Any]) -> dict[str, Any]:
    """A usage without the provider's own cost: LiteLLM books a reported cost instead of pricing the tokens (xAI
    ``cost_in_usd_ticks``, Perplexity ``usage.cost``); costcalc prices the tokens and keeps it as recorded_cost."""
    return {k: v for k, v in usage.items() if k not in ("cost", "cost_in_usd_ticks")}


# xAI SDK (native) usage names -> the same call's usage on xAI's OpenAI-compatible API, which the proxy calls
_XAI_NATIVE = {"cached_prompt_text_tokens": ("prompt_tokens_details", "cached_tokens"),
               "reasoning_tokens": ("completion_tokens_details", "reasoning_tokens")}


def _openai_compatible_xai(usage: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in usage.items() if k not in _XAI_NATIVE}
    for native, (details, key) in _XAI_NATIVE.items():
        if native in usage:
            out[details] = {**(out.get(details) or {}), key: usage[native]}
    return out


def litellm_native_cost(r: UsageRecord) -> float | None:
    from litellm.cost_calculator import RealtimeAPITokenUsageProcessor
    from litellm.llms.anthropic.chat.transformation import AnthropicConfig
    from litellm.llms.bedrock.chat.converse_transformation import AmazonConverseConfig
    from litellm.llms.cohere.chat.v2_transformation import CohereV2ChatConfig
    from litellm.llms.cohere.embed.transformation import (
        CohereEmbeddingRowShape,
        CohereImageTokenBilling,
        cohere_embedding_response,
    )
    from litellm.llms.perplexity.chat.transformation import PerplexityChatConfig
    from litellm.llms.vertex_ai.gemini.vertex_and_google_ai_studio_gemini import VertexGeminiConfig
    from litellm.llms.xai.chat.transformation import XAIChatConfig
    from litellm.responses.utils import ResponseAPILoggingUtils
    from litellm.types.utils import ModelResponse, Usage

    raw = r.raw or {}
    if r.shape == "openai-chat" and r.model.startswith("xai/"):
        body = {**raw, "usage": _openai_compatible_xai(_without_reported_cost(raw["usage"]))}
        usage = transformed_usage(XAIChatConfig(), body, r.model)
    elif r.shape == "openai-chat" and r.model.startswith("perplexity/"):
        usage = transformed_usage(PerplexityChatConfig(), {**raw, "usage": _without_reported_cost(raw["usage"])},
                                  r.model)
    elif r.shape == "bedrock-converse":
        usage = AmazonConverseConfig().transform_usage((raw.get("metadata") or raw)["usage"])
    elif r.shape == "cohere" and "meta" in raw:
        usage = cohere_embedding_response(raw, r.model, None, [], CohereImageTokenBilling.SEPARATE_FROM_INPUT_TOKENS,
                                          CohereEmbeddingRowShape.OPENAI).usage
    elif r.shape == "cohere":
        usage = transformed_usage(CohereV2ChatConfig(), raw, r.model)
    elif r.shape == "openai-realtime":
        (usage,) = RealtimeAPITokenUsageProcessor.collect_usage_from_realtime_stream_results([raw])
    elif r.shape == "anthropic":
        usage = AnthropicConfig().calculate_usage(raw["usage"], None)
    elif r.shape == "claude-code":
        usage = AnthropicConfig().calculate_usage(raw["message"]["usage"], None)
    elif r.shape == "gemini":
        usage = VertexGeminiConfig._calculate_usage(raw)
        # transform_response then counts the grounding queries into prompt_tokens_details (web search charge)
        grounding = [c["groundingMetadata"] for c in raw.get("candidates") or () if c.get("groundingMetadata")]
        if grounding and usage.prompt_tokens_details is not None:
            VertexGeminiConfig.set_grounding_usage_counters(usage, grounding)
    elif r.shape == "openai-responses":
        usage = ResponseAPILoggingUtils.transform_response_api_usage_to_chat_usage(raw["usage"])
    elif r.shape == "openai-chat":
        usage = Usage(**raw["usage"])
    else:
        return None
    response = ModelResponse(model=r.model.split("/", 1)[-1], usage=usage)
    kwargs = {"service_tier": r.service_tier} if r.service_tier else {}
    return litellm.completion_cost(completion_response=response, model=r.model, **kwargs)


# Where costcalc and LiteLLM's own transformation knowingly part, and by how much (README, "Log shapes"):
# - Perplexity reports reasoning_tokens outside completion_tokens (its usage.cost bills both); LiteLLM's fallback
#   formula (used only without that usage.cost, which the proxy would otherwise book) subtracts the reasoning
#   from the completion and so drops the output tokens: sonar-deep-research output 8e-6 per token; the same
#   fallback estimates citation tokens from the citations list (80 characters // 4 = 20 here, not the reported
#   5000; citation 2e-6 per token);
# - a Cohere chat response with billed_units only: LiteLLM's v2 transformation reads usage.tokens alone (0 here).
KNOWN_DIFFERENCES = {
    ("perplexity.jsonl", 2): 498 * 8e-6,
    ("perplexity.jsonl", 3): 600 * 8e-6 + (5000 - 20) * 2e-6,
    ("cohere.jsonl", 2): 120 * 2.5e-6 + 5 * 1e-5,  # command-a-03-2025: in 2.5e-6, out 1e-5
}


@pytest.mark.parametrize("r", [r for r in PROVIDER_RECORDS if not r.batch],
                         ids=lambda r: f"{r.shape}:{Path(r.file).name}:{r.line}")
def test_normalisation_reads_each_convention_as_litellm_does(r, engine):
    mine, theirs = engine.price(r).cost.total, litellm_native_cost(r)
    difference = KNOWN_DIFFERENCES.get((Path(r.file).name, r.line))
    if difference is None:
        assert close(mine, theirs)
    else:
        assert close(mine - theirs, difference), (mine, theirs)


@pytest.mark.parametrize("r", [r for r in PROVIDER_RECORDS if r.batch],
                         ids=lambda r: f"{r.shape}:{r.line}")
def test_batch_output_lines_price_as_litellm_batch_cost_does(r, engine):
    from litellm.batches.batch_utils import batch_cost_and_usage

    provider = "anthropic" if r.shape == "anthropic-batch" else "openai"
    result = batch_cost_and_usage([r.raw], provider, None, None)
    assert close(engine.price(r).cost.total, result.cost)


# -- batch pricing rules -----------------------------------------------------------------------------------

BATCH_CASES = [
    # _batches keys: flat rates
    {"model": "gpt-4o-mini-2024-07-18", "prompt_tokens": 1200, "completion_tokens": 300},
    # no cache_read_input_token_cost_batches: cache reads at the STANDARD (not halved) cache-read rate
    {"model": "gpt-4o-2024-08-06", "prompt_tokens": 2048, "completion_tokens": 100, "cache_read_input_tokens": 1024},
    # no batch cache-write rate: writes are billed as input at the batch input rate
    {"model": "gpt-4o", "prompt_tokens": 5000, "completion_tokens": 10, "cache_creation_input_tokens": 1000},
    # batch input rate but no cache-read price at all: cached tokens bill as input
    {"model": "azure/gpt-4o-2024-05-13", "prompt_tokens": 3000, "completion_tokens": 50,
     "cache_read_input_tokens": 1000},
    # _above_Nk_tokens_batches tiers, both sides of the threshold
    {"model": "gemini/gemini-2.5-pro", "prompt_tokens": 250000, "completion_tokens": 2000,
     "cache_read_input_tokens": 10000, "reasoning_tokens": 1500},
    {"model": "gemini/gemini-2.5-pro", "prompt_tokens": 200000, "completion_tokens": 2000},
    {"model": "azure/gpt-5.4", "prompt_tokens": 300000, "completion_tokens": 4000, "cache_read_input_tokens": 50000},
    # xai: batch tiers inclusive (P == 200k is above), standard cache-read tiers never are
    {"model": "xai/grok-4.3", "prompt_tokens": 200000, "completion_tokens": 100, "cache_read_input_tokens": 1000},
    {"model": "xai/grok-4.3", "prompt_tokens": 199999, "completion_tokens": 100, "cache_read_input_tokens": 1000},
    # audio at input_cost_per_audio_token_batches, with its own long-context variant
    {"model": "gemini/gemini-2.5-flash", "prompt_tokens": 1000, "completion_tokens": 50, "audio_input_tokens": 400,
     "cache_read_input_tokens": 100},
    {"model": "vertex_ai/gemini-2.5-flash", "prompt_tokens": 300000, "completion_tokens": 50,
     "audio_input_tokens": 50000},
    # no input_cost_per_token_batches: LiteLLM's half-price fallback (audio billed as text)
    {"model": "gpt-4o-audio-preview-2024-12-17", "prompt_tokens": 1500, "completion_tokens": 700,
     "audio_input_tokens": 1000, "audio_output_tokens": 600},
    {"model": "bedrock/anthropic.claude-3-7-sonnet-20250219-v1:0", "prompt_tokens": 12806, "completion_tokens": 150,
     "cache_read_input_tokens": 12000, "cache_creation_input_tokens": 800},
    # Anthropic: 1-hour writes at the 5-minute batch write rate (no 1-hour batch key)
    {"model": "anthropic/claude-sonnet-4-5-20250929", "prompt_tokens": 12806, "completion_tokens": 150,
     "cache_read_input_tokens": 12000, "cache_creation_input_tokens": 800, "cache_creation_1h_input_tokens": 800},
    {"model": "claude-haiku-4-5-20251001", "prompt_tokens": 640, "completion_tokens": 12},
    # a batch record ignores its service tier
    {"model": "gpt-5-mini-2025-08-07", "prompt_tokens": 3000, "completion_tokens": 800, "reasoning_tokens": 512,
     "cache_read_input_tokens": 1000, "service_tier": "priority"},
]


@pytest.mark.parametrize("case", BATCH_CASES, ids=lambda c: f"{c['model']}:{c['prompt_tokens']}")
def test_batch_rules(case, engine, oracle):
    record = canonical({**case, "batch": True}, "test", 1)
    mine = engine.price(record)
    assert isinstance(mine, Priced), mine
    booked = oracle.price({**case, "batch": True})
    assert booked.path == "batch"
    assert close(mine.cost.total, booked.cost), (case, mine.cost, booked)


@pytest.mark.parametrize("case", [
    {"model": "batch-mini", "prompt_tokens": 2000, "completion_tokens": 100, "cache_read_input_tokens": 512},
    {"model": "batch-custom", "prompt_tokens": 2000, "completion_tokens": 100, "cache_read_input_tokens": 512},
], ids=lambda c: c["model"])
def test_batch_through_a_deployment(case, tmp_path):
    import yaml

    engine = PricingEngine(load_cost_map(), load_config(write_config(tmp_path, BATCH_CONFIG)))
    oracle = ProxyOracle(yaml.safe_load(BATCH_CONFIG)["model_list"])
    mine = engine.price(canonical({**case, "batch": True}, "test", 1))
    booked = oracle.price({**case, "batch": True})
    assert close(mine.cost.total, booked.cost), (case, mine.cost, booked)


# -- Anthropic's regional price (usage.inference_geo) ------------------------------------------------------------

@pytest.mark.parametrize("model,geo", [
    ("claude-opus-4-6", "us"),  # provider_specific_entry {"us": 1.1}
    ("claude-opus-4-6", "US"),  # looked up lower-cased
    ("claude-opus-4-6", "global"),
    ("claude-opus-4-6", "not_available"),
    ("claude-opus-4-6", "eu"),  # no multiplier for that geo
    ("claude-sonnet-4-5-20250929", "us"),  # no provider_specific_entry at all
    ("bedrock/claude_platform/claude-opus-4-6", "us"),  # Bedrock's cost function applies it too
])
def test_inference_geo_prices_as_the_proxy_does(model, geo, engine, oracle):
    from costcalc.reading.shapes import adapt

    line = {"type": "message", "model": model, "usage": {"input_tokens": 1000, "cache_read_input_tokens": 2000,
                                                          "cache_creation_input_tokens": 500, "output_tokens": 400,
                                                          "inference_geo": geo}}
    r = adapt(line, "test", 1, b"")
    mine = engine.price(r)
    assert isinstance(mine, Priced), mine
    booked = oracle.price(as_canonical(r))
    assert close(mine.cost.total, booked.cost), (model, geo, mine.cost, booked)
    plain = engine.price(adapt({**line, "usage": {**line["usage"], "inference_geo": None}}, "test", 1, b""))
    factor = 1.1 if geo.lower() == "us" and "opus-4-6" in model else 1.0
    assert close(mine.cost.total, plain.cost.total * factor)


@pytest.mark.parametrize("model,speed,geo", [
    ("claude-opus-4-8", "fast", None),  # provider_specific_entry {"us": 1.1, "fast": 2.0}
    ("claude-opus-4-8", "fast", "us"),  # both multipliers
    ("claude-opus-4-8", "standard", None),
    ("claude-opus-4-6", "fast", None),  # no fast multiplier for that model
])
def test_fast_mode_prices_as_the_proxy_does(model, speed, geo, engine, oracle):
    from costcalc.reading.shapes import adapt

    usage = {"input_tokens": 1000, "cache_read_input_tokens": 2000, "output_tokens": 400, "speed": speed,
             "inference_geo": geo}
    r = adapt({"type": "message", "model": model, "usage": usage}, "test", 1, b"")
    mine = engine.price(r)
    booked = oracle.price(as_canonical(r))
    assert close(mine.cost.total, booked.cost), (model, speed, geo, mine.cost, booked)
    plain = engine.price(adapt({"type": "message", "model": model, "usage": {**usage, "speed": None,
                                                                            "inference_geo": None}}, "test", 1, b""))
    factor = (2.0 if speed == "fast" and model == "claude-opus-4-8" else 1.0) * (1.1 if geo == "us" else 1.0)
    assert close(mine.cost.total, plain.cost.total * factor)


GEO_CONFIG = """
model_list:
  - model_name: opus
    litellm_params: {model: anthropic/claude-opus-4-6}
  - model_name: opus-custom
    litellm_params: {model: anthropic/claude-opus-4-6}
    model_info: {input_cost_per_token: 4.0e-6, output_cost_per_token: 2.0e-5}
  - model_name: opus-bedrock
    litellm_params: {model: bedrock/claude_platform/claude-opus-4-6}
"""


def test_inference_geo_through_deployments(tmp_path):
    # a deployment of the map's model keeps its regional multiplier; custom deployment prices carry none (the
    # proxy prices them from the deployment's own model info)
    import yaml

    from costcalc.reading.shapes import adapt

    engine = PricingEngine(load_cost_map(), load_config(write_config(tmp_path, GEO_CONFIG)))
    oracle = ProxyOracle(yaml.safe_load(GEO_CONFIG)["model_list"], {"drop_params": True})
    expected = {"opus": (1000 * 5e-6 + 400 * 2.5e-5) * 1.1, "opus-custom": 1000 * 4e-6 + 400 * 2e-5,
                "opus-bedrock": (1000 * 5e-6 + 400 * 2.5e-5) * 1.1}
    for model, cost in expected.items():
        r = adapt({"type": "message", "model": model, "usage": {"input_tokens": 1000, "output_tokens": 400,
                                                                 "inference_geo": "us"}}, "test", 1, b"")
        mine = engine.price(r).cost.total
        assert close(mine, oracle.price(as_canonical(r)).cost), model
        assert close(mine, cost), model
