"""`costcalc price` as a user runs it: exit codes, formats, accounting, and no tracebacks or secrets."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from .conftest import ROOT
from .runner import costcalc

SAMPLE_USAGE = str(ROOT / "sample_data" / "usage.jsonl")
SAMPLE_CONFIG = str(ROOT / "sample_data" / "config.yaml")


def run(capsys, *args: str) -> tuple[int, str, str]:
    code, out, err = costcalc(capsys, *args)
    return code, out, err


def test_sample_report_json_accounts_for_every_line(capsys):
    code, out, err = run(capsys, "price", SAMPLE_USAGE, "--config", SAMPLE_CONFIG, "--format", "json")
    assert code == 0
    doc = json.loads(out)
    with open(SAMPLE_USAGE, encoding="utf-8") as fh:
        lines = [line for line in fh if line.strip()]
    acc = doc["accounting"]
    assert acc["read"] == len(lines)
    assert acc["priced"] + acc["unpriced"] + acc["rejected"] + acc["skipped"] == acc["read"]
    assert acc["unpriced"] == 1 and acc["rejected"] == 2
    assert doc["unpriced_models"][0]["model"] == "my-finetune-v3"
    assert doc["cost_map"]["litellm_version"] == "1.110.2"
    assert len(doc["cost_map"]["sha256"]) == 64
    assert "records read" in err  # the accounting goes to stderr for machine formats


def test_totals_equal_sum_of_per_record_costs(capsys):
    # read as decimals: the amounts are exact, so the sums must agree to the last digit
    _, out, _ = run(capsys, "price", SAMPLE_USAGE, "--config", SAMPLE_CONFIG, "--format", "jsonl")
    rows = [json.loads(line, parse_float=Decimal) for line in out.splitlines()]
    _, out, _ = run(capsys, "price", SAMPLE_USAGE, "--config", SAMPLE_CONFIG, "--format", "json")
    doc = json.loads(out, parse_float=Decimal)
    priced = [r for r in rows if r["status"] == "priced"]
    # amounts are exact decimals: the total is exactly the sum of the per-record costs, group by group
    total = doc["totals"]["cost"]["total"]
    assert total == sum(r["cost"] for r in priced)
    for group in doc["groups"]:
        model = group["key"]["model"]
        assert group["cost"]["total"] == sum(r["cost"] for r in priced if r["model"] == model)
        parts = group["cost"]
        assert parts["total"] == sum(v for k, v in parts.items() if k != "total")
    # the groups add up to the total exactly, in every cost column
    for part, value in doc["totals"]["cost"].items():
        assert sum(g["cost"][part] for g in doc["groups"]) == value, part


def test_money_has_no_float_noise(capsys):
    # The LiteLLM float for line 3 (azure-model) is 0.47974500000000003: shown as the exact decimal 0.479745.
    _, out, _ = run(capsys, "price", SAMPLE_USAGE, "--config", SAMPLE_CONFIG, "--format", "jsonl")
    line3 = out.splitlines()[2]
    assert '"cost":0.479745,' in line3
    _, out, _ = run(capsys, "price", SAMPLE_USAGE, "--config", SAMPLE_CONFIG, "-f", "csv", "-g", "provider")
    for row in out.splitlines()[1:]:
        for cell in row.split(","):
            assert not re.search(r"0000000000|9999999999|e-", cell), cell  # no float noise, no exponent


def test_jsonl_is_one_line_per_input_line_in_order(capsys):
    _, out, _ = run(capsys, "price", SAMPLE_USAGE, "--config", SAMPLE_CONFIG, "--format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["line"] for r in rows] == list(range(1, len(rows) + 1))
    statuses = {r["status"] for r in rows}
    assert statuses == {"priced", "unpriced", "rejected"}
    priced = next(r for r in rows if r["model"] == "gpt4o" and r["status"] == "priced")
    # gpt-4o: 800 uncached * 2.5e-6 + 400 cached * 1.25e-6 + 300 * 1e-5 = 0.0055; then the 5% global margin
    assert priced["cost"] == pytest.approx(0.0055 * 1.05, rel=1e-12)
    assert priced["prices"]["cache_read"] == {"key": "cache_read_input_token_cost", "rate": 1.25e-6,
                                              "source": "cost_map:gpt-4o"}


def test_strict_exits_1_when_anything_is_unpriced_or_rejected(capsys):
    code, _, _ = run(capsys, "price", SAMPLE_USAGE, "--config", SAMPLE_CONFIG, "--strict", "-f", "json")
    assert code == 1


def test_rejects_file_keeps_lines_verbatim(capsys, tmp_path):
    rejects = tmp_path / "rejects.txt"
    run(capsys, "price", SAMPLE_USAGE, "--config", SAMPLE_CONFIG, "--rejects", str(rejects), "-f", "json")
    text = rejects.read_text().splitlines()
    assert text[0].startswith("# ") and ":18: cache_read_input_tokens" in text[0]
    assert json.loads(text[1])["cache_read_input_tokens"] == 500
    assert text[3] == '{"model": "gpt4o", "prompt_tokens": 12'


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
def test_text_formats_show_total_and_accounting(capsys, fmt):
    code, out, _ = run(capsys, "price", SAMPLE_USAGE, "--config", SAMPLE_CONFIG, "--format", fmt)
    assert code == 0
    assert "gemini-pro" in out
    if fmt == "csv":
        assert out.splitlines()[-1].startswith("TOTAL,")
    else:
        assert "19 records read: 16 priced, 1 unpriced, 2 rejected, 0 skipped" in out


def test_config_error_is_one_line_exit_2(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model_list:\n  - model_name: x\n    litellm_params:\n      model: openai/gpt-4o\n"
                   "      api_key: os.environ/SECRET_KEY_NAME\n      input_cost_per_token: os.environ/PRICE\n")
    code, out, err = run(capsys, "price", SAMPLE_USAGE, "--config", str(bad))
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("costcalc: error: ")
    assert "Traceback" not in err and "SECRET_KEY_NAME" not in err + out


def test_missing_usage_file_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, "price", str(tmp_path / "nope.jsonl"))
    assert code == 2 and "cannot open" in err


def test_stdin(capsys, monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(
        b'{"model":"gpt-4o","prompt_tokens":1000,"completion_tokens":500}\n')))
    code, out, _ = run(capsys, "price", "-", "-f", "json")
    # 1000 * 2.5e-6 + 500 * 1e-5
    assert code == 0 and json.loads(out)["totals"]["cost"]["total"] == pytest.approx(0.0075, rel=1e-12)


def test_secrets_never_appear_in_any_output(capsys):
    for fmt in ("table", "json", "jsonl", "csv", "markdown"):
        _, out, err = run(capsys, "price", SAMPLE_USAGE, "--config", SAMPLE_CONFIG, "-f", fmt)
        assert "os.environ" not in out + err
        assert "AZURE_API_KEY" not in out + err


def test_an_unpriced_record_keeps_its_recorded_cost_in_jsonl(capsys, tmp_path):
    # a spend-log row for a model no price covers: the $0.42 its log recorded stays in the jsonl output
    path = tmp_path / "spend.jsonl"
    path.write_text('{"request_id":"r1","call_type":"acompletion","model_group":"my-finetune-v3","spend":0.42,'
                    '"prompt_tokens":100,"completion_tokens":5}\n'
                    '{"model":"my-finetune-v3","prompt_tokens":10,"completion_tokens":1}\n')
    _, out, _ = run(capsys, "price", str(path), "--format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["status"], r.get("recorded_cost")) for r in rows] == [("unpriced", 0.42), ("unpriced", None)]
