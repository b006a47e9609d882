"""Real log shapes (SPEC §1.3), read without flags: each fixture line normalised and priced, the expected
cost worked by hand from the embedded map (LiteLLM 1.110.2's price table, $/token, quoted above each block).

Fixtures (tests/data/) are response bodies in each provider's documented format: one file per shape.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from costcalc.engines.streaming import NotPriced, Priced, PricingEngine
from costcalc.rates.config import load_config
from costcalc.rates.costmap import load_cost_map
from costcalc.reading.jsonl import read_usage
from costcalc.reading.records import Rejected, Skipped, UsageRecord
from costcalc.reading.shapes import adapt
from costcalc.reports.aggregate import ReportBuilder
from costcalc.reports.reconcile import reconcile

from .conftest import ROOT, write_config

DATA = Path(__file__).parent / "data"
CLAUDE_CODE = DATA / "claude_code"
SESSION_1 = CLAUDE_CODE / "-home-dev-shop" / "0b6f1d2e-3c4a-4b5c-8d9e-0f1a2b3c4d5e.jsonl"
SESSION_2 = CLAUDE_CODE / "-home-dev-shop" / "7e8f9a0b-1c2d-4e3f-a4b5-c6d7e8f9a0b1.jsonl"

SPEND_LOG_CONFIG = """
model_list:
  - model_name: claude-sonnet
    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929, api_key: os.environ/ANTHROPIC_API_KEY}
    model_info: {id: dep-sonnet-1}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_key: os.environ/OPENAI_API_KEY}
"""


@pytest.fixture(scope="module")
def engine() -> PricingEngine:
    return PricingEngine(load_cost_map())


def priced(engine: PricingEngine, *paths: Path) -> dict[tuple[str, int], Priced]:
    out = {}
    for o in engine.run([str(p) for p in paths]):
        assert not isinstance(o, (Rejected, NotPriced)), o
        if isinstance(o, Priced):
            out[(Path(o.record.file).name, o.record.line)] = o
    return out


def skipped(*paths: Path) -> dict[tuple[str, int], str]:
    return {(Path(r.file).name, r.line): r.reason for r in read_usage([str(p) for p in paths])
            if isinstance(r, Skipped)}


def check(found: dict[tuple[str, int], Priced], file: str, expected: dict[int, tuple[str, float]]) -> None:
    lines = {line for (name, line) in found if name == file}
    assert lines == set(expected)
    for line, (shape, cost) in expected.items():
        o = found[(file, line)]
        assert o.record.shape == shape
        assert o.cost.total == pytest.approx(cost, rel=1e-9), (file, line)


# -- OpenAI Chat Completions --------------------------------------------------------------------------------
# gpt-4o-2024-08-06: in 2.5e-6, out 1e-5          gpt-4o-mini-2024-07-18: in 1.5e-7, cache read 7.5e-8, out 6e-7
# o4-mini-2025-04-16 flex: in 5.5e-7, out 2.2e-6  gpt-4o-audio-preview-2024-12-17: in 2.5e-6, audio in 4e-5,
# gpt-4.1: in 2e-6, out 8e-6                        out 1e-5, audio out 8e-5
# gpt-4o priority: in 4.25e-6, cache read 2.125e-6, out 1.7e-5     text-embedding-3-small: in 2e-8

OPENAI_CHAT = {
    1: ("openai-chat", 1200 * 2.5e-6 + 300 * 1e-5),
    # 2048 prompt tokens of which 1024 cached: 1024 uncached + 1024 at the cache-read rate
    2: ("openai-chat", 1024 * 1.5e-7 + 1024 * 7.5e-8 + 150 * 6e-7),
    # served at service_tier "flex"; the 512 reasoning tokens are inside the 800 completion tokens
    3: ("openai-chat", 900 * 5.5e-7 + 800 * 2.2e-6),
    # 1000 of 1500 prompt tokens are audio, 600 of 700 completion tokens are audio
    4: ("openai-chat", 500 * 2.5e-6 + 1000 * 4e-5 + 100 * 1e-5 + 600 * 8e-5),
    5: ("openai-chat", 500 * 2e-6 + 20 * 8e-6),  # the bare {model, usage} form
    # service_tier "priority": 800 uncached + 200 cached + 100 out at the priority rates
    6: ("openai-chat", 800 * 4.25e-6 + 200 * 2.125e-6 + 100 * 1.7e-5),
    7: ("openai-chat", 8 * 2e-8),  # an embeddings response
    # line 8 is a streamed chunk without usage (skipped); line 9 the final chunk carrying the usage
    9: ("openai-chat", 40 * 1.5e-7 + 12 * 6e-7),
    # deepseek-reasoner (in 2.8e-7, cache read 2.8e-8, out 4.2e-7): 360 missed + 640 hit; reasoning inside the 400
    10: ("openai-chat", 360 * 2.8e-7 + 640 * 2.8e-8 + 400 * 4.2e-7),
    # o4-mini-2025-04-16 (in 1.1e-6, out 4.4e-6): a top-level reasoning_tokens is inside completion_tokens
    11: ("openai-chat", 100 * 1.1e-6 + 80 * 4.4e-6),
}


def test_openai_chat_completions(engine):
    check(priced(engine, DATA / "openai_chat.jsonl"), "openai_chat.jsonl", OPENAI_CHAT)
    assert skipped(DATA / "openai_chat.jsonl") == {
        ("openai_chat.jsonl", 8): "no usage (a streamed chunk or an unfinished response)"}


# -- OpenAI Responses API ------------------------------------------------------------------------------------
# gpt-4.1-2025-04-14: in 2e-6, cache read 5e-7, out 8e-6     gpt-5-2025-08-07: in 1.25e-6, out 1e-5
# gpt-5-mini-2025-08-07 flex: in 1.25e-7, cache read 1.25e-8, out 1e-6     o4-mini-2025-04-16: in 1.1e-6, out 4.4e-6

OPENAI_RESPONSES = {
    # input_tokens 1500 INCLUDES the 1024 cached: 476 uncached
    1: ("openai-responses", 476 * 2e-6 + 1024 * 5e-7 + 200 * 8e-6),
    2: ("openai-responses", 2000 * 1.25e-6 + 1200 * 1e-5),  # 896 reasoning inside 1200 output
    3: ("openai-responses", 5904 * 1.25e-7 + 4096 * 1.25e-8 + 500 * 1e-6),  # flex; 10000 - 4096 uncached
    4: ("openai-responses", 300 * 1.1e-6 + 64 * 4.4e-6),  # "incomplete" (max_output_tokens) is still billed
    # input_tokens 4020 INCLUDES the 4012 cache-write tokens; gpt-5 has no cache-write price: input rate
    6: ("openai-responses", 8 * 1.25e-6 + 4012 * 1.25e-6 + 5 * 1e-5),
}


def test_openai_responses(engine):
    found = priced(engine, DATA / "openai_responses.jsonl")
    check(found, "openai_responses.jsonl", OPENAI_RESPONSES)
    r = found[("openai_responses.jsonl", 6)].record
    assert (r.prompt_tokens, r.cache_read_tokens, r.cache_write_tokens) == (4020, 0, 4012)
    assert set(skipped(DATA / "openai_responses.jsonl")) == {("openai_responses.jsonl", 5)}  # in_progress, usage null


# -- Anthropic Messages --------------------------------------------------------------------------------------
# claude-sonnet-4-5-20250929: in 3e-6, cache read 3e-7, cache write 3.75e-6, 1h write 6e-6, out 1.5e-5
# claude-haiku-4-5-20251001: in 1e-6, out 5e-6     claude-opus-4-5-20251101: in 5e-6, cache read 5e-7, out 2.5e-5

ANTHROPIC = {
    1: ("anthropic", 1200 * 3e-6 + 350 * 1.5e-5),
    # input_tokens 50 EXCLUDES the 20000 read and 1500 written (prompt_tokens 21550)
    2: ("anthropic", 50 * 3e-6 + 20000 * 3e-7 + 1500 * 3.75e-6 + 420 * 1.5e-5),
    # 2500 written: 500 with the 5-minute TTL, 2000 with the 1-hour TTL
    3: ("anthropic", 30 * 3e-6 + 500 * 3.75e-6 + 2000 * 6e-6 + 100 * 1.5e-5),
    4: ("anthropic", 800 * 1e-6 + 120 * 5e-6),  # cache fields null
    # service_tier "priority": the map has no _priority rates for it, so the standard ones apply
    5: ("anthropic", 100 * 5e-6 + 5000 * 5e-7 + 900 * 2.5e-5),
    # claude-opus-4-6 (in 5e-6, cache read 5e-7, out 2.5e-5) served in the US: provider_specific_entry us = 1.1
    6: ("anthropic", (1000 * 5e-6 + 2000 * 5e-7 + 400 * 2.5e-5) * 1.1),
    7: ("anthropic", 1000 * 5e-6 + 400 * 2.5e-5),  # inference_geo "global": no multiplier
}


def test_anthropic_messages(engine):
    found = priced(engine, DATA / "anthropic.jsonl")
    check(found, "anthropic.jsonl", ANTHROPIC)
    r = found[("anthropic.jsonl", 2)].record
    assert (r.prompt_tokens, r.cache_read_tokens, r.cache_write_tokens) == (21550, 20000, 1500)
    assert found[("anthropic.jsonl", 3)].record.cache_write_1h_tokens == 2000
    assert found[("anthropic.jsonl", 1)].record.service_tier == "standard"


# -- Gemini generateContent ----------------------------------------------------------------------------------
# gemini/gemini-2.5-flash: in 3e-7, audio in 1e-6, out 2.5e-6, reasoning 2.5e-6
# gemini/gemini-2.5-pro: in 1.25e-6, cache read 1.25e-7, out 1e-5; above 200k: in 2.5e-6, out 1.5e-5
# gemini/gemini-2.5-flash-lite: in 1e-7, out 4e-7
# vertex_ai (map key gemini-2.5-flash): in 3e-7, out 2.5e-6; gemini-2.5-pro priority: in 2.25e-6, out 1.8e-5

GEMINI = {
    # 300 thoughts are billed on top of the 200 candidates: completion 500, reasoning 300
    1: ("gemini", 1000 * 3e-7 + 200 * 2.5e-6 + 300 * 2.5e-6),
    # promptTokenCount 4000 INCLUDES the 2048 cached
    2: ("gemini", 1952 * 1.25e-6 + 2048 * 1.25e-7 + (500 + 700) * 1e-5),
    # 250000 prompt tokens: the whole request moves to the above-200k rates
    3: ("gemini", 250000 * 2.5e-6 + (1000 + 2000) * 1.5e-5),
    4: ("gemini", 1200 * 3e-7 + 80 * 2.5e-6),  # a Vertex response (createTime, trafficType): vertex_ai/
    5: ("gemini", 600 * 3e-7 + 400 * 1e-6 + 50 * 2.5e-6),  # 400 AUDIO prompt tokens at the audio rate
    6: ("gemini", (500 + 300) * 1e-7 + 100 * 4e-7),  # code execution: toolUsePromptTokenCount is input
    7: ("gemini", 1000 * 2.25e-6 + (100 + 100) * 1.8e-5),  # trafficType ON_DEMAND_PRIORITY
    # search grounding: its 400 tool-use tokens are not input; the grounded prompt costs $0.035 (gemini-2.5-flash's
    # search_context_cost_per_query, billed per prompt: LiteLLM's cost_per_web_search_request)
    8: ("gemini", 20 * 3e-7 + 40 * 2.5e-6 + 0.035),
    9: ("gemini", (75 + 25) * 3e-7 + 18 * 2.5e-6),  # no candidates: the 25 tool-use tokens are still input
    # 5000 prompt tokens (1000 TEXT, 4000 AUDIO), 4000 cached (500 TEXT, 3500 AUDIO); cache read 3e-8, cached
    # audio 1e-7: 500 text + 500 audio uncached, 500 + 3500 cached
    10: ("gemini", 500 * 3e-7 + 500 * 1e-6 + 500 * 3e-8 + 3500 * 1e-7 + 100 * 2.5e-6),
    # gemini-2.5-flash-image: in 3e-7 (no image input or cached-image price), cache read 3e-8, out 2.5e-6,
    # image out 3e-5: 42 TEXT + 258 uncached IMAGE, 1000 cached IMAGE; 20 TEXT + 1290 IMAGE out
    11: ("gemini", 300 * 3e-7 + 1000 * 3e-8 + 20 * 2.5e-6 + 1290 * 3e-5),
    # grounded, and totalTokenCount = prompt + candidates + the reported tool-use tokens: the 30 thoughts are
    # inside the 60 candidates tokens (LiteLLM's test counts the tool-use tokens even when grounding drops them)
    12: ("gemini", 20 * 3e-7 + 60 * 2.5e-6 + 0.035),  # and its grounded prompt, as line 8
    # a Live API message: responseTokenCount / responseTokensDetails; gemini-2.5-flash-native-audio-preview-09-2025:
    # in 5e-7, audio in 3e-6, audio out 1.2e-5
    13: ("gemini", 200 * 5e-7 + 1000 * 3e-6 + 900 * 1.2e-5),
    # gemini-omni-1.1-flash: in and audio in 1.5e-6 (no cache-read price: cached tokens at the input rate), out
    # 9e-6 (no image-output price), video out 1.75e-5: 3000 prompt, 1000 cached (600 AUDIO); 300 TEXT, 1300 IMAGE
    # and 1000 VIDEO out
    14: ("gemini", 3000 * 1.5e-6 + (300 + 1300) * 9e-6 + 1000 * 1.75e-5),
    # gemini-2.5-flash has no video-output price: its 800 VIDEO tokens at the output rate 2.5e-6
    15: ("gemini", 500 * 3e-7 + 900 * 2.5e-6),
}


def test_gemini_generate_content(engine):
    found = priced(engine, DATA / "gemini.jsonl")
    check(found, "gemini.jsonl", GEMINI)
    models = {line: found[("gemini.jsonl", line)].record.model for line in (1, 4, 7)}
    assert models == {1: "gemini/gemini-2.5-flash", 4: "vertex_ai/gemini-2.5-flash", 7: "vertex_ai/gemini-2.5-pro"}
    r = found[("gemini.jsonl", 1)].record
    assert (r.completion_tokens, r.reasoning_tokens) == (500, 300)
    assert found[("gemini.jsonl", 7)].record.service_tier == "priority"
    r = found[("gemini.jsonl", 9)].record
    assert (r.prompt_tokens, r.completion_tokens) == (100, 18)
    x = found[("gemini.jsonl", 11)].record.extras
    assert (x.cache_read_image_tokens, x.image_output_tokens) == (1000, 1290)


def test_gemini_candidates_that_already_contain_the_thoughts(engine):
    # totalTokenCount = prompt + candidates: the candidates include the thoughts (LiteLLM's test), not on top
    line = {"modelVersion": "gemini-2.5-flash", "usageMetadata": {
        "promptTokenCount": 100, "candidatesTokenCount": 50, "thoughtsTokenCount": 30, "totalTokenCount": 150}}
    r = adapt(line, "f", 1, b"")
    assert (r.prompt_tokens, r.completion_tokens, r.reasoning_tokens) == (100, 50, 30)
    assert engine.price(r).cost.total == pytest.approx(100 * 3e-7 + 50 * 2.5e-6, rel=1e-9)


# -- LiteLLM proxy spend logs --------------------------------------------------------------------------------
# gpt-4o: in 2.5e-6, cache read 1.25e-6, out 1e-5      gpt-4o-mini: in 1.5e-7, out 6e-7
# claude-sonnet-4-5-20250929: in 3e-6, cache read 3e-7, cache write 3.75e-6, out 1.5e-5
# text-embedding-3-small: in 2e-8

SPEND_LOGS = {
    # 400 of 1000 prompt tokens cached (metadata.usage_object.prompt_tokens_details)
    1: ("litellm-spend-log", 600 * 2.5e-6 + 400 * 1.25e-6 + 200 * 1e-5),
    # alias claude-sonnet → deployment dep-sonnet-1; LiteLLM's prompt_tokens 5200 includes 4000 read + 1000 written
    2: ("litellm-spend-log", 200 * 3e-6 + 4000 * 3e-7 + 1000 * 3.75e-6 + 300 * 1.5e-5),
    6: ("litellm-spend-log", 3000 * 1.5e-7 + 400 * 6e-7),  # no model_group: custom_llm_provider/model
    7: ("litellm-spend-log", 50 * 2e-8),
}


def spend_log_engine(tmp_path: Path) -> PricingEngine:
    return PricingEngine(load_cost_map(), load_config(write_config(tmp_path, SPEND_LOG_CONFIG)))


def test_litellm_spend_logs(tmp_path):
    engine = spend_log_engine(tmp_path)
    outcomes = {(Path(o.record.file).name, o.record.line): o
                for o in engine.run([str(DATA / "litellm_spend_logs.jsonl")]) if isinstance(o, (Priced, NotPriced))}
    found = {k: o for k, o in outcomes.items() if isinstance(o, Priced)}
    check(found, "litellm_spend_logs.jsonl", SPEND_LOGS)
    r1, r2, r6 = (found[("litellm_spend_logs.jsonl", n)].record for n in (1, 2, 6))
    assert (r1.recorded_cost, r1.duration_s, r1.model) == (0.004, 2.5, "gpt-4o")
    assert (r2.model, r2.model_id, r2.recorded_cost, r2.duration_s) == ("claude-sonnet", "dep-sonnet-1", 0.01005, 6.25)
    assert found[("litellm_spend_logs.jsonl", 2)].sheet.deployment.model_id == "dep-sonnet-1"
    assert r6.model == "openai/gpt-4o-mini"
    # JSON-text columns are parsed, so group-by team / tag / metadata.* work
    assert r2.raw["metadata"]["user_api_key_team_id"] == "team-support" and r2.raw["request_tags"] == ["support"]
    assert skipped(DATA / "litellm_spend_logs.jsonl") == {
        ("litellm_spend_logs.jsonl", 3): "served from the LiteLLM proxy's cache (the proxy books $0)",
        ("litellm_spend_logs.jsonl", 4): "a failed request (the proxy books $0)",
    }
    # an image call is not skipped: it is counted unpriced, saying why
    image = outcomes[("litellm_spend_logs.jsonl", 5)]
    assert isinstance(image, NotPriced) and image.record.call_type == "aimage_generation"
    assert image.reason.startswith("call type 'aimage_generation': the proxy prices it per image")


def test_standard_logging_payload_is_read_like_a_spend_log(engine):
    payload = {"id": "chatcmpl-1", "call_type": "acompletion", "response_cost": 0.0025, "model": "gpt-4o-mini",
               "model_group": "gpt-4o-mini", "model_id": "", "prompt_tokens": 10000, "completion_tokens": 1000,
               "startTime": 1757930400.0, "endTime": 1757930401.5, "cache_hit": False, "status": "success",
               "metadata": {"user_api_key_user_id": "dana", "usage_object": {
                   "prompt_tokens": 10000, "completion_tokens": 1000,
                   "prompt_tokens_details": {"cached_tokens": 8000}}}}
    r = adapt(payload, "f", 1, b"")
    assert (r.shape, r.recorded_cost, r.cache_read_tokens, r.duration_s) == ("litellm-spend-log", 0.0025, 8000, 1.5)
    # gpt-4o-mini: 2000 uncached * 1.5e-7 + 8000 cached * 7.5e-8 + 1000 out * 6e-7
    assert engine.price(r).cost.total == pytest.approx(2000 * 1.5e-7 + 8000 * 7.5e-8 + 1000 * 6e-7, rel=1e-9)


@pytest.mark.parametrize(("where", "breakdown", "usage_tier", "billed"), [
    ("row", {"total_cost": 0.5, "service_tier": "priority"}, None, "priority"),  # LiteLLM never fills usage's
    ("row", {"total_cost": 0.5, "service_tier": None}, "flex", None),  # the proxy billed base rates
    ("row", None, "flex", "flex"),  # no breakdown (an older proxy): the usage object's tier
    ("row", {"service_tier": "flex"}, None, None),  # not a breakdown the proxy booked (no total_cost)
    ("payload", {"total_cost": 0.5, "service_tier": "flex"}, None, "flex"),
])
def test_the_billed_service_tier_is_the_cost_breakdowns(where, breakdown, usage_tier, billed):
    usage = {"prompt_tokens": 100, "completion_tokens": 10}
    if usage_tier:
        usage["service_tier"] = usage_tier
    row = {"request_id": "r", "call_type": "acompletion", "model_group": "gpt-4o", "prompt_tokens": 100,
           "completion_tokens": 10, "status": "success", "metadata": {"usage_object": usage}}
    if breakdown is not None:
        (row["metadata"] if where == "row" else row)["cost_breakdown"] = breakdown
    assert adapt(row, "f", 1, b"").service_tier == billed


def test_failures_are_skipped_whatever_tokens_their_row_keeps():
    row = {"request_id": "r", "call_type": "acompletion", "model_group": "gpt-4o", "prompt_tokens": 1200,
           "completion_tokens": 0, "status": "failure", "spend": 0.0, "metadata": {}}
    assert adapt(row, "f", 1, b"") == Skipped("f", 1, "a failed request (the proxy books $0)")


def test_reconcile_lists_the_groups_whose_recorded_spend_disagrees(tmp_path):
    outcomes = spend_log_engine(tmp_path).run([str(DATA / "litellm_spend_logs.jsonl")])
    report = ReportBuilder(group_by=("model",)).consume(outcomes)
    (bad,) = reconcile(report)  # gpt-4o, claude-sonnet and the embedding agree with what the proxy charged
    assert bad.group == ("openai/gpt-4o-mini",)
    assert bad.records == 1
    assert bad.recorded == 0.01
    assert bad.computed == pytest.approx(3000 * 1.5e-7 + 400 * 6e-7, rel=1e-12)
    assert bad.difference == pytest.approx(bad.computed - 0.01, rel=1e-12)
    assert bad.relative == pytest.approx(bad.difference / 0.01, rel=1e-12)
    # the other groups match to the last bit (the embedding row: 50 * 2e-8 = 1e-6), so even 0 % lists only one
    assert [d.group for d in reconcile(report, tolerance=0.0)] == [("openai/gpt-4o-mini",)]
    assert reconcile(report, tolerance=100.0) == []
    with pytest.raises(ValueError):
        reconcile(report, tolerance=-0.01)


def test_reconcile_orders_by_group_or_by_difference_and_flags_zero_recorded(engine, tmp_path):
    path = tmp_path / "u.jsonl"
    path.write_text(
        '{"model":"gpt-4o","prompt_tokens":1000,"completion_tokens":0,"cost":0.002,"user":"a"}\n'  # computes 0.0025
        '{"model":"gpt-4o","prompt_tokens":1000,"completion_tokens":0,"cost":0.0,"user":"b"}\n'  # recorded nothing
        '{"model":"gpt-4o","prompt_tokens":100000,"completion_tokens":0,"cost":0.2,"user":"c"}\n'  # computes 0.25
        '{"model":"gpt-4o","prompt_tokens":1000,"completion_tokens":0,"user":"d"}\n')  # nothing to compare
    report = ReportBuilder(group_by=("user",)).consume(engine.run([str(path)]))
    found = reconcile(report)
    assert [d.group for d in found] == [("a",), ("b",), ("c",)]  # the report's key order by default
    assert math.isinf(found[1].relative) and found[1].as_dict()["relative"] is None
    # b booked $0: named as such; a and c booked less than costcalc computes (0.0025 - 0.002, 0.25 - 0.2)
    assert [d.direction(4) for d in found] == ["logs below costcalc by $0.0005", "$0 booked, costcalc $0.0025",
                                               "logs below costcalc by $0.0500"]
    report.sort = "cost"  # --sort cost: the largest absolute difference first
    assert [d.group for d in reconcile(report)] == [("c",), ("b",), ("a",)]


# -- Claude Code transcripts ---------------------------------------------------------------------------------
# claude-sonnet-4-5-20250929: in 3e-6, cache read 3e-7, write 3.75e-6, 1h write 6e-6, out 1.5e-5
# claude-haiku-4-5-20251001: in 1e-6, out 5e-6

CLAUDE_SESSION_1 = {
    # msg_01Ab… is written three times while streaming (lines 3-5); the last line has the final usage
    5: ("claude-code", 4 * 3e-6 + 12000 * 3.75e-6 + 480 * 1.5e-5),
    7: ("claude-code", 6 * 3e-6 + 12000 * 3e-7 + 800 * 6e-6 + 150 * 1.5e-5),  # 800 written with the 1-hour TTL
    11: ("claude-code", 1000 * 1e-6 + 40 * 5e-6),  # an older sidechain line that carries costUSD
}
CLAUDE_SESSION_2 = {3: ("claude-code", 10 * 3e-6 + 12800 * 3e-7 + 60 * 1.5e-5)}


def test_claude_code_directory_counts_each_message_once(engine):
    found = priced(engine, CLAUDE_CODE)  # a directory: walked for *.jsonl
    check(found, SESSION_1.name, CLAUDE_SESSION_1)
    check(found, SESSION_2.name, CLAUDE_SESSION_2)
    assert found[(SESSION_1.name, 11)].record.recorded_cost == 0.0012
    assert found[(SESSION_1.name, 5)].record.model == "claude-sonnet-4-5-20250929"
    reasons = skipped(CLAUDE_CODE)
    assert {line: reason.split(" (")[0] for (name, line), reason in reasons.items() if name == SESSION_1.name} == {
        1: "no usage", 2: "no usage", 6: "no usage", 8: "no usage", 10: "no usage",  # summary, user, system, …
        3: "duplicate of line 4, superseded", 4: "duplicate of line 5, superseded",
        9: "a message Claude Code wrote itself",
    }
    # the resumed session repeats line 7 of the first session: counted once
    assert reasons[(SESSION_2.name, 2)].startswith(f"duplicate of {SESSION_1}:7")
    report = ReportBuilder().consume(engine.run([str(CLAUDE_CODE)]))
    assert (report.accounting.read, report.accounting.priced, report.accounting.skipped) == (14, 4, 10)
    expected = sum(cost for _, cost in (*CLAUDE_SESSION_1.values(), *CLAUDE_SESSION_2.values()))
    assert report.totals.total == pytest.approx(expected, rel=1e-12)


def test_duplicates_keep_the_last_line_at_its_position_in_input_order(tmp_path):
    def line(mid: str, out: int) -> str:
        return ('{"type":"assistant","sessionId":"s","requestId":"req_' + mid + '","message":{"id":"msg_' + mid +
                '","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":10,"output_tokens":' + str(out) + '}}}')
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join([line("a", 1), line("b", 5), line("a", 90), line("b", 7), "{\"type\":\"user\"}"]))
    results = list(read_usage([str(path)]))
    assert [(type(r).__name__, r.line) for r in results] == [
        ("Skipped", 1), ("Skipped", 2), ("UsageRecord", 3), ("UsageRecord", 4), ("Skipped", 5)]
    assert [r.completion_tokens for r in results if isinstance(r, UsageRecord)] == [90, 7]


# -- batch output files --------------------------------------------------------------------------------------
# gpt-4o-mini-2024-07-18 batch: in 7.5e-8, out 3e-7
# gpt-4o-2024-08-06 batch: in 1.25e-6, out 5e-6; no batch cache-read price, so the STANDARD one, 1.25e-6
# gpt-5-mini-2025-08-07 batch: in 1.25e-7, cache read 1.25e-8, out 1e-6     text-embedding-3-small batch: 1e-8
# claude-sonnet-4-5-20250929 batch: in 1.5e-6, cache read 1.5e-7, write 1.875e-6 (1-hour writes too), out 7.5e-6
# claude-haiku-4-5-20251001 batch: in 5e-7, out 2.5e-6

OPENAI_BATCH = {
    1: ("openai-batch", 1200 * 7.5e-8 + 300 * 3e-7),
    2: ("openai-batch", 1024 * 1.25e-6 + 1024 * 1.25e-6 + 100 * 5e-6),
    5: ("openai-batch", 2000 * 1.25e-7 + 1000 * 1.25e-8 + 800 * 1e-6),  # a /v1/responses body
    6: ("openai-batch", 120 * 1e-8),  # a /v1/embeddings body
}
ANTHROPIC_BATCH = {
    1: ("anthropic-batch", 1000 * 1.5e-6 + 2000 * 1.5e-7 + 500 * 1.875e-6 + 300 * 7.5e-6),
    4: ("anthropic-batch", 640 * 5e-7 + 12 * 2.5e-6),
}


def test_batch_output_lines_are_priced_at_batch_rates(engine):
    found = priced(engine, DATA / "openai_batch.jsonl", DATA / "anthropic_batch.jsonl")
    check(found, "openai_batch.jsonl", OPENAI_BATCH)
    check(found, "anthropic_batch.jsonl", ANTHROPIC_BATCH)
    assert all(o.record.batch and o.record.service_tier is None for o in found.values())
    assert skipped(DATA / "openai_batch.jsonl", DATA / "anthropic_batch.jsonl") == {
        ("openai_batch.jsonl", 3): "batch request failed (batch_expired)",
        ("openai_batch.jsonl", 4): "batch request failed (status 400)",
        ("anthropic_batch.jsonl", 2): "batch request not succeeded (errored)",
        ("anthropic_batch.jsonl", 3): "batch request not succeeded (expired)",
    }


def test_batch_without_batch_prices_is_half_the_standard_price(engine):
    # gpt-4o-audio-preview-2024-12-17 has no *_batches keys: LiteLLM halves in 2.5e-6 and out 1e-5, and bills
    # audio as text
    r = adapt({"model": "gpt-4o-audio-preview-2024-12-17", "prompt_tokens": 1500, "completion_tokens": 700,
               "audio_input_tokens": 1000, "batch": True}, "f", 1, b"")
    assert engine.price(r).cost.total == pytest.approx(1500 * 2.5e-6 / 2 + 700 * 1e-5 / 2, rel=1e-9)


# -- recognised but inconsistent: rejected with the reason ---------------------------------------------------

@pytest.mark.parametrize("line,reason", [
    # Anthropic cache counts on an OpenAI-shaped usage: does prompt_tokens include them or not?
    (b'{"model":"gpt-4o","usage":{"prompt_tokens":1000,"completion_tokens":5,"cache_read_input_tokens":300}}',
     "usage.cache_read_input_tokens: Anthropic-style cache count (300) on an OpenAI-style usage"),
    (b'{"model":"gpt-4o","usage":{"prompt_tokens":100,"completion_tokens":5,'
     b'"prompt_tokens_details":{"cached_tokens":200}}}',
     "cache-read plus cache-write tokens (200 + 0) exceed prompt_tokens (100)"),
    (b'{"model":"o4-mini","usage":{"prompt_tokens":100,"completion_tokens":5,'
     b'"completion_tokens_details":{"reasoning_tokens":6}}}',
     "usage.completion_tokens_details.reasoning_tokens: reasoning tokens (6) exceed completion_tokens (5)"),
    (b'{"object":"response","model":"gpt-4.1","usage":{"input_tokens":100,"output_tokens":5,'
     b'"input_tokens_details":{"cached_tokens":101}}}',
     "usage.input_tokens_details.cached_tokens: cached_tokens (101) exceed input_tokens (100)"),
    (b'{"type":"message","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":10,"output_tokens":5,'
     b'"input_tokens_details":{"cached_tokens":3}}}', "usage: mixes the Anthropic convention"),
    (b'{"type":"message","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":10,"output_tokens":5,'
     b'"cache_creation_input_tokens":100,"cache_creation":{"ephemeral_5m_input_tokens":60,'
     b'"ephemeral_1h_input_tokens":50}}}',
     "usage.cache_creation: ephemeral_5m_input_tokens + ephemeral_1h_input_tokens (60 + 50) exceed "
     "cache_creation_input_tokens (100)"),
    (b'{"type":"message","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":-10,"output_tokens":5}}',
     "usage.input_tokens: token count must be a whole number"),
    (b'{"type":"message","model":"claude-sonnet-4-5-20250929","usage":{"prompt_tokens_details":{},'
     b'"input_tokens":10,"output_tokens":5}}',
     "usage.prompt_tokens_details: OpenAI-style counts on an Anthropic usage"),
    (b'{"modelVersion":"gemini-2.5-flash","usageMetadata":{"promptTokenCount":100,"cachedContentTokenCount":150,'
     b'"candidatesTokenCount":5}}', "usageMetadata.cachedContentTokenCount: cachedContentTokenCount (150) exceeds"),
    (b'{"modelVersion":"gemini-2.5-flash","usageMetadata":{"promptTokenCount":100,"cachedContentTokenCount":50,'
     b'"cacheTokensDetails":[{"modality":"AUDIO","tokenCount":50}]}}',
     # cached AUDIO tokens without any AUDIO prompt tokens to be part of
     "usageMetadata.cacheTokensDetails: cached audio or image tokens exceed the audio or image input tokens"),
    (b'{"usageMetadata":{"promptTokenCount":100}}', "modelVersion: missing or not a string"),
    (b'{"request_id":"r1","call_type":"acompletion","model_group":"gpt-4o","spend":0.1,"prompt_tokens":100,'
     b'"completion_tokens":5,"metadata":{"usage_object":{"prompt_tokens":90}}}',
     "metadata.usage_object.prompt_tokens: 90 disagrees with the row's prompt_tokens (100)"),
    (b'{"request_id":"r1","call_type":"acompletion","model_group":"gpt-4o","spend":0.1,"prompt_tokens":100,'
     b'"metadata":"{not json"}', "metadata: is text but not valid JSON"),
    (b'{"type":"assistant","sessionId":"s","message":{"id":"m","usage":{"input_tokens":1,"output_tokens":1}}}',
     "message.model: missing or not a string"),
    (b'{"custom_id":"r","response":{"status_code":200,"body":{"model":"gpt-4o","usage":{"prompt_tokens":10,'
     b'"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":11}}}}}', "exceed prompt_tokens (10)"),
    (b'{"model":"gpt-4o","usage":{"foo":1}}', "usage: has neither prompt_tokens/completion_tokens"),
])
def test_inconsistent_lines_are_rejected_with_the_reason(tmp_path, line, reason):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(line + b"\n")
    (r,) = read_usage([str(path)])
    assert isinstance(r, Rejected), r
    assert reason in r.reason
    assert r.text == line


# -- detection ---------------------------------------------------------------------------------------------

def test_one_file_may_mix_every_shape_and_needs_no_config(engine):
    outcomes = list(engine.run([str(ROOT / "sample_data" / "mixed.jsonl")]))
    shapes = {o.record.shape for o in outcomes if isinstance(o, Priced)}
    assert shapes == {"canonical", "openai-chat", "openai-responses", "anthropic", "gemini", "litellm-spend-log",
                      "claude-code", "openai-batch", "anthropic-batch"}
    report = ReportBuilder().consume(outcomes)
    assert (report.accounting.read, report.accounting.priced, report.accounting.skipped) == (15, 12, 3)
    assert report.accounting.unpriced == report.accounting.rejected == 0


def test_canonical_lines_stay_canonical(tmp_path):
    # a canonical record is never mistaken for a shape, even with keys other shapes use
    path = tmp_path / "c.jsonl"
    path.write_text('{"model":"gpt-4o","prompt_tokens":10,"message":"hi","usage":"n/a","custom_id":"x"}\n'
                    '{"model":"gpt-4o"}\n'
                    '{"model":"gpt-4o","request_id":"r","spend":0.1,"prompt_tokens":10,"cache_read_input_tokens":4}\n')
    assert [(r.shape, r.prompt_tokens, r.cache_read_tokens) for r in read_usage([str(path)])] == [
        ("canonical", 10, 0), ("canonical", 0, 0), ("canonical", 10, 4)]


def test_adapt_none_reads_canonical_records_only(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes((DATA / "anthropic.jsonl").read_bytes().splitlines()[0] + b"\n")
    (detected,) = read_usage([str(path)])
    (plain,) = read_usage([str(path)], adapt=None)
    assert (detected.shape, detected.prompt_tokens) == ("anthropic", 1200)
    assert (plain.shape, plain.prompt_tokens) == ("canonical", 0)


def test_anthropic_iterations_are_summed(engine):
    # usage.iterations (one entry per sampling round) replaces the top-level counts, as in LiteLLM
    line = {"type": "message", "model": "claude-haiku-4-5-20251001", "usage": {
        "input_tokens": 1, "output_tokens": 1, "iterations": [
            {"input_tokens": 100, "output_tokens": 20, "cache_read_input_tokens": 1000},
            {"input_tokens": 50, "output_tokens": 30, "cache_creation_input_tokens": 200}]}}
    r = adapt(line, "f", 1, b"")
    assert (r.prompt_tokens, r.completion_tokens, r.cache_read_tokens, r.cache_write_tokens) == (1350, 50, 1000, 200)
    # claude-haiku-4-5: 150 in * 1e-6 + 1000 read * 1e-7 + 200 written * 1.25e-6 + 50 out * 5e-6
    assert engine.price(r).cost.total == pytest.approx(150 * 1e-6 + 1000 * 1e-7 + 200 * 1.25e-6 + 50 * 5e-6, rel=1e-9)


def test_a_side_chain_replay_of_a_message_counts_once(tmp_path):
    # Claude Code replays a message into a side chain (isSidechain) with a new requestId: Anthropic message ids
    # are unique per response, so it is the same call
    def line(request: str, sidechain: bool) -> str:
        return ('{"type":"assistant","sessionId":"s","isSidechain":' + str(sidechain).lower() + ',"requestId":"'
                + request + '","message":{"id":"msg_01","model":"claude-haiku-4-5-20251001","usage":'
                '{"input_tokens":100,"output_tokens":20}}}')
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join([line("req_a", False), line("req_b", True)]) + "\n")
    results = list(read_usage([str(path)]))
    assert [type(r).__name__ for r in results] == ["Skipped", "UsageRecord"]
    assert results[0].reason.startswith("duplicate of line 2, superseded (same message id")


# -- provider variants of the Chat Completions body: xAI, Perplexity, vLLM-style servers ---------------------
# xai/grok-4.3: in 1.25e-6, cache read 2e-7, out 2.5e-6 (xAI's cost function bills reasoning as plain output)
# perplexity/sonar-pro: in 3e-6, out 1.5e-5
# perplexity/sonar-deep-research: in 2e-6, citation 2e-6, out 8e-6, reasoning 3e-6, search 0.005 per query

XAI = {
    # completion_tokens 27 + reasoning 19 outside it (total_tokens 78 = 32 + 27 + 19): 46 output tokens
    1: ("openai-chat", 26 * 1.25e-6 + 6 * 2e-7 + 46 * 2.5e-6),
    # the xAI SDK's native usage: cached_prompt_text_tokens 1500, reasoning_tokens 300 outside completion 120
    2: ("openai-chat", 500 * 1.25e-6 + 1500 * 2e-7 + 420 * 2.5e-6),
    # total_tokens 150 = prompt + completion: the 30 reasoning tokens are already inside the 50
    3: ("openai-chat", 100 * 1.25e-6 + 50 * 2.5e-6),
}
PERPLEXITY = {
    1: ("openai-chat", 14 * 3e-6 + 320 * 1.5e-5),  # no search-query count, no citation price
    # 6193 citation tokens, 3 searches, 29036 reasoning tokens billed on top of the 498 output tokens
    2: ("openai-chat", 19 * 2e-6 + 6193 * 2e-6 + 498 * 8e-6 + 29036 * 3e-6 + 3 * 0.005),
    # with a citations list: the reported 5000 citation tokens are billed
    3: ("openai-chat", 25 * 2e-6 + 5000 * 2e-6 + 600 * 8e-6 + 1000 * 3e-6 + 2 * 0.005),
}


def test_xai_reasoning_outside_completion_tokens(engine):
    found = priced(engine, DATA / "xai.jsonl")
    check(found, "xai.jsonl", XAI)
    r = found[("xai.jsonl", 1)].record
    assert (r.model, r.completion_tokens, r.reasoning_tokens) == ("xai/grok-4.3", 46, 19)
    r = found[("xai.jsonl", 2)].record
    assert (r.cache_read_tokens, r.completion_tokens) == (1500, 420)
    assert r.recorded_cost == 19750000 / 1e10  # cost_in_usd_ticks


def test_perplexity_citations_searches_and_reasoning(engine):
    found = priced(engine, DATA / "perplexity.jsonl")
    check(found, "perplexity.jsonl", PERPLEXITY)
    r = found[("perplexity.jsonl", 1)].record
    assert (r.model, r.recorded_cost) == ("perplexity/sonar-pro", 0.010842)  # usage.cost.total_cost
    x = found[("perplexity.jsonl", 2)].record.extras
    assert (x.citation_tokens, x.search_queries) == (6193, 3)


def test_top_level_reasoning_tokens_are_part_of_the_completion(engine):
    # vLLM-style servers write usage.reasoning_tokens at the top level, inside completion_tokens
    r = adapt({"model": "o4-mini-2025-04-16", "usage": {"prompt_tokens": 100, "completion_tokens": 80,
                                                        "total_tokens": 180, "reasoning_tokens": 50}}, "f", 1, b"")
    assert (r.completion_tokens, r.reasoning_tokens) == (80, 50)
    # o4-mini-2025-04-16: in 1.1e-6, out 4.4e-6 (reasoning at the output rate)
    assert engine.price(r).cost.total == pytest.approx(100 * 1.1e-6 + 80 * 4.4e-6, rel=1e-9)


# -- Bedrock Converse, Cohere, OpenAI Realtime -----------------------------------------------------------------
# bedrock anthropic.claude-3-5-sonnet-20241022-v2:0: in 3e-6, cache read 3e-7, write 3.75e-6, out 1.5e-5
# bedrock anthropic.claude-sonnet-4-5-20250929-v1:0: in 3e-6, 1-hour write 6e-6, out 1.5e-5
# command-a-03-2025: in 2.5e-6, out 1e-5     embed-english-v3.0: in 1e-7     cohere/embed-v4.0: in 1.2e-7, image 4.7e-7
# gpt-realtime: in 4e-6, cache read 4e-7, audio in 3.2e-5, cached audio 4e-7, image in 5e-6, cached image 5e-7,
#               out 1.6e-5, audio out 6.4e-5

BEDROCK = {
    1: ("bedrock-converse", 30 * 3e-6 + 628 * 1.5e-5),
    # inputTokens 12 EXCLUDES the 2000 read and 500 written
    2: ("bedrock-converse", 12 * 3e-6 + 2000 * 3e-7 + 500 * 3.75e-6 + 300 * 1.5e-5),
    3: ("bedrock-converse", 20 * 3e-6 + 1000 * 6e-6 + 50 * 1.5e-5),  # cacheDetails: all 1000 writes 1-hour
    4: ("bedrock-converse", 45 * 3e-6 + 12 * 1.5e-5),  # a ConverseStream metadata event
}
COHERE = {
    1: ("cohere", 211 * 2.5e-6 + 42 * 1e-5),  # usage.tokens, as LiteLLM bills it (billed_units says 17)
    2: ("cohere", 120 * 2.5e-6 + 5 * 1e-5),  # billed_units only
    3: ("cohere", 6 * 1e-7),  # embed: meta.billed_units
    4: ("cohere", 10 * 1.2e-7 + 1000 * 4.7e-7),  # embed with image tokens at the image rate
}
REALTIME = {
    # 6216 in (1030 text + 5186 audio), 5120 cached (896 text + 4224 audio); 263 text + 1141 audio out
    3: ("openai-realtime", 134 * 4e-6 + 962 * 3.2e-5 + 896 * 4e-7 + 4224 * 4e-7 + 263 * 1.6e-5 + 1141 * 6.4e-5),
    # 1000 in (200 text + 800 image), 600 cached (100 text + 500 image)
    4: ("openai-realtime", 100 * 4e-6 + 300 * 5e-6 + 100 * 4e-7 + 500 * 5e-7 + 50 * 1.6e-5),
}


def test_bedrock_converse(engine):
    found = priced(engine, DATA / "bedrock_converse.jsonl")
    check(found, "bedrock_converse.jsonl", BEDROCK)
    r = found[("bedrock_converse.jsonl", 2)].record
    assert (r.model, r.prompt_tokens) == ("bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0", 2512)
    assert found[("bedrock_converse.jsonl", 3)].record.cache_write_1h_tokens == 1000
    assert set(skipped(DATA / "bedrock_converse.jsonl")) == {("bedrock_converse.jsonl", 5)}  # messageStart


def test_cohere_chat_and_embed(engine):
    check(priced(engine, DATA / "cohere.jsonl"), "cohere.jsonl", COHERE)


def test_openai_realtime_response_done_events(engine):
    found = priced(engine, DATA / "openai_realtime.jsonl")
    check(found, "openai_realtime.jsonl", REALTIME)
    x = found[("openai_realtime.jsonl", 3)].record.extras
    assert x.cache_read_audio_tokens == 4224
    assert set(skipped(DATA / "openai_realtime.jsonl")) == {
        ("openai_realtime.jsonl", 1), ("openai_realtime.jsonl", 2), ("openai_realtime.jsonl", 5)}


def test_the_aggregate_hot_path_prices_the_rarer_parts_too(engine):
    # records with extras leave the fused aggregate loop for engine.price: the total is their priced sum
    paths = [DATA / "openai_realtime.jsonl", DATA / "gemini.jsonl", DATA / "anthropic.jsonl"]
    report = ReportBuilder().consume_results(read_usage([str(p) for p in paths]), engine)
    expected = sum(cost for table in (REALTIME, GEMINI, ANTHROPIC) for _, cost in table.values())
    assert report.totals.total == pytest.approx(expected, rel=1e-12)


def test_explain_lists_the_rarer_parts_and_adds_up_to_the_cost(engine):
    from costcalc.reports.render import explain_record

    paths = [DATA / f for f in ("openai_realtime.jsonl", "gemini.jsonl", "anthropic.jsonl", "perplexity.jsonl")]
    with_extras = [o for o in engine.run([str(p) for p in paths])
                   if isinstance(o, Priced) and o.record.extras is not None]
    assert len(with_extras) == 12  # the two grounded Gemini responses among them
    for o in with_extras:
        r = o.record
        charges = engine.pricer(r.model, r.model_id, r.service_tier, r.request_prices).explain(
            r.prompt_tokens, r.completion_tokens, r.cache_read_tokens, r.cache_write_tokens, r.cache_write_1h_tokens,
            r.reasoning_tokens, r.audio_input_tokens, r.audio_output_tokens, r.image_input_tokens, r.duration_s,
            r.batch, extras=r.extras)
        assert math.fsum(c.cost for c in charges) == pytest.approx(o.cost.total, rel=1e-12), r.line
    text = explain_record(engine, next(o for o in with_extras if o.record.shape == "anthropic"
                                       and o.record.extras.inference_geo == "us"))
    assert "x 1.1 (inference_geo us: provider_specific_entry)" in text
    text = explain_record(engine, next(o for o in with_extras if o.record.shape == "openai-realtime"))
    assert "cached audio           4,224 × 4e-07" in text


def test_a_spend_log_row_keeps_the_usage_extensions_litellm_recorded(engine):
    # metadata.usage_object is LiteLLM's own Usage: Anthropic's inference_geo survives in it
    row = {"request_id": "r1", "call_type": "acompletion", "model": "claude-opus-4-6",
           "custom_llm_provider": "anthropic", "spend": 0.0176, "prompt_tokens": 3000, "completion_tokens": 400,
           "metadata": {"usage_object": {"prompt_tokens": 3000, "completion_tokens": 400,
                                         "prompt_tokens_details": {"cached_tokens": 2000},
                                         "inference_geo": "us"}}}
    r = adapt(row, "f", 1, b"")
    assert (r.model, r.extras.inference_geo) == ("anthropic/claude-opus-4-6", "us")
    # claude-opus-4-6: in 5e-6, cache read 5e-7, out 2.5e-5; x 1.1 in the US
    assert engine.price(r).cost.total == pytest.approx((1000 * 5e-6 + 2000 * 5e-7 + 400 * 2.5e-5) * 1.1, rel=1e-9)


def test_azure_ai_folds_reasoning_as_litellm_does():
    # LiteLLM's Azure AI transformation applies xAI's fold (Grok on Azure AI Foundry): total = 10 + 20 + 5
    r = adapt({"model": "azure_ai/grok-3-mini", "usage": {"prompt_tokens": 10, "completion_tokens": 20,
                                                          "total_tokens": 35, "completion_tokens_details":
                                                          {"reasoning_tokens": 5}}}, "f", 1, b"")
    assert (r.model, r.completion_tokens, r.reasoning_tokens) == ("azure_ai/grok-3-mini", 25, 5)
    # an OpenAI response is never folded: total = prompt + completion, reasoning inside
    r = adapt({"model": "gpt-5", "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 35,
                                           "completion_tokens_details": {"reasoning_tokens": 5}}}, "f", 1, b"")
    assert r.completion_tokens == 20
