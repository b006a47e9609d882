"""Log-reading edge cases real users hit: failed Bedrock invocations, CloudWatch Logs exported to S3, what a
directory given as input is searched for, and LiteLLM daily rows of calls the proxy made itself."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from .engine_check import lines_left_to_python
from .runner import costcalc, priced_records

BEDROCK = Path(__file__).parent / "data" / "sources" / "bedrock_invocation_logs.jsonl"
# anthropic.claude-haiku-4-5-20251001-v1:0: in 1e-6, out 5e-6; its first line: 35 input, 446 output tokens
HAIKU_LINE = 35 * 1e-6 + 446 * 5e-6


def _bedrock_lines() -> list[dict]:
    return [json.loads(line) for line in BEDROCK.read_text().splitlines()]


def _failed(log: dict, code: str) -> dict:
    # a failed invocation as Bedrock logs it: errorCode set, the input's token count kept, no output
    return {**log, "errorCode": code, "requestId": f"failed-{code}", "output": {"outputContentType": None}}


def test_a_failed_bedrock_invocation_is_skipped_with_its_error(capsys, tmp_path):
    first = _bedrock_lines()[0]
    rows = [first, _failed(first, "ThrottlingException"), _failed(first, "ValidationException")]
    ok, throttled, invalid = priced_records(capsys, tmp_path, rows)
    assert ok["status"] == "priced" and ok["cost"] == pytest.approx(HAIKU_LINE, rel=1e-12)
    assert throttled["status"] == "skipped"
    assert throttled["reason"] == "a failed Bedrock invocation (errorCode ThrottlingException): not billed"
    assert invalid["status"] == "skipped" and "ValidationException" in invalid["reason"]
    lines_left_to_python(capsys, tmp_path, rows)  # the same report from both engines


def test_a_failed_invocation_inside_a_cloudwatch_page_is_skipped(capsys, tmp_path):
    first = _bedrock_lines()[0]
    page = {"events": [{"timestamp": 1, "message": json.dumps(log)}
                       for log in (first, _failed(first, "ModelTimeoutException"))]}
    ok, failed = priced_records(capsys, tmp_path, [page])
    assert ok["status"] == "priced" and failed["status"] == "skipped" and "ModelTimeoutException" in failed["reason"]


def test_an_error_code_that_is_not_a_string_is_rejected_naming_the_field(capsys, tmp_path):
    (found,) = priced_records(capsys, tmp_path, [{**_bedrock_lines()[0], "errorCode": 429}])
    assert found["status"] == "rejected" and "errorCode" in found["reason"]


def _export_lines() -> list[str]:
    # what `aws logs create-export-task` writes to S3: the event's timestamp, a space, the message
    return [f"2025-04-10T08:12:3{i}.{i}00Z {json.dumps(log)}" for i, log in enumerate(_bedrock_lines())]


@pytest.mark.parametrize("compressed", [False, True])
def test_cloudwatch_logs_exported_to_s3_are_read(capsys, tmp_path, compressed):
    text = "\n".join(_export_lines()) + "\n"
    plain = tmp_path / "plain.jsonl"
    plain.write_text("\n".join(line.split(" ", 1)[1] for line in _export_lines()) + "\n")  # the messages alone
    export = tmp_path / ("000000.gz" if compressed else "000000")
    export.write_bytes(gzip.compress(text.encode()) if compressed else text.encode())
    code, out, err = costcalc(capsys, "price", export, "--format", "json")
    assert code == 0, err
    code, same, _ = costcalc(capsys, "price", plain, "--format", "json")
    read = json.loads(out)
    assert read["accounting"]["priced"] == 3 and read["accounting"]["rejected"] == 0
    # the report is the one its messages alone give (the timestamp prefix is CloudWatch's, not the record's)
    assert read["totals"] == json.loads(same)["totals"]
    for engine in ("python", "duckdb"):
        assert costcalc(capsys, "price", export, "--format", "json", "--engine", engine).out == out


def test_a_line_that_only_starts_like_an_export_is_still_rejected(capsys, tmp_path):
    src = tmp_path / "bad.jsonl"
    src.write_text('2025-04-10T08:12:30Z {"model": "gpt-4o", "prompt_tokens": \nnot json\n')
    code, out, _ = costcalc(capsys, "price", src, "--format", "json")
    assert code == 0 and json.loads(out)["accounting"]["rejected"] == 2


def test_a_directory_is_searched_for_every_json_file_the_readers_take(capsys, tmp_path):
    record = {"model": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 10}
    logs = tmp_path / "logs"
    (logs / "sub").mkdir(parents=True)
    (logs / "a.jsonl").write_text(json.dumps(record) + "\n")
    (logs / "b.ndjson.gz").write_bytes(gzip.compress((json.dumps(record) + "\n").encode()))
    (logs / "sub" / "c.json").write_text(json.dumps([record, record], indent=2))  # a /spend/logs array
    (logs / "sub" / "d.json.gz").write_bytes(gzip.compress(json.dumps([record]).encode()))
    # not searched: a CSV (a report written beside the logs would be read as usage) and other names
    (logs / "report.csv").write_text("model,prompt_tokens\ngpt-4o,1000\n")
    (logs / "notes.txt").write_text(json.dumps(record) + "\n")
    code, out, err = costcalc(capsys, "price", logs, "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    # 5 records of 1,000 × $2.50/M + 10 × $10/M = $0.0026 each
    assert doc["accounting"]["read"] == 5 and doc["accounting"]["priced"] == 5
    assert float(doc["totals"]["cost"]["total"]) == pytest.approx(5 * 0.0026, rel=1e-12)
    assert costcalc(capsys, "price", logs / "report.csv", "--format", "json").code == 0  # read when named


def test_a_directory_without_usage_files_names_what_was_looked_for(capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("{}\n")
    code, _, err = costcalc(capsys, "price", tmp_path)
    assert code == 2 and "*.jsonl, *.ndjson and *.json" in err and "*.parquet" in err


DAILY = {"date": "2025-12-01", "user_id": "alice", "api_key": "88dc28d0", "model": "gpt-4o", "model_group": "gpt-4o",
         "custom_llm_provider": "openai", "prompt_tokens": 50_000, "completion_tokens": 10_000,
         "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}


def test_a_daily_row_of_calls_the_proxy_made_itself_is_priced_and_marked_approximate(capsys, tmp_path):
    # db_spend_update_writer: an internal sub-call or a billed retry adds its tokens and spend, api_requests 0
    row = {**DAILY, "spend": 0.225, "api_requests": 0, "successful_requests": 0, "failed_requests": 0}
    (mine,) = priced_records(capsys, tmp_path, [row])
    # gpt-4o: 50,000 × $2.50/M + 10,000 × $10/M = $0.225, as the row's spend says
    assert mine["status"] == "priced" and mine["cost"] == pytest.approx(0.225, rel=1e-12)
    assert "calls the proxy made itself" in mine["approximate"]
    out = costcalc(capsys, "price", tmp_path / "rows.jsonl", "--format", "json").out
    doc = json.loads(out)
    assert doc["totals"]["requests"] == 0  # no request a caller made
    assert doc["totals"]["recorded"]["difference"] == 0 and doc["accounting"]["approximate"] == 1


def test_a_daily_row_of_failed_requests_only_is_skipped_at_zero(capsys, tmp_path):
    # each failed request's spend-log row keeps its prompt tokens at $0 spend, and adds them to the daily row
    failed = {**DAILY, "completion_tokens": 0, "spend": 0.0, "api_requests": 3, "successful_requests": 0,
              "failed_requests": 3}
    mixed = {**DAILY, "spend": 0.225, "api_requests": 4, "successful_requests": 3, "failed_requests": 1}
    found, priced = priced_records(capsys, tmp_path, [failed, mixed])
    assert found["status"] == "skipped" and "failed requests only" in found["reason"]
    assert priced["status"] == "priced" and priced["approximate"] == ""
