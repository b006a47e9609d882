"""A spend-log row's per-record line (``--format jsonl``, ``--format csv --per-record``) byte for byte, and the
cheap checks the per-record path takes on the common row (a line as orjson writes it, ISO start and end times, a
CSV row without formula starts) giving the same answers as the long way on the rows that need it (issue 22)."""

from __future__ import annotations

import json

import orjson
import pytest

from costcalc.reading.jsonl import MAX_JSON_DEPTH
from costcalc.reading.records import duration, iso_span, parse_time

from .runner import costcalc

# team-model (deployment dep-1) at its own prices, a 10% discount for openai and a margin of 5% plus $0.001
CONFIG = """\
model_list:
  - model_name: team-model
    litellm_params: {model: openai/my-model}
    model_info: {id: dep-1, input_cost_per_token: 2.0e-6, output_cost_per_token: 8.0e-6,
                 cache_read_input_token_cost: 5.0e-7}
litellm_settings:
  cost_discount_config: {openai: 0.1}
  cost_margin_config: {global: {percentage: 0.05, fixed_amount: 0.001}}
"""

USAGE = {"prompt_tokens": 1200, "completion_tokens": 300, "prompt_tokens_details": {"cached_tokens": 400},
         "completion_tokens_details": {"reasoning_tokens": 100}}
METADATA = {"user_api_key_alias": "key-a", "user_api_key_team_id": "team-1", "user_api_key_team_alias": "research",
            "user_api_key_user_id": "user-9", "usage_object": USAGE}


def spend_log_row(**changes: object) -> dict[str, object]:
    """A LiteLLM_SpendLogs row as the proxy exports it: metadata and tags as JSON text."""
    row = {"request_id": "req-1", "call_type": "acompletion", "api_key": "hashed-key-1", "spend": 0.0123,
           "prompt_tokens": 1200, "completion_tokens": 300, "startTime": "2026-10-01T00:00:00+00:00",
           "endTime": "2026-10-01T00:00:02.500000+00:00", "model": "my-model", "model_id": "dep-1",
           "model_group": "team-model", "custom_llm_provider": "openai", "user": "u-1",
           "metadata": json.dumps(METADATA), "cache_hit": "False", "request_tags": json.dumps(["prod", "eu"]),
           "team_id": "team-1", "end_user": "", "status": "success"}
    row.update(changes)
    return row


# Hand arithmetic, exact decimals:
#   uncached input  (1200 - 400 cached) x 2e-6            = 0.0016
#   cache read       400 x 5e-7                            = 0.0002
#   output          (300 - 100 reasoning) x 8e-6 + 100 x 8e-6 (reasoning at the output rate) = 0.0024
#   base            0.0016 + 0.0002 + 0.0024               = 0.0042
#   discount        10% of 0.0042                          = -0.00042
#   margin          5% of (0.0042 - 0.00042) + 0.001       = 0.000189 + 0.001 = 0.001189
#   total           0.0042 - 0.00042 + 0.001189            = 0.004969
JSONL_LINE = (
    '{"file":"%s","line":%d,"request_id":"req-1","team_id":"team-1","team_alias":"research","user_id":"user-9",'
    '"key_alias":"key-a","key_id":"hashed-key-1","model":"team-model","status":"priced","approximate":"",'
    '"cost":0.004969,"cost_parts":{"uncached_input":0.0016,"cache_read":0.0002,"cache_write_5m":0,'
    '"cache_write_1h":0,"output":0.0024,"discount":-0.00042,"margin":0.001189},'
    '"deployment":"team-model (id dep-1)","provider":"openai","map_key":null,"shape":"litellm-spend-log",'
    '"tokens":{"prompt":1200,"completion":300,"cache_read":400,"cache_write":0,"cache_write_1h":0,"reasoning":100},'
    '"prices":{"input":{"key":"input_cost_per_token","rate":2e-6,"source":"config:model_info"},'
    '"cache_read":{"key":"cache_read_input_token_cost","rate":5e-7,"source":"config:model_info"},'
    '"output":{"key":"output_cost_per_token","rate":8e-6,"source":"config:model_info"},'
    '"reasoning":{"key":"output_cost_per_token","rate":8e-6,"source":"config:model_info"}},"recorded_cost":0.0123}'
)
CSV_ROW = ("%s,%d,priced,2026-10-01T00:00:00Z,req-1,research,u-1,key-a,,prod;eu,team-model,team-model (id dep-1),"
           "openai,1200,800,400,0,0,300,100,0.0016,0.0002,0,0,0.0024,-0.00042,0.001189,0.004969,0.0123,,,"
           "team-1,research,user-9,key-a,hashed-key-1")


def _write(tmp_path, lines: list[str]):
    (tmp_path / "config.yaml").write_text(CONFIG)
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    return path


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_spend_log_row_exports_byte_for_byte(capsys, tmp_path, jobs):
    # the same row as a compact export writes it (orjson's own bytes) and as Python's json.dumps spaces it: the
    # cheap structure check takes the first, the colon count the second; both price to the same line
    compact = json.dumps(spend_log_row(), separators=(",", ":"))
    assert orjson.dumps(orjson.loads(compact)).decode() == compact
    path = _write(tmp_path, [compact, json.dumps(spend_log_row(request_id="req-2"))])
    code, out, _ = costcalc(capsys, "price", path, "--config", tmp_path / "config.yaml", "--format", "jsonl",
                            "-j", jobs)
    assert code == 0
    assert out.splitlines() == [JSONL_LINE % (path, 1), (JSONL_LINE % (path, 2)).replace('"req-1"', '"req-2"')]
    code, out, _ = costcalc(capsys, "price", path, "--config", tmp_path / "config.yaml", "--format", "csv",
                            "--per-record", "-j", jobs)
    assert code == 0
    lines = out.splitlines()
    assert lines[1:] == [CSV_ROW % (path, 1), (CSV_ROW % (path, 2)).replace(",req-1,", ",req-2,")]


def test_compact_lines_with_a_repeated_key_or_too_deep_are_still_rejected(capsys, tmp_path):
    row = json.dumps(spend_log_row(), separators=(",", ":"))
    repeated = row[:-1] + ',"team_id":"team-2"}'  # orjson keeps the last value, DuckDB the first
    deep = row[:-1] + ',"extra":' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "}"
    path = _write(tmp_path, [repeated, deep])
    code, out, _ = costcalc(capsys, "price", path, "--config", tmp_path / "config.yaml", "--format", "jsonl")
    assert code == 0
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["status"] == "rejected" and first["reason"].startswith('repeated key "team_id"')
    assert second["status"] == "rejected" and second["reason"].startswith(f"nested deeper than {MAX_JSON_DEPTH}")


@pytest.mark.parametrize("times", [
    {"startTime": "2026-10-01T00:00:00Z", "endTime": "2026-10-01T01:30:00.000001+01:00"},  # 30 min, 1 µs
    {"startTime": "2026-10-01T00:00:00", "endTime": "2026-10-01T00:00:00"},  # naive: UTC; no time taken
    {"startTime": "2026-10-01T00:00:00Z", "endTime": "2026-10-01T00:00:00Z", "duration_s": 3.5},
    {"startTime": "2026-10-01T00:00:00Z", "endTime": "2026-10-01T00:00:00Z", "response_time_ms": 1200},
    {"startTime": 1790812800, "endTime": "2026-10-01T00:00:01Z"},
    {"startTime": "2026-10-01T00:00:00Z"},
])
def test_iso_times_read_once_agree_with_duration_and_parse_time(times):
    span = iso_span(times)
    if span is None:  # anything but two ISO times and no duration of its own: read the long way
        assert "duration_s" in times or "response_time_ms" in times or not all(
            isinstance(times.get(k), str) for k in ("startTime", "endTime"))
        return
    assert span == (parse_time(times["startTime"], "startTime"), duration(times))


@pytest.mark.parametrize("times", [
    {"startTime": "2026-10-01T00:00:02Z", "endTime": "2026-10-01T00:00:01Z"},  # negative
    {"startTime": "0001-01-01T00:00:00+14:00", "endTime": "2026-10-01T00:00:01Z"},  # out of range
    {"startTime": "2026-10-01T00:00:00Z", "endTime": "noon"},
])
def test_times_the_long_way_rejects_are_left_to_it(capsys, tmp_path, times):
    assert iso_span(times) is None
    path = _write(tmp_path, [json.dumps(spend_log_row(**times), separators=(",", ":"))])
    code, out, _ = costcalc(capsys, "price", path, "--config", tmp_path / "config.yaml", "--format", "jsonl")
    assert code == 0
    record = json.loads(out)
    assert record["status"] == "rejected" and record["reason"].split(":")[0] in ("endTime", "startTime")


def test_csv_rows_from_hostile_names_take_the_long_way(capsys, tmp_path):
    # a team alias that starts a formula is neutralised, a carriage return quotes the whole row; a row with
    # neither is written as is (the one-search check)
    meta = {**METADATA, "user_api_key_team_alias": "=HYPERLINK(\"http://evil.example\")"}
    rows = [spend_log_row(metadata=json.dumps(meta)), spend_log_row(request_id="req\r2")]
    path = _write(tmp_path, [json.dumps(r, separators=(",", ":")) for r in rows])
    code, out, _ = costcalc(capsys, "price", path, "--config", tmp_path / "config.yaml", "--format", "csv",
                            "--per-record")
    assert code == 0
    formula, quoted = out.split("\n")[1:3]
    assert ",\"'=HYPERLINK(\"\"http://evil.example\"\")\",u-1," in formula
    assert quoted.startswith('"') and quoted.endswith('"hashed-key-1"') and '"req\r2"' in quoted
