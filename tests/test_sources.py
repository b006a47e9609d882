"""Sources beside the proxy's logs (issue 25): OTLP/JSON GenAI spans and events, the OpenAI and Anthropic usage
reports, Bedrock invocation logs, LiteLLM's daily spend tables (JSON lines and CSV) and Langfuse observations,
each read without flags, normalised, priced, and held to LiteLLM 1.110.2.

The fixtures (tests/data/sources/, README.md there says which public example each follows) are priced from the
embedded map; the expected costs are worked by hand from the map's rates ($/token, quoted above each block) and
checked against LiteLLM itself in ``test_every_record_matches_litellm``: an aggregated record (a usage bucket,
a daily row) against ``requests`` times LiteLLM's cost of its mean request.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from costcalc.engines.streaming import NotPriced, Priced, PricingEngine
from costcalc.rates.config import load_config
from costcalc.rates.costmap import load_cost_map
from costcalc.reading.csvfile import cell
from costcalc.reading.records import Rejected, Skipped, UsageRecord
from costcalc.reports.reconcile import record_differences

from .conftest import write_config
from .runner import costcalc, main

DATA = Path(__file__).parent / "data" / "sources"
OTEL = DATA / "otel_traces.jsonl"
CLAUDE_CODE = DATA / "claude_code_otel_logs.jsonl"
OPENAI = DATA / "openai_usage_completions.json"
ANTHROPIC = DATA / "anthropic_usage_report.json"
BEDROCK = DATA / "bedrock_invocation_logs.jsonl"
DAILY_CSV = DATA / "litellm_daily_user_spend.csv"
DAILY_JSONL = DATA / "litellm_daily_team_tag_spend.jsonl"
LANGFUSE = DATA / "langfuse_observations.json"
PORTKEY = DATA / "portkey_logs_export.jsonl"
HELICONE = DATA / "helicone_export.jsonl"
ALL = [OTEL, CLAUDE_CODE, OPENAI, ANTHROPIC, BEDROCK, DAILY_CSV, DAILY_JSONL, LANGFUSE, PORTKEY, HELICONE]

# the alias the daily user table names (model_group), as the proxy's config routes it
DAILY_CONFIG = """
model_list:
  - model_name: claude-sonnet
    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929, api_key: os.environ/ANTHROPIC_API_KEY}
"""


@pytest.fixture(scope="module")
def engine() -> PricingEngine:
    return PricingEngine(load_cost_map())


def outcomes(engine: PricingEngine, *paths: Path) -> list:
    return list(engine.run([str(p) for p in paths]))


def priced(engine: PricingEngine, *paths: Path) -> list[Priced]:
    found = outcomes(engine, *paths)
    assert not [o for o in found if isinstance(o, NotPriced)], found
    return [o for o in found if isinstance(o, Priced)]


def counts(r: UsageRecord) -> tuple[int, ...]:
    return (r.prompt_tokens, r.completion_tokens, r.cache_read_tokens, r.cache_write_tokens,
            r.cache_write_1h_tokens, r.reasoning_tokens)


# -- OpenTelemetry ----------------------------------------------------------------------------------------------
# gpt-4: in 3e-5, out 6e-5                     gpt-4o-mini-2024-07-18: in 1.5e-7, cache read 7.5e-8, out 6e-7
# o4-mini: in 1.1e-6, out 4.4e-6              claude-sonnet-4-5-20250929: in 3e-6, cache read 3e-7, write 3.75e-6,
#                                                                          out 1.5e-5
def test_otlp_traces_one_record_per_span(engine):
    found = outcomes(engine, OTEL)
    assert [type(o).__name__ for o in found] == ["Priced", "Skipped", "Priced", "Priced", "Priced"]
    assert found[1].reason == "a span without GenAI token usage"  # the execute_tool span
    semconv, openinference, openllmetry, anthropic_counts = (found[0], found[2], found[3], found[4])
    # the semconv example: request model gpt-4 (what the client called), 52 in, 47 out
    r = semconv.record
    assert (r.model, r.shape, counts(r)) == ("gpt-4", "otel", (52, 47, 0, 0, 0, 0))
    assert r.raw["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736" and r.raw["span_id"] == "00f067aa0ba902b7"
    assert r.raw["service"] == "joke-bot" and r.raw["provider"] == "openai"
    assert r.raw["response_model"] == "gpt-4-0613"
    assert r.timestamp == 1764979200.0 and r.duration_s == 1.5
    assert semconv.cost.total == pytest.approx(52 * 3e-5 + 47 * 6e-5, rel=1e-12)
    # OpenInference: the prompt includes its cache reads
    r = openinference.record
    assert (r.model, counts(r)) == ("gpt-4o-mini-2024-07-18", (412, 27, 256, 0, 0, 0))
    assert (r.raw["user"], r.raw["session"], r.raw["operation"]) == ("u-17", "s-9", "LLM")
    assert openinference.cost.total == pytest.approx(156 * 1.5e-7 + 256 * 7.5e-8 + 27 * 6e-7, rel=1e-12)
    # OpenLLMetry: prompt_tokens / completion_tokens, reasoning inside the completion
    r = openllmetry.record
    assert (r.model, counts(r)) == ("o4-mini", (900, 800, 0, 0, 0, 512))
    assert openllmetry.cost.total == pytest.approx(900 * 1.1e-6 + 800 * 4.4e-6, rel=1e-12)
    # semconv names with Anthropic's counts (writes above the input): the prompt is input + reads + writes
    r = anthropic_counts.record
    assert counts(r) == (3 + 25037, 13, 0, 25037, 0, 0)
    assert r.recorded_cost == 0.0941
    assert anthropic_counts.cost.total == pytest.approx(3 * 3e-6 + 25037 * 3.75e-6 + 13 * 1.5e-5, rel=1e-12)


def test_a_retried_span_export_counts_once(tmp_path, capsys):
    twice = tmp_path / "twice.jsonl"
    line = OTEL.read_text().splitlines()[0]
    twice.write_text(f"{line}\n{line}\n")
    assert main(["price", str(twice), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    acc = doc["accounting"]
    assert (acc["priced"], acc["duplicates"], acc["skipped"]) == (1, 1, 2)  # and the two tool spans


# claude-haiku-4-5-20251001: in 1e-6, out 5e-6
def test_claude_code_events_keep_their_own_cost(engine):
    found = outcomes(engine, CLAUDE_CODE)
    assert isinstance(found[0], Skipped) and found[0].reason == "a user_prompt event without GenAI token usage"
    sonnet, haiku = found[1], found[2]
    r = sonnet.record
    # Anthropic's convention: input_tokens (12) excludes the cache reads (40215) and writes (1320)
    assert (r.model, counts(r)) == ("claude-sonnet-4-5-20250929", (12 + 40215 + 1320, 310, 40215, 1320, 0, 0))
    assert r.recorded_cost == 0.0217005 and r.duration_s == 4.12  # Claude Code priced it as LiteLLM does
    assert (r.raw["user"], r.raw["session"], r.raw["project"], r.raw["service"]) == (
        "dev@example.com", "7f3e2a10-1c55-4b8e-9a3b-2f6f0c1d9e42", "0c9a6e2b-org", "claude-code")
    assert sonnet.cost.total == pytest.approx(12 * 3e-6 + 40215 * 3e-7 + 1320 * 3.75e-6 + 310 * 1.5e-5, rel=1e-12)
    assert haiku.cost.total == pytest.approx(1500 * 1e-6 + 100 * 5e-6, rel=1e-12)
    assert haiku.record.recorded_cost == 0.002


def test_otlp_attribute_values_are_checked(tmp_path, engine):
    bad = tmp_path / "bad.jsonl"
    span = {"traceId": "t", "spanId": "s", "startTimeUnixNano": "1764979200000000000",
            "attributes": [{"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4"}},
                           {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "-3"}}]}
    good = {**span, "spanId": "s2", "attributes": [
        {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4"}},
        {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "10"}}]}
    bad.write_text(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span, good]}]}]}) + "\n")
    found = outcomes(engine, bad)
    assert isinstance(found[0], Rejected) and found[0].line == 1
    assert "gen_ai.usage.input_tokens" in found[0].reason and "whole number" in found[0].reason
    assert isinstance(found[1], Priced) and found[1].cost.total == pytest.approx(10 * 3e-5, rel=1e-12)


# -- the providers' usage reports --------------------------------------------------------------------------------
# gpt-4o-mini-2024-07-18: in 1.5e-7, cache read 7.5e-8, out 6e-7     gpt-4o-2024-08-06 batch: in 1.25e-6, out 5e-6
def test_openai_usage_buckets_priced_per_bucket(engine):
    found = outcomes(engine, OPENAI)
    assert isinstance(found[0], Rejected) and "group_by=model" in found[0].reason  # the API example: no model
    mini, batch = found[1], found[2]
    assert isinstance(found[3], Skipped) and "empty bucket" in found[3].reason
    r = mini.record
    # input_tokens (1.2M) INCLUDES the 800k cached tokens
    assert (r.model, r.shape, counts(r), r.requests) == ("gpt-4o-mini-2024-07-18", "openai-usage",
                                                          (1_200_000, 90_000, 800_000, 0, 0, 0), 400)
    assert (r.raw["project"], r.raw["key"], r.timestamp) == ("proj_abc", "key_abc", 1730505600.0)
    assert r.service_tier is None  # "default" is the standard tier
    assert mini.cost.total == pytest.approx(400_000 * 1.5e-7 + 800_000 * 7.5e-8 + 90_000 * 6e-7, rel=1e-12)
    assert batch.record.batch and batch.record.requests == 100
    assert batch.cost.total == pytest.approx(300_000 * 1.25e-6 + 60_000 * 5e-6, rel=1e-12)


# claude-sonnet-4-5-20250929: in 3e-6, cache read 3e-7, 5-minute write 3.75e-6, 1-hour write 6e-6, out 1.5e-5
# claude-haiku-4-5-20251001 batch: in 5e-7, out 2.5e-6
def test_anthropic_usage_report(engine):
    first, long_context, batch = priced(engine, ANTHROPIC)
    r = first.record
    # uncached_input_tokens EXCLUDES the 200 reads and the 500 + 1000 writes
    assert (r.model, r.shape, counts(r)) == ("claude-sonnet-4-5-20250929", "anthropic-usage",
                                             (1500 + 200 + 500 + 1000, 500, 200, 1500, 1000, 0))
    assert (r.raw["project"], r.raw["key"], r.raw["web_search_requests"]) == (
        "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ", "apikey_01Rj2N8SVvo6BePZj99NhmiT", 10)
    assert r.requests == 0  # the report counts no requests
    # and its 10 web searches at search_context_cost_per_query's medium price, $0.01 each (LiteLLM's
    # get_cost_for_anthropic_web_search)
    assert first.cost.total == pytest.approx(1500 * 3e-6 + 200 * 3e-7 + 500 * 3.75e-6 + 1000 * 6e-6
                                             + 500 * 1.5e-5 + 10 * 0.01, rel=1e-12)
    assert long_context.record.band_prompt_tokens == 200_001 and first.record.band_prompt_tokens == 0
    assert long_context.cost.total == pytest.approx(450_000 * 3e-6 + 2000 * 1.5e-5, rel=1e-12)
    assert batch.record.batch and batch.cost.total == pytest.approx(100_000 * 5e-7 + 4000 * 2.5e-6, rel=1e-12)


def test_context_window_picks_the_band_not_the_bucket_total(tmp_path):
    """Anthropic's ``context_window`` says which band every request of the bucket was in; a bucket's total prompt
    (here 450k in 0-200k requests) must not move it to the long-context rates."""
    config = write_config(tmp_path, """
model_list:
  - model_name: claude-sonnet-4-5-20250929
    litellm_params:
      model: anthropic/claude-sonnet-4-5-20250929
      input_cost_per_token: 3.0e-6
      output_cost_per_token: 1.5e-5
      input_cost_per_token_above_200k_tokens: 6.0e-6
      output_cost_per_token_above_200k_tokens: 2.25e-5
""")
    doc = json.loads(ANTHROPIC.read_text())
    short = json.loads(json.dumps(doc))
    short["data"][0]["results"] = [dict(doc["data"][0]["results"][1], context_window="0-200k")]
    long = json.loads(json.dumps(doc))
    long["data"][0]["results"] = [doc["data"][0]["results"][1]]
    files = []
    for name, page in (("short.json", short), ("long.json", long)):
        files.append(tmp_path / name)
        files[-1].write_text(json.dumps(page, indent=2))
    engine = PricingEngine(load_cost_map(), load_config(config))
    short_cost, long_cost = (priced(engine, f)[0].cost.total for f in files)
    assert short_cost == pytest.approx(450_000 * 3e-6 + 2000 * 1.5e-5, rel=1e-12)
    assert long_cost == pytest.approx(450_000 * 6e-6 + 2000 * 2.25e-5, rel=1e-12)


# -- Bedrock invocation logs ------------------------------------------------------------------------------------
# anthropic.claude-haiku-4-5-20251001-v1:0: in 1e-6, out 5e-6
# us.anthropic.claude-3-7-sonnet-20250219-v1:0: in 3e-6, cache write 3.75e-6, out 1.5e-5
# amazon.nova-micro-v1:0: in 3.5e-8, out 1.4e-7
def test_bedrock_invocation_logs(engine):
    converse, profile, foundation = priced(engine, BEDROCK)
    r = converse.record
    assert (r.model, r.shape, counts(r)) == ("bedrock/anthropic.claude-haiku-4-5-20251001-v1:0",
                                             "bedrock-invocation-log", (35, 446, 0, 0, 0, 0))
    assert r.raw["identity"] == "arn:aws:sts::123456789012:assumed-role/analytics-app/i-0abc"
    assert r.raw["request_id"] == "915a6a04-3f83-4c70-a277-7fbf7ea546b3"
    assert r.raw["tags"] == ["traceId:b956002a-fd01-47ba-9da7-07e4c9b1a6b6"]
    assert "input" not in r.raw  # the bodies are dropped
    assert converse.cost.total == pytest.approx(35 * 1e-6 + 446 * 5e-6, rel=1e-12)
    # an inference-profile ARN is reduced to the profile id; inputTokenCount EXCLUDES the cache writes
    r = profile.record
    assert (r.model, counts(r)) == ("bedrock/us.anthropic.claude-3-7-sonnet-20250219-v1:0", (3 + 25037, 13, 0,
                                                                                            25037, 0, 0))
    assert profile.cost.total == pytest.approx(3 * 3e-6 + 25037 * 3.75e-6 + 13 * 1.5e-5, rel=1e-12)
    assert foundation.record.model == "bedrock/amazon.nova-micro-v1:0"
    assert foundation.cost.total == pytest.approx(1200 * 3.5e-8 + 300 * 1.4e-7, rel=1e-12)


def test_bedrock_application_profile_is_unpriced_not_guessed(tmp_path, engine):
    path = tmp_path / "app.jsonl"
    line = json.loads(BEDROCK.read_text().splitlines()[2])
    line["modelId"] = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5"
    path.write_text(json.dumps(line) + "\n")
    (found,) = outcomes(engine, path)
    assert isinstance(found, NotPriced)
    assert found.record.model == "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5"


# -- LiteLLM daily spend tables ---------------------------------------------------------------------------------
# claude-sonnet (config alias of claude-sonnet-4-5-20250929): in 3e-6, cache read 3e-7, write 3.75e-6, out 1.5e-5
# gpt-4o: in 2.5e-6, out 1e-5         gpt-4o-mini: in 1.5e-7, cache read 7.5e-8, out 6e-7
# gemini/gemini-2.5-pro: in 1.25e-6, out 1e-5; above 200k prompt tokens: in 2.5e-6, out 1.5e-5
def test_daily_user_spend_csv(tmp_path):
    engine = PricingEngine(load_cost_map(), load_config(write_config(tmp_path, DAILY_CONFIG)))
    found = outcomes(engine, DAILY_CSV)
    sonnet, gpt4o, failed = found
    r = sonnet.record
    assert (r.model, r.shape, counts(r), r.requests) == ("claude-sonnet", "litellm-daily-spend",
                                                         (1_200_000, 40_000, 800_000, 100_000, 0, 0), 210)
    assert (r.raw["user"], r.raw["date"], r.recorded_cost) == ("alice", "2025-12-01", 1.2345)
    assert r.raw["key"].startswith("88dc28d0") and r.timestamp == 1764547200.0
    assert sonnet.cost.total == pytest.approx(300_000 * 3e-6 + 800_000 * 3e-7 + 100_000 * 3.75e-6
                                              + 40_000 * 1.5e-5, rel=1e-12)
    assert gpt4o.cost.total == pytest.approx(50_000 * 2.5e-6 + 10_000 * 1e-5, rel=1e-12)
    assert isinstance(failed, Skipped) and failed.line == 4


def test_daily_rows_priced_at_the_mean_requests_band(engine):
    team, tag, gemini = priced(engine, DAILY_JSONL)
    assert (team.record.raw["team"], tag.record.raw["tags"]) == ("team-search", ["feature:summarise"])
    assert tag.record.model == "openai/gpt-4o-mini"  # no model_group: provider/model
    assert team.cost.total == pytest.approx(1_000_000 * 1.5e-7 + 1_000_000 * 7.5e-8 + 100_000 * 6e-7, rel=1e-12)
    # 10 requests of 150k prompt tokens: each below 200k, so the row is at the base rates though it sums 1.5M
    assert gemini.record.band_prompt_tokens == 150_000
    assert gemini.cost.total == pytest.approx(1_500_000 * 1.25e-6 + 30_000 * 1e-5, rel=1e-12)
    assert gemini.record.recorded_cost == 2.175


def test_csv_cells_and_bad_rows(tmp_path, engine):
    assert [cell(v) for v in ("", "12", "-3", "1.5", "1e-6", '{"a": 1}', "[1, 2]", "{not json", "gpt-4o")] == [
        None, 12, -3, 1.5, 1e-6, {"a": 1}, [1, 2], "{not json", "gpt-4o"]
    path = tmp_path / "rows.csv"
    path.write_text('model,prompt_tokens,completion_tokens,metadata\n'
                    'gpt-4o,100,10,"{""team"": ""search"",\n""project"": ""p1""}"\n'
                    'gpt-4o,100\n'
                    'gpt-4o,lots,10,\n')
    first, short, bad = outcomes(engine, path)
    assert isinstance(first, Priced) and first.record.line == 2 and first.record.raw["metadata"]["team"] == "search"
    assert first.cost.total == pytest.approx(100 * 2.5e-6 + 10 * 1e-5, rel=1e-12)
    assert isinstance(short, Rejected) and short.line == 4 and short.reason == "2 cells where the header names 4"
    assert isinstance(bad, Rejected) and bad.line == 5 and "prompt_tokens" in bad.reason


# -- Langfuse -----------------------------------------------------------------------------------------------------
# gpt-4o-2024-08-06: in 2.5e-6, cache read 1.25e-6, out 1e-5
# claude-haiku-4-5-20251001: in 1e-6, cache read 1e-7, write 1.25e-6, out 5e-6
def test_langfuse_observations(engine):
    found = outcomes(engine, LANGFUSE)
    openai, anthropic, span = found
    r = openai.record
    # additive usage types: input (200) EXCLUDES input_cached_tokens (1000); total 1350 is their sum with output
    assert (r.model, r.shape, counts(r)) == ("gpt-4o-2024-08-06", "langfuse", (1200, 150, 1000, 0, 0, 0))
    assert (r.raw["user"], r.raw["session"], r.raw["tags"], r.raw["trace_id"]) == ("user-7", "sess-3",
                                                                                   ["checkout"], "trace-42")
    assert r.recorded_cost == 0.00325 and r.duration_s == 2.5
    assert openai.cost.total == pytest.approx(200 * 2.5e-6 + 1000 * 1.25e-6 + 150 * 1e-5, rel=1e-12)
    r = anthropic.record
    assert counts(r) == (10 + 5000 + 2000, 400, 5000, 2000, 0, 0)
    assert anthropic.cost.total == pytest.approx(10 * 1e-6 + 5000 * 1e-7 + 2000 * 1.25e-6 + 400 * 5e-6, rel=1e-12)
    assert isinstance(span, Skipped) and span.reason == "a Langfuse span observation (no usage)"


def test_langfuse_inclusive_usage_is_not_counted_twice(tmp_path, engine):
    """An observation ingested with OpenAI's inclusive counts (``input`` holds its cached part, ``total`` is input
    plus output) keeps input as the prompt."""
    path = tmp_path / "inclusive.jsonl"
    path.write_text(json.dumps({"id": "o", "traceId": "t", "type": "GENERATION", "model": "gpt-4o-2024-08-06",
                                "usageDetails": {"input": 1200, "input_cached_tokens": 1000, "output": 150,
                                                 "total": 1350}}) + "\n")
    (found,) = priced(engine, path)
    assert counts(found.record) == (1200, 150, 1000, 0, 0, 0)


# -- every record against LiteLLM ----------------------------------------------------------------------------------

def test_every_record_matches_litellm(tmp_path):
    """Each record's cost equals LiteLLM 1.110.2's for the same call through a proxy with the same config (its own
    cost path, ``tests/litellm_oracle.py``); an aggregated record equals n times LiteLLM's cost of its mean
    request, n the requests with usage (the fixtures' buckets divide evenly; Anthropic's report counts no
    requests: its long-context bucket is two requests of 225k)."""
    pytest.importorskip("litellm", reason="pip install litellm==1.110.2 (the test extra)")
    import yaml

    from .litellm_oracle import ProxyOracle

    oracle = ProxyOracle(yaml.safe_load(DAILY_CONFIG)["model_list"])
    engine = PricingEngine(load_cost_map(), load_config(write_config(tmp_path, DAILY_CONFIG)))
    checked = 0
    for o in engine.run([str(p) for p in ALL]):
        if not isinstance(o, Priced):
            continue
        r = o.record
        n = 2 if r.band_prompt_tokens == 200_001 else r.prompt_tokens // r.band_prompt_tokens \
            if r.band_prompt_tokens else 1
        call = {"model": r.model, "prompt_tokens": r.prompt_tokens // n, "completion_tokens": r.completion_tokens // n,
                "cache_read_input_tokens": r.cache_read_tokens // n,
                "cache_creation_input_tokens": r.cache_write_tokens // n}
        for key, value in (("cache_creation_1h_input_tokens", r.cache_write_1h_tokens),
                           ("reasoning_tokens", r.reasoning_tokens)):
            if value:
                call[key] = value // n
        if r.batch:
            call["batch"] = True
        if r.extras is not None and r.extras.tools is not None:
            call["web_search_requests"] = r.extras.tools.server_tool_requests // n
        assert r.prompt_tokens % n == 0 and r.completion_tokens % n == 0, r  # the fixture divides evenly
        assert o.cost.total == pytest.approx(n * oracle.cost(call), rel=1e-9), (r.file, r.line, r.model)
        checked += 1
    assert checked == 26  # every priced record of the fixtures


# -- through the command line -------------------------------------------------------------------------------------

def test_price_counts_a_buckets_requests(capsys):
    assert main(["price", str(OPENAI), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["accounting"] == {**doc["accounting"], "read": 4, "priced": 2, "rejected": 1, "skipped": 1}
    assert doc["totals"]["requests"] == 500  # num_model_requests of the two buckets, not 2


def test_group_by_the_ids_of_each_source(capsys):
    assert main(["price", str(BEDROCK), "--group-by", "identity", "--format", "json"]) == 0
    groups = {g["key"]["identity"]: g["requests"] for g in json.loads(capsys.readouterr().out)["groups"]}
    assert groups == {"arn:aws:sts::123456789012:assumed-role/analytics-app/i-0abc": 1,
                      "arn:aws:sts::123456789012:assumed-role/support-bot/session-7": 2}
    assert main(["price", str(CLAUDE_CODE), str(OTEL), "--group-by", "service", "--format", "json"]) == 0
    groups = {g["key"]["service"]: g["requests"] for g in json.loads(capsys.readouterr().out)["groups"]}
    assert groups == {"claude-code": 2, "joke-bot": 1, "rag-api": 3}


@pytest.mark.parametrize("engine_name", ["python", "duckdb"])
def test_engines_agree_on_multi_record_lines(capsys, engine_name):
    """An OTLP line holds several records: the DuckDB engine leaves such lines to the Python reader, which gives
    every record of the line."""
    assert main(["price", str(OTEL), str(CLAUDE_CODE), "--format", "json", "--engine", engine_name]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["accounting"]["priced"], doc["accounting"]["skipped"]) == (6, 2)
    assert doc["totals"]["requests"] == 6


def test_engines_agree_on_every_source(capsys):
    """CSV files and JSON documents written over several lines are read whole by the Python reader whichever
    engine is asked for (DuckDB would read a pretty-printed page line by line)."""
    docs = []
    for engine_name in ("python", "duckdb"):
        assert main(["price", *map(str, ALL), "--format", "json", "--engine", engine_name]) == 0
        doc = json.loads(capsys.readouterr().out)
        docs.append((doc["accounting"], doc["totals"]))
    assert docs[0] == docs[1]
    assert docs[0][0]["read"] == 33 and docs[0][0]["rejected"] == 1


# -- other gateways' exports, and checking their numbers -----------------------------------------------------------
# gpt-4o: in 2.5e-6, out 1e-5    gpt-4o-mini-2024-07-18: in 1.5e-7, cache read 7.5e-8, out 6e-7
# claude-haiku-4-5-20251001: in 1e-6, cache read 1e-7, write 1.25e-6, out 5e-6
def test_portkey_and_helicone_exports(engine):
    found = outcomes(engine, PORTKEY, HELICONE)
    plain, cached, hit, cents, haiku, zero = found
    assert isinstance(hit, Skipped) and hit.reason == "served from Portkey's cache (HIT: no provider charge)"
    assert (plain.record.shape, counts(plain.record), plain.record.recorded_cost) == ("portkey",
                                                                                      (1000, 100, 0, 0, 0, 0), 0.0035)
    assert plain.cost.total == pytest.approx(1000 * 2.5e-6 + 100 * 1e-5, rel=1e-12)  # = the 0.35 cents recorded
    # the exported response body gives the cache reads that req_units alone would hide
    assert counts(cached.record) == (2000, 100, 1500, 0, 0, 0) and cached.record.raw["trace_id"] == "pk-trace-2"
    assert cached.cost.total == pytest.approx(500 * 1.5e-7 + 1500 * 7.5e-8 + 100 * 6e-7, rel=1e-12)
    # Helicone: prompt_tokens (10) below its cache counts is Anthropic's uncached input
    assert (haiku.record.shape, counts(haiku.record)) == ("helicone", (7010, 400, 5000, 2000, 0, 0))
    assert (haiku.record.raw["user"], haiku.record.recorded_cost) == ("user-42", 0.00451)
    assert haiku.cost.total == pytest.approx(10 * 1e-6 + 5000 * 1e-7 + 2000 * 1.25e-6 + 400 * 5e-6, rel=1e-12)
    assert cents.record.recorded_cost == pytest.approx(0.000035, rel=1e-12)
    assert zero.record.recorded_cost == 0


def test_reconcile_names_each_records_likely_cause(engine):
    """Each planted difference between another tool's price of a call and costcalc's, with its cause."""
    found = outcomes(engine, PORTKEY, HELICONE, LANGFUSE, CLAUDE_CODE, DAILY_JSONL)
    diffs = {(Path(d.file).name, d.line, d.model): d for d in record_differences(found, engine.price)}
    assert {k: d.cause for k, d in diffs.items()} == {
        # 0.036 cents = 2000 x 1.5e-7 + 100 x 6e-7: the 1500 cached tokens at the input rate
        ("portkey_logs_export.jsonl", 2, "gpt-4o-mini-2024-07-18"): "cache reads priced as uncached input",
        # 0.0035 in the cents column: a dollar figure
        ("portkey_logs_export.jsonl", 4, "gpt-4o"): "a unit mix-up: the recorded figure is in dollars where cents "
                                                    "were meant",
        # 0.00451 = 2010 x 1e-6 + 5000 x 1e-7 + 400 x 5e-6: the 2000 cache writes at the input rate
        ("helicone_export.jsonl", 1, "claude-haiku-4-5-20251001"): "cache writes priced as uncached input",
        ("helicone_export.jsonl", 2, "gpt-4o-mini"): "booked at $0: the tool had no price for the model (or did not "
                                                     "bill the request)",
        # Langfuse's 0.0041 matches no known mistake (costcalc: 0.00501)
        ("langfuse_observations.json", 2, "claude-haiku-4-5-20251001"): "a different price table: the tool's rates "
                                                                         "for claude-haiku-4-5-20251001 (recorded "
                                                                         "0.8184 x computed)",
    }
    haiku = diffs[("helicone_export.jsonl", 1, "claude-haiku-4-5-20251001")]
    assert (haiku.recorded, haiku.computed, haiku.difference) == (Decimal("0.00451"), Decimal("0.00501"),
                                                                  Decimal("0.0005"))


def test_reconcile_list_price_and_reasoning(tmp_path):
    """A tool that ignored the config's custom price booked the list price; one that dropped the reasoning tokens
    booked the output without them."""
    config = write_config(tmp_path, """
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, input_cost_per_token: 2.0e-6, output_cost_per_token: 8.0e-6}
""")
    engine = PricingEngine(load_cost_map(), load_config(config))
    bare = PricingEngine(load_cost_map())
    path = tmp_path / "tool.jsonl"
    path.write_text(json.dumps({"model": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 100,
                                "cost": 1000 * 2.5e-6 + 100 * 1e-5}) + "\n"
                    + json.dumps({"model": "o4-mini", "prompt_tokens": 900, "completion_tokens": 800,
                                  "reasoning_tokens": 512, "cost": 900 * 1.1e-6 + 288 * 4.4e-6}) + "\n")
    diffs = record_differences(engine.run([str(path)]), engine.price, bare.price)
    assert [(d.line, d.cause) for d in diffs] == [
        (1, "the public list price: the tool ignored the config's custom prices, discount or margin"),
        (2, "reasoning tokens not billed")]
    assert diffs[0].computed == Decimal("0.0028")  # 1000 x 2e-6 + 100 x 8e-6, exact


def test_price_reconcile_lists_each_records_cause(capsys):
    """``price --reconcile`` over files lists each differing record with its cause, beside the groups."""
    run = costcalc(capsys, "price", PORTKEY, HELICONE, "--reconcile", "--format", "json")
    assert run.code == 0
    records = {(Path(d["file"]).name, d["line"]): (d["recorded_cost"], d["computed_cost"], d["cause"])
               for d in json.loads(run.out)["record_differences"]}
    assert records == {
        ("portkey_logs_export.jsonl", 2): ("0.00036", "0.0002475", "cache reads priced as uncached input"),
        ("portkey_logs_export.jsonl", 4): ("0.000035", "0.0035", "a unit mix-up: the recorded figure is in dollars "
                                                                  "where cents were meant"),
        ("helicone_export.jsonl", 1): ("0.00451", "0.00501", "cache writes priced as uncached input"),
        ("helicone_export.jsonl", 2): ("0", "0.00021", "booked at $0: the tool had no price for the model (or did "
                                                       "not bill the request)")}
    markdown = costcalc(capsys, "price", PORTKEY, HELICONE, "--reconcile", "--format", "markdown").out
    assert "| record | model | recorded | computed | difference | likely cause |" in markdown
    # on screen in the report's money format (5 decimals: the smallest of the largest amounts is $0.00021)
    assert "helicone_export.jsonl:1 | claude-haiku-4-5-20251001 | $0.00451 | $0.00501 | +$0.00050 | cache writes " \
        "priced as uncached input |" in markdown
    assert "portkey_logs_export.jsonl:2 | gpt-4o-mini-2024-07-18 | $0.00036 | $0.00025 | -$0.00011 |" in markdown


def test_reconcile_lists_the_largest_differences_on_screen(tmp_path, capsys):
    """Sixty records booked at $0: JSON lists every one, the table and Markdown the 50 largest, in input order (the
    last ten, 1000-token prompts, then the first forty of the fifty equal 10-token ones)."""
    path = tmp_path / "zero.jsonl"
    path.write_text("".join(json.dumps({"model": "gpt-4o", "prompt_tokens": 1000 if i >= 50 else 10,
                                        "completion_tokens": 0, "cost": 0}) + "\n" for i in range(60)))
    doc = json.loads(costcalc(capsys, "price", path, "--reconcile", "--format", "json").out)
    assert len(doc["record_differences"]) == 60
    markdown = costcalc(capsys, "price", path, "--reconcile", "--format", "markdown").out
    listed = [line for line in markdown.splitlines() if line.startswith(f"| {path}:")]
    assert len(listed) == 50 and listed[-1].startswith(f"| {path}:60 |") and listed[39].startswith(f"| {path}:40 |")
    assert f"| {path}:41 |" not in markdown
    assert "60 record(s) whose recorded cost" in markdown and "the 50 largest differences shown" in markdown


def test_explain_shows_the_band_a_bucket_is_priced_at(capsys):
    """--explain on a daily row of 10 requests of 150k tokens: the base rates its cost uses, not the rates above
    200k tokens its 1.5M total would pick."""
    run = costcalc(capsys, "price", DAILY_JSONL, "--explain", "--line", "3")
    assert run.code == 0
    assert "input              1,500,000 × 1.25e-06 = 1.875" in run.out
    assert "output                30,000 × 1e-05 = 0.3" in run.out and "total 2.175 USD" in run.out


def test_a_pretty_printed_page_is_checked_as_an_array_element(tmp_path, engine):
    """A usage API page saved with curl (one object over many lines) is read whole, under the same structure checks
    as a JSON array's elements: a repeated key anywhere in it rejects the page, naming the key."""
    text = OPENAI.read_text().replace('"output_tokens": 90000,', '"output_tokens": 90000, "output_tokens": 1,')
    assert text != OPENAI.read_text()
    path = tmp_path / "page.json"
    path.write_text(text)
    (found,) = outcomes(engine, path)
    assert isinstance(found, Rejected) and found.line == 1 and "repeated key" in found.reason
    assert "output_tokens" in found.reason
