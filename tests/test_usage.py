"""Reading usage JSONL: every non-blank line is a record, a rejection (with reason) or a skip."""

from __future__ import annotations

import gzip

import pytest

from costcalc.reading.jsonl import read_usage
from costcalc.reading.records import Rejected, UsageRecord


def read(tmp_path, content: bytes, name: str = "u.jsonl"):
    path = tmp_path / name
    path.write_bytes(content)
    return list(read_usage([str(path)]))


def test_canonical_fields(tmp_path):
    (r,) = read(tmp_path, b'{"model":"gpt-4o","prompt_tokens":1200.0,"completion_tokens":30,'
                          b'"cache_read_input_tokens":100,"cache_creation_input_tokens":50,'
                          b'"cache_creation":{"ephemeral_1h_input_tokens":20},"reasoning_tokens":10,'
                          b'"model_id":"d1","service_tier":"priority","timestamp":"2026-01-02T03:04:05Z",'
                          b'"response_time_ms":1500,"input_cost_per_token":"2e-6","spend":0.01}\n')
    assert isinstance(r, UsageRecord)
    assert (r.prompt_tokens, r.completion_tokens, r.cache_read_tokens, r.cache_write_tokens) == (1200, 30, 100, 50)
    assert r.cache_write_1h_tokens == 20
    assert r.reasoning_tokens == 10
    assert r.model_id == "d1" and r.service_tier == "priority"
    assert r.timestamp == 1767323045.0
    assert r.duration_s == 1.5
    assert r.request_prices == (("input_cost_per_token", 2e-6),)
    assert r.recorded_cost == 0.01
    assert (r.file, r.line) == (str(tmp_path / "u.jsonl"), 1)


def test_duration_from_start_and_end(tmp_path):
    (r,) = read(tmp_path, b'{"model":"m","startTime":"2026-01-01T00:00:00Z","endTime":"2026-01-01T00:00:02.5Z"}')
    assert r.duration_s == 2.5


@pytest.mark.parametrize("line,reason", [
    (b'{"model":"m","prompt_tokens":1.5}', "prompt_tokens: token count must be a whole number"),
    (b'{"model":"m","prompt_tokens":-5}', "prompt_tokens: token count must be a whole number"),
    (b'{"model":"m","completion_tokens":"lots"}', "completion_tokens: token count must be a whole number"),
    (b'{"model":"m","prompt_tokens":1e30}', "prompt_tokens: token count must be a whole number"),
    (b'{"model":"m","prompt_tokens":NaN}', "not valid JSON"),
    (b'{"model":"m","prompt_tokens":true}', "prompt_tokens: token count must be a whole number"),
    (b'{"prompt_tokens":1}', "model: missing or not a string"),
    (b'{"model":42}', "model: missing or not a string"),
    (b'[1,2]', "not a JSON object"),
    (b'"gpt-4o"', "not a JSON object"),
    (b'{"model":"m","prompt_tokens":10', "not valid JSON"),
    (b'{"model":"m\xff"}', "not valid UTF-8"),
    (b'{"model":"m","prompt_tokens":10,"cache_read_input_tokens":8,"cache_creation_input_tokens":3}',
     "cache-read plus cache-write tokens (8 + 3) exceed prompt_tokens (10)"),
    (b'{"model":"m","completion_tokens":10,"reasoning_tokens":11}', "reasoning tokens (11) exceed completion"),
    (b'{"model":"m","duration_s":-1}', "duration_s: must not be negative"),
    (b'{"model":"m","startTime":"2026-01-01T00:00:02Z","endTime":"2026-01-01T00:00:01Z"}', "negative duration"),
    (b'{"model":"m","timestamp":"yesterday"}', "timestamp: not an ISO 8601 time"),
    (b'{"model":"m","input_cost_per_token":-1}', "input_cost_per_token: must not be negative"),
])
def test_rejections_name_the_field(tmp_path, line, reason):
    (r,) = read(tmp_path, line + b"\n")
    assert isinstance(r, Rejected)
    assert reason in r.reason
    assert r.line == 1
    assert r.text == line


def test_bom_crlf_and_blank_lines(tmp_path):
    results = read(tmp_path, b'\xef\xbb\xbf{"model":"a","prompt_tokens":1}\r\n\r\n   \n{"model":"b"}\r\n')
    assert [(r.model, r.line) for r in results] == [("a", 1), ("b", 4)]


def test_gzip_is_read_transparently(tmp_path):
    path = tmp_path / "u.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"model":"a","prompt_tokens":7}\n{"model":"b"}\n'))
    results = list(read_usage([str(path)]))
    assert [r.prompt_tokens for r in results] == [7, 0]


def test_several_files_and_directories_keep_their_own_line_numbers(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.jsonl").write_bytes(b'{"model":"x"}\n')
    (tmp_path / "d" / "ignored.txt").write_bytes(b"not usage\n")
    (tmp_path / "a.jsonl").write_bytes(b'{"model":"a"}\n{"model":"a2"}\n')
    results = list(read_usage([str(tmp_path / "a.jsonl"), str(tmp_path / "d")]))
    assert [(r.model, r.line) for r in results] == [("a", 1), ("a2", 2), ("x", 1)]
