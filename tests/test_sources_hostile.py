"""The issue-25 readers on the variations real exports hold and on hostile input: every span, event, bucket and
row ends up priced, unpriced, rejected or skipped with its reason, never an internal error, and the report's
accounting adds up.

Prices come from the test's own map (``PRICES``): m-chat $1 per million input tokens, $0.10 per million cached
input tokens, $1.50 per million cache-write tokens, $2 per million output tokens.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from costcalc.engines.streaming import Priced, PricingEngine
from costcalc.reading.records import Rejected, Skipped, epoch_micros, parse_time

from .conftest import make_map

PRICES = {"m-chat": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-6,
                     "cache_read_input_token_cost": 1e-7, "cache_creation_input_token_cost": 1.5e-6,
                     "output_cost_per_token": 2e-6}}
PRICES["m-bedrock"] = {**PRICES["m-chat"], "litellm_provider": "bedrock"}  # Bedrock's modelId, priced as bedrock/…
NS = "1733443200000000000"  # 2024-12-06T00:00:00Z in Unix nanoseconds, as OTLP/JSON writes it (a string)


@pytest.fixture(scope="module")
def engine() -> PricingEngine:
    return PricingEngine(make_map(PRICES))


def run(engine: PricingEngine, path: Path) -> list[Any]:
    return list(engine.run([str(path)]))


def kv(key: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"key": key, "value": value}


def otlp(*attribute_lists: list[dict[str, Any]], start: Any = NS) -> dict[str, Any]:
    spans = [{"traceId": "t", "spanId": f"s{i}", "startTimeUnixNano": start, "attributes": attrs}
             for i, attrs in enumerate(attribute_lists)]
    return {"resourceSpans": [{"resource": {"attributes": [kv("service.name", {"stringValue": "svc"})]},
                               "scopeSpans": [{"scope": {"name": "x"}, "spans": spans}]}]}


def write_lines(path: Path, *objs: Any) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objs))
    return path


MODEL = kv("gen_ai.request.model", {"stringValue": "m-chat"})


def test_otlp_value_encodings_and_nested_attributes(engine, tmp_path):
    path = write_lines(tmp_path / "spans.jsonl", otlp(
        # int64 as a string (the OTLP/JSON mapping), as a JSON number, and a double
        [MODEL, kv("gen_ai.usage.input_tokens", {"intValue": "1000"}),
         kv("gen_ai.usage.output_tokens", {"intValue": 100})],
        [MODEL, kv("gen_ai.usage.input_tokens", {"doubleValue": 2000.0}),
         kv("gen_ai.usage.cache_read.input_tokens", {"intValue": "500"}),
         kv("gen_ai.usage.output_tokens", {"doubleValue": 10})],
        # usage nested as a kvlist: gen_ai.usage {input_tokens, output_tokens}
        [MODEL, kv("gen_ai.usage", {"kvlistValue": {"values": [kv("input_tokens", {"intValue": "300"}),
                                                                 kv("output_tokens", {"intValue": "30"})]}}),
         kv("tags", {"arrayValue": {"values": [{"stringValue": "a"}, {"stringValue": "b"}]}})],
    ))
    found = run(engine, path)
    assert [type(o) for o in found] == [Priced] * 3
    a, b, c = found
    # 1000 × $1e-6 + 100 × $2e-6 = $0.0012
    assert a.cost.total == pytest.approx(0.0012, rel=1e-12)
    # 1500 uncached × 1e-6 + 500 cached × 1e-7 + 10 × 2e-6 = 0.0015 + 0.00005 + 0.00002 = 0.00157
    assert (b.record.prompt_tokens, b.record.cache_read_tokens) == (2000, 500)
    assert b.cost.total == pytest.approx(0.00157, rel=1e-12)
    # 300 × 1e-6 + 30 × 2e-6 = 0.00036
    assert (c.record.prompt_tokens, c.record.completion_tokens) == (300, 30)
    assert c.cost.total == pytest.approx(0.00036, rel=1e-12)
    assert c.record.raw["attributes"]["tags"] == ["a", "b"]
    assert a.record.timestamp == 1733443200.0


def test_malformed_otlp_values_reject_their_span_only(engine, tmp_path):
    usage = [kv("gen_ai.usage.input_tokens", {"intValue": "10"}), kv("gen_ai.usage.output_tokens", {"intValue": "1"})]
    path = write_lines(tmp_path / "bad.jsonl",
                       otlp([MODEL, *usage, kv("x", {"arrayValue": "not a list"})],
                            [MODEL, *usage, kv("y", {"kvlistValue": {"values": 5}})],
                            [MODEL, *usage, kv("z", {"arrayValue": [{"stringValue": "bare list"}]})],
                            [MODEL, kv("gen_ai.usage.input_tokens", {"intValue": str(10**30)})],
                            [MODEL, kv("gen_ai.operation.name", {"stringValue": "chat"})],  # no usage
                            [kv("gen_ai.operation.name", {"stringValue": "execute_tool"})]),
                       otlp([MODEL, *usage], start="99999999999999999999999"),  # 1e23 ns: the year 5138
                       otlp([MODEL, *usage], start="2024-12-06T00:00:00Z"),
                       {"resourceSpans": [{"resource": ["not", "an", "object"], "scopeSpans": []}]})
    found = run(engine, path)
    kinds = [type(o).__name__ for o in found]
    assert kinds == ["Rejected", "Rejected", "Priced", "Rejected", "Skipped", "Skipped", "Rejected", "Rejected",
                     "Rejected"]
    reasons = [o.reason for o in found if isinstance(o, (Rejected, Skipped))]
    span = "resourceSpans[0].scopeSpans[0].spans"  # each rejection names its span's place in the export
    assert reasons[0] == f"{span}[0]: attributes.x.arrayValue: must be an object with a list of values"
    assert reasons[1] == f"{span}[1]: attributes.y.kvlistValue: must be an object with a list of values"
    assert reasons[2] == (f"{span}[3]: gen_ai.usage.input_tokens: token count must be a whole number from 0 to "
                          "2^53-1, got 1000000000000000000000000000000")
    assert reasons[3].startswith("a span calling m-chat without GenAI token usage: its cost is unknown")
    assert reasons[4] == "a span without GenAI token usage"
    assert reasons[5] == (f"{span}[0]: startTimeUnixNano: timestamp out of range (years 1 to 9999): "
                          '"99999999999999999999999"')
    assert reasons[6] == f"{span}[0]: startTimeUnixNano: must be Unix nanoseconds, got '2024-12-06T00:00:00Z'"
    assert reasons[7] == "resourceSpans[0].resource: must be an object"
    # 10 × 1e-6 + 1 × 2e-6
    assert found[2].cost.total == pytest.approx(0.000012, rel=1e-12)


@pytest.mark.parametrize(("value", "seconds"), [
    (1744272720, 1744272720.0),  # seconds
    (1744272720123, 1744272720.123),  # milliseconds
    (1744272720123456, 1744272720.123456),  # microseconds
    (1744272720123456789, 1744272720.123456789),  # nanoseconds
    ("1744272720123456789", 1744272720.123456789),
    ("2025-04-10T08:12:00.123456Z", 1744272720.123456),
    ("2025-04-10T10:12:00.123456+02:00", 1744272720.123456),
    ("2025-04-10T08:12:00.123456", 1744272720.123456),  # naive: UTC
])
def test_epoch_seconds_milli_micro_and_nanoseconds(value, seconds):
    assert parse_time(value, "t") == pytest.approx(seconds, abs=1e-6)
    assert epoch_micros(value, "t") == round(seconds * 1_000_000)


def test_bedrock_times_in_every_unit(engine, tmp_path):
    def log(n: int, when: Any) -> dict[str, Any]:
        return {"schemaType": "ModelInvocationLog", "timestamp": when, "requestId": f"r{n}", "modelId": "m-bedrock",
                "input": {"inputTokenCount": 100}, "output": {"outputTokenCount": 10}}

    path = write_lines(tmp_path / "b.jsonl", log(1, 1744272720123456789), log(2, 1744272720123456),
                       log(3, "2025-04-10 10:12:00.123456+02:00"), log(4, 10**21))
    found = run(engine, path)
    assert [o.record.timestamp for o in found[:3]] == pytest.approx([1744272720.123457] * 3, abs=1e-6)
    assert isinstance(found[3], Rejected) and found[3].reason.startswith("timestamp: timestamp out of range")


OPENAI_RESULT = {"object": "organization.usage.completions.result", "input_tokens": 1000, "output_tokens": 100,
                 "input_cached_tokens": 200, "num_model_requests": 2, "project_id": None, "user_id": None,
                 "api_key_id": None, "model": "m-chat", "batch": None}


def bucket(*results: Any, start: Any = 1730419200) -> dict[str, Any]:
    return {"object": "bucket", "start_time": start, "end_time": 1730505600, "results": list(results)}


def test_openai_usage_pages_empty_embeddings_and_bad_buckets(engine, tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"object": "page", "data": [bucket(), bucket()], "has_more": False,
                                 "next_page": None}, indent=2))
    found = run(engine, empty)
    assert len(found) == 1 and isinstance(found[0], Skipped)
    assert found[0].reason == "OpenAI usage without results (no usage in its buckets)"

    embeddings = {"object": "organization.usage.embeddings.result", "input_tokens": 5000, "num_model_requests": 5,
                  "model": "m-chat"}
    images = {"object": "organization.usage.images.result", "images": 3, "num_model_requests": 3,
              "model": "dall-e-3"}
    costs = {"object": "organization.costs.result", "amount": {"value": 0.06, "currency": "usd"}}
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"object": "page", "has_more": True, "next_page": "page_AAAA", "data": [
        bucket(OPENAI_RESULT, embeddings, images, costs, dict(OPENAI_RESULT, input_tokens="1000")),
        bucket(OPENAI_RESULT, start="yesterday"),  # a bad bucket loses its results only
        bucket(dict(OPENAI_RESULT, model="m-chat")),
    ]}))
    found = run(engine, page)
    kinds = [type(o).__name__ for o in found]
    assert kinds == ["Priced", "Priced", "Rejected", "Rejected", "Rejected", "Rejected", "Priced"]
    completions, embedded = found[0], found[1]
    # 800 uncached × 1e-6 + 200 cached × 1e-7 + 100 × 2e-6 = 0.0008 + 0.00002 + 0.0002 = 0.00102 for 2 requests
    assert completions.cost.total == pytest.approx(0.00102, rel=1e-12) and completions.record.requests == 2
    # 5000 × 1e-6
    assert embedded.cost.total == pytest.approx(0.005, rel=1e-12) and embedded.record.requests == 5
    reasons = [o.reason for o in found if isinstance(o, Rejected)]
    assert reasons[0] == ("OpenAI usage: data[0].results[2].object: 'organization.usage.images.result' is not priced "
                          "by costcalc (only the completions and embeddings usage carry token counts)")
    assert reasons[1] == ("OpenAI usage: data[0].results[3].object: 'organization.costs.result' is a costs result: "
                          "amounts, not usage (compare costs with --reconcile-with)")
    assert reasons[2].startswith("OpenAI usage: data[0].results[4].input_tokens: token count must be a whole number")
    assert reasons[3] == 'OpenAI usage: data[1].start_time: not an ISO 8601 time or epoch seconds: "yesterday"'


def test_anthropic_usage_page_of_empty_buckets_is_skipped(engine, tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"data": [{"starting_at": "2025-08-01T00:00:00Z", "ending_at": "2025-08-02T00:00:00Z",
                                          "results": []}], "has_more": False, "next_page": None}))
    found = run(engine, path)
    assert len(found) == 1 and isinstance(found[0], Skipped)
    assert found[0].reason == "Anthropic usage without results (no usage in its buckets)"


def test_bedrock_s3_delivery_gzip(engine, tmp_path):
    folder = tmp_path / "AWSLogs" / "123" / "BedrockModelInvocationLogs" / "us-east-1" / "2025" / "04" / "10" / "08"
    folder.mkdir(parents=True)
    with gzip.open(folder / "20250410T0812Z_abc.json.gz", "wt") as f:
        for n in range(3):
            f.write(json.dumps({"schemaType": "ModelInvocationLog", "timestamp": "2025-04-10T08:12:00Z",
                                "requestId": f"r{n}", "modelId": "m-bedrock",
                                "input": {"inputTokenCount": 100, "cacheReadInputTokenCount": 50},
                                "output": {"outputTokenCount": 10}}) + "\n")
    found = run(engine, next(folder.iterdir()))
    # each: 100 uncached × 1e-6 + 50 cached × 1e-7 + 10 × 2e-6 = 0.000125
    assert [o.cost.total for o in found] == pytest.approx([0.000125] * 3, rel=1e-12)
    assert [o.record.prompt_tokens for o in found] == [150] * 3


@pytest.mark.parametrize("width", [60, 80])
def test_reconcile_on_narrow_terminals_cuts_no_amount_or_cause(capsys, monkeypatch, width):
    """--reconcile on an 80- and a 60-column terminal: the record differences (and at 60 the groups) are listed
    one block per row, every amount whole and every likely cause whole (the fixtures' values: Langfuse line 2
    recorded $0.0041 against $0.00501 computed, Portkey line 4's 0.0035 written in the cents column)."""
    from .runner import costcalc

    monkeypatch.setenv("COLUMNS", str(width))
    data = Path(__file__).parent / "data" / "sources"
    out = costcalc(capsys, "price", data / "langfuse_observations.json", data / "portkey_logs_export.jsonl",
                   "--reconcile").out
    section = out[out.index("reconcile:"):]
    assert all(len(line) <= width for line in section.splitlines())
    flat = " ".join(section.split())
    assert "recorded $0.00410 computed $0.00501 difference +$0.00091" in flat
    assert "recorded $0.00004 computed $0.00350 difference +$0.00346 likely cause: a unit mix-up: the recorded " \
           "figure is in dollars where cents were meant" in flat
    if width == 60:
        assert "gpt-4o records 2 booked $ $0.00354 costcalc $ $0.00700" in flat


def test_otlp_metrics_and_claude_code_error_events_are_skipped_with_their_reason(engine, tmp_path):
    metrics = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "claude_code.token.usage", "sum": {
        "dataPoints": [{"asDouble": 1200, "attributes": [kv("type", {"stringValue": "input"})]}]}}]}]}]}
    error = {"resourceLogs": [{"scopeLogs": [{"logRecords": [{
        "timeUnixNano": NS, "body": {"stringValue": "claude_code.api_error"},
        "attributes": [kv("event.name", {"stringValue": "api_error"}), kv("model", {"stringValue": "m-chat"}),
                       kv("error", {"stringValue": "overloaded"}), kv("status_code", {"stringValue": "529"})]}]}]}]}
    found = run(engine, write_lines(tmp_path / "cc.jsonl", metrics, error))
    assert [(type(o), o.reason) for o in found] == [
        (Skipped, "an OTLP metrics export: counters summed over time, not one record per call (export the traces "
                  "or the log events)"),
        (Skipped, "a claude_code.api_error event without GenAI token usage")]


def test_audit_sections_in_markdown_escape_what_the_input_names(capsys, tmp_path):
    """A file name with a pipe, angle brackets and a line break stays inside its Markdown cell."""
    from .runner import costcalc

    hostile = tmp_path / "we|i<r>d\nname.json"
    hostile.write_bytes((Path(__file__).parent / "data" / "sources" / "langfuse_observations.json").read_bytes())
    out = costcalc(capsys, "price", hostile, "--reconcile", "--format", "markdown").out
    row = next(line for line in out.splitlines() if "claude-haiku-4-5-20251001 | $0.0041" in line)
    assert row.startswith(f"| {tmp_path}/we\\|i&lt;r&gt;d name.json:2 | claude-haiku-4-5-20251001 | $0.0041 | "
                          "$0.0050 |")
    assert row.count(" | ") == 5  # six cells


def test_a_bad_resource_or_scope_loses_its_own_spans_only(engine, tmp_path):
    usage = [MODEL, kv("gen_ai.usage.input_tokens", {"intValue": "10"}), kv("gen_ai.usage.output_tokens",
                                                                           {"intValue": "1"})]
    good = otlp(usage)["resourceSpans"][0]
    export = {"resourceSpans": [{"resource": {"attributes": "bad"}, "scopeSpans": good["scopeSpans"]},
                                {"scopeSpans": ["not a scope", *good["scopeSpans"]]}, good, "not a resource"]}
    found = run(engine, write_lines(tmp_path / "r.jsonl", export))
    assert [type(o).__name__ for o in found] == ["Rejected", "Rejected", "Priced", "Priced", "Rejected"]
    assert [o.reason for o in found if isinstance(o, Rejected)] == [
        "resourceSpans[0].resource.attributes: must be a list of {key, value}",
        "resourceSpans[1].scopeSpans[0]: must be an object", "resourceSpans[3]: must be an object"]
    # each span read: 10 × 1e-6 + 1 × 2e-6
    assert [o.cost.total for o in found if isinstance(o, Priced)] == pytest.approx([0.000012] * 2, rel=1e-12)


def test_bedrock_logs_as_cloudwatch_logs_returns_them(engine, tmp_path):
    """``aws logs filter-log-events`` output: each event's message is an invocation log as a JSON string."""
    def message(n: int, **input_counts: Any) -> str:
        return json.dumps({"schemaType": "ModelInvocationLog", "timestamp": "2025-04-10T08:12:00Z",
                           "requestId": f"cw-{n}", "modelId": "m-bedrock", "identity": {"arn": "arn:aws:iam::1:user/a"},
                           "input": {"inputTokenCount": 100, **input_counts}, "output": {"outputTokenCount": 10}})

    page = {"events": [{"timestamp": 1744272720000, "message": message(1, cacheReadInputTokenCount=50)},
                       {"timestamp": 1744272720000, "message": message(2, inputTokenCount=-1)},
                       {"timestamp": 1744272720000, "message": "{truncated"}],
            "searchedLogStreams": [], "nextToken": "abc"}
    path = tmp_path / "cloudwatch.json"
    path.write_text(json.dumps(page, indent=2))
    first, bad, broken = run(engine, path)
    # 100 uncached × 1e-6 + 50 cached × 1e-7 + 10 × 2e-6 = 0.000125
    assert first.cost.total == pytest.approx(0.000125, rel=1e-12)
    assert (first.record.prompt_tokens, first.record.raw["identity"]) == (150, "arn:aws:iam::1:user/a")
    assert bad.reason == ("events[1]: input.inputTokenCount: token count must be a whole number from 0 to 2^53-1, "
                          "got -1")
    assert broken.reason.startswith("events[2].message: not valid JSON")


def test_openai_cache_writes_and_sentry_spellings(engine, tmp_path):
    """OpenAI's usage results count cache writes (``input_cache_write_tokens``) inside ``input_tokens``, as they do
    cache reads; Sentry's GenAI attributes name the parts under the total (``gen_ai.usage.input_tokens.cached``,
    ``.cache_write``, ``gen_ai.usage.output_tokens.reasoning``)."""
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"object": "page", "data": [bucket(dict(OPENAI_RESULT, input_cache_write_tokens=300))]}))
    (found,) = run(engine, page)
    assert (found.record.prompt_tokens, found.record.cache_read_tokens, found.record.cache_write_tokens) == \
        (1000, 200, 300)
    # 500 uncached × 1e-6 + 200 read × 1e-7 + 300 written × 1.5e-6 + 100 × 2e-6 = 0.0005 + 0.00002 + 0.00045 + 0.0002
    assert found.cost.total == pytest.approx(0.00117, rel=1e-12)
    spans = write_lines(tmp_path / "sentry.jsonl", otlp(
        [MODEL, kv("gen_ai.usage.input_tokens", {"intValue": "1000"}),
         kv("gen_ai.usage.input_tokens.cached", {"intValue": "600"}),
         kv("gen_ai.usage.input_tokens.cache_write", {"intValue": "100"}),
         kv("gen_ai.usage.output_tokens", {"intValue": "50"}),
         kv("gen_ai.usage.output_tokens.reasoning", {"intValue": "20"})]))
    (span,) = run(engine, spans)
    r = span.record
    assert (r.prompt_tokens, r.cache_read_tokens, r.cache_write_tokens, r.completion_tokens, r.reasoning_tokens) == \
        (1000, 600, 100, 50, 20)
    # 300 uncached × 1e-6 + 600 × 1e-7 + 100 × 1.5e-6 + 50 × 2e-6 = 0.0003 + 0.00006 + 0.00015 + 0.0001
    assert span.cost.total == pytest.approx(0.00061, rel=1e-12)
