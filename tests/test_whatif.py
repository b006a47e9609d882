"""What-if before rollout (issue 14.5): diff --config NEW --against CURRENT, rates and effective rates after
discount and margin under both, spend equal to `costcalc price` with each config; diff's config side is the
config's whole spend; lookup shows discount, margin and effective rates; validate notes a discount stacked on
a deployment's own prices."""

from __future__ import annotations

import json

import pytest

from .conftest import ROOT, write_config
from .runner import costcalc, main

SAMPLE_CONFIG = str(ROOT / "sample_data" / "config.yaml")
SAMPLE_USAGE = str(ROOT / "sample_data" / "usage.jsonl")

CURRENT = """
model_list:
  - model_name: a
    litellm_params: {model: openai/gpt-4o}
    model_info: {input_cost_per_token: 0.000002, output_cost_per_token: 0.000008}
  - model_name: c
    litellm_params: {model: openai/gpt-4o-mini}
litellm_settings:
  cost_discount_config: {openai: 0.1}
"""
NEW = """
model_list:
  - model_name: a
    litellm_params: {model: openai/gpt-4o}
    model_info: {input_cost_per_token: 0.0000015, output_cost_per_token: 0.000008}
  - model_name: b
    litellm_params: {model: openai/gpt-4o-mini}
litellm_settings:
  cost_margin_config: {global: 0.05}
"""


def run(capsys, *args: str) -> tuple[int, str]:
    code, out, err = costcalc(capsys, *args)
    assert "Traceback" not in out + err
    return code, out


def test_rates_and_effective_rates_under_both_configs(tmp_path, capsys):
    new, current = write_config(tmp_path, NEW, "new.yaml"), write_config(tmp_path, CURRENT, "current.yaml")
    code, out = run(capsys, "diff", "--config", str(new), "--against", str(current), "--format", "json")
    assert code == 0
    deps = {d["model_name"]: d for d in json.loads(out)["deployments"]}
    assert {name: d["status"] for name, d in deps.items()} == {"a": "changed", "b": "added", "c": "removed"}
    a = deps["a"]
    assert a["current"]["adjustment"] == {"discount": 0.1, "margin_percentage": 0.0, "margin_fixed": 0.0}
    assert a["new"]["adjustment"] == {"discount": 0.0, "margin_percentage": 0.05, "margin_fixed": 0.0}
    field = {f["field"]: f for f in a["fields"]}["input_cost_per_token"]
    assert (field["current"], field["new"]) == (2e-6, 1.5e-6)
    assert field["change"] == pytest.approx(-0.25)
    part = {e["part"]: e for e in a["effective"]}
    # input: current 2e-6 x (1 - 0.1) = 1.8e-6; new 1.5e-6 x 1.05 = 1.575e-6
    assert part["input"]["current_effective"] == pytest.approx(1.8e-6, rel=1e-12)
    assert part["input"]["new_effective"] == pytest.approx(1.575e-6, rel=1e-12)
    # output: the same 8e-6, but 7.2e-6 after the discount and 8.4e-6 after the margin
    assert part["output"]["current_effective"] == pytest.approx(7.2e-6, rel=1e-12)
    assert part["output"]["new_effective"] == pytest.approx(8.4e-6, rel=1e-12)
    assert part["output"]["change"] == pytest.approx(8.4 / 7.2 - 1, rel=1e-9)


def test_the_table_names_each_change(tmp_path, capsys):
    new, current = write_config(tmp_path, NEW, "new.yaml"), write_config(tmp_path, CURRENT, "current.yaml")
    code, out = run(capsys, "diff", "--config", str(new), "--against", str(current))
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert code == 0
    assert "a (#1): changed" in lines and "b (#2): added" in lines and "c (#2): removed" in lines
    assert "current: discount 10%" in lines and "new: margin 5%" in lines
    assert "input_cost_per_token $2.00 $1.50 -25.0%" in lines
    assert "input $2.00 $1.50 $1.80 $1.575 -12.5%" in lines  # 1.575 / 1.8 - 1 = -12.5%


def _price_totals(capsys, config: str) -> tuple[dict[str, float], float]:
    code, out = run(capsys, "price", SAMPLE_USAGE, "--config", config, "--format", "json")
    assert code == 0
    doc = json.loads(out)
    return {g["key"]["model"]: g["cost"]["total"] for g in doc["groups"]}, doc["totals"]["cost"]["total"]


def test_spend_under_both_equals_price_with_each(tmp_path, capsys):
    text = (ROOT / "sample_data" / "config.yaml").read_text()
    changed = text.replace("cost_margin_config:", "cost_margin_config:\n    anthropic: 0.2", 1)
    changed = changed.replace("0.0000027", "0.000003")
    assert changed != text
    new = str(write_config(tmp_path, changed, "new.yaml"))
    code, out = run(capsys, "diff", "--config", new, "--against", SAMPLE_CONFIG, SAMPLE_USAGE, "--format", "json")
    assert code == 0
    spend = json.loads(out)["spend"]
    for side, config in (("new", new), ("current", SAMPLE_CONFIG)):
        per_model, total = _price_totals(capsys, config)
        assert {r["model"]: r[side] for r in spend["rows"] if r["requests"][side]} == per_model
        assert spend["total"][side] == total
    assert spend["total"]["new"] != spend["total"]["current"]
    assert spend["accounting"]["current"] == {"read": 19, "priced": 16, "unpriced": 1, "rejected": 2, "skipped": 0,
                                              "filtered": 0, "excluded": 0, "duplicates": 0, "approximate": 1}


def test_stdin_is_read_once_for_both_sides(tmp_path, capsys, monkeypatch):
    import io
    import sys

    new, current = write_config(tmp_path, NEW, "new.yaml"), write_config(tmp_path, CURRENT, "current.yaml")
    record = json.dumps({"model": "a", "prompt_tokens": 1000, "completion_tokens": 100}) + "\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(record.encode())))
    code, out = run(capsys, "diff", "--config", str(new), "--against", str(current), "-", "--format", "json")
    assert code == 0
    total = json.loads(out)["spend"]["total"]
    # current: (1000 x 2e-6 + 100 x 8e-6) x 0.9 = 0.00252; new: (1000 x 1.5e-6 + 100 x 8e-6) x 1.05 = 0.002415
    assert total["current"] == pytest.approx(0.00252, rel=1e-12)
    assert total["new"] == pytest.approx(0.002415, rel=1e-12)


# Two teams over two months, one request logged twice (monthly exports that overlap): a=gpt-4o rates of the test's
# configs. The window, the filter and de-duplication must act on both sides exactly as `costcalc price` does.
OVERLAP = [
    {"request_id": "r1", "timestamp": "2026-10-30T10:00:00Z", "model": "a", "prompt_tokens": 1000,
     "completion_tokens": 100, "team": "agents"},
    {"request_id": "r2", "timestamp": "2026-11-02T10:00:00Z", "model": "a", "prompt_tokens": 2000,
     "completion_tokens": 200, "team": "agents"},
    {"request_id": "r3", "timestamp": "2026-11-03T10:00:00Z", "model": "a", "prompt_tokens": 4000,
     "completion_tokens": 400, "team": "search"},
    {"request_id": "r2", "timestamp": "2026-11-02T10:00:00Z", "model": "a", "prompt_tokens": 2000,
     "completion_tokens": 200, "team": "agents"},
]


@pytest.mark.parametrize("options", [(), ("--month", "2026-11"), ("--where", "team=agents"),
                                     ("--since", "2026-11-01", "--where", "team=agents"), ("--no-dedupe",)])
def test_against_totals_equal_two_price_runs_with_the_same_options(tmp_path, capsys, options):
    new, current = write_config(tmp_path, NEW, "new.yaml"), write_config(tmp_path, CURRENT, "current.yaml")
    usage = tmp_path / "usage.jsonl"
    usage.write_text("".join(json.dumps(r) + "\n" for r in OVERLAP))
    code, out = run(capsys, "diff", "--config", str(new), "--against", str(current), str(usage), *options,
                    "--format", "json")
    assert code == 0
    spend = json.loads(out)["spend"]
    for side, config in (("new", new), ("current", current)):
        code, out, _ = costcalc(capsys, "price", usage, "--config", config, *options, "--format", "json")
        doc = json.loads(out)
        assert code == 0
        assert spend["total"][side] == pytest.approx(doc["totals"]["cost"]["total"], rel=1e-12)
        assert spend["accounting"][side] == doc["accounting"]
    # by hand, the current config (a: 2e-6 in, 8e-6 out, 10% off): r2 = (2000 x 2e-6 + 200 x 8e-6) x 0.9 = 0.00504
    expected_r2_current = {(): 0.00252 + 0.00504 + 0.01008, ("--month", "2026-11"): 0.00504 + 0.01008,
                           ("--where", "team=agents"): 0.00252 + 0.00504,
                           ("--since", "2026-11-01", "--where", "team=agents"): 0.00504,
                           ("--no-dedupe",): 0.00252 + 2 * 0.00504 + 0.01008}[options]
    assert spend["total"]["current"] == pytest.approx(expected_r2_current, rel=1e-12)


def test_against_writes_table_or_json_only(tmp_path, capsys):
    new, current = write_config(tmp_path, NEW, "new.yaml"), write_config(tmp_path, CURRENT, "current.yaml")
    assert main(["diff", "--config", str(new), "--against", str(current), "--format", "csv"]) == 2


def test_diff_config_side_is_the_whole_spend_price_reports(capsys):
    _, total = _price_totals(capsys, SAMPLE_CONFIG)
    code, out = run(capsys, "diff", "--config", SAMPLE_CONFIG, SAMPLE_USAGE, "--format", "json")
    assert code == 0
    assert json.loads(out)["spend"]["total"]["config"] == pytest.approx(total, rel=1e-12)


def test_lookup_shows_discount_margin_and_effective_rates(capsys):
    code, out = run(capsys, "lookup", "claude-sonnet", "--config", SAMPLE_CONFIG, "--format", "json")
    assert code == 0
    (res,) = json.loads(out)["resolutions"]
    # the sample config: anthropic 10% discount, then a 5% global margin
    assert res["adjustment"] == {"discount": 0.1, "margin_percentage": 0.05, "margin_fixed": 0.0}
    rows = {r["part"]: r for r in res["effective"]}
    assert rows["input"]["value"] == 2.7e-6
    assert rows["input"]["adjusted"] == pytest.approx(2.7e-6 * 0.9 * 1.05, rel=1e-12)  # $2.5515 per 1M
    code, out = run(capsys, "lookup", "claude-sonnet", "--config", SAMPLE_CONFIG)
    assert "litellm_settings: discount 10%, then margin 5%: the effective rates below include them" in out
    assert "$2.5515" in out


def test_validate_notes_a_discount_on_negotiated_prices(tmp_path, capsys):
    path = write_config(tmp_path, CURRENT)
    code, out = run(capsys, "validate", "--config", str(path), "--format", "json")
    assert code == 0
    notes = [f for f in json.loads(out)["findings"] if f["rule"] == "discount-on-negotiated"]
    assert [(f["level"], f["deployment"]) for f in notes] == [("info", "a (#1)")]  # not c: it has no own prices
    assert "takes 10% off this deployment's own prices too" in notes[0]["message"]


def test_alias_changes_are_listed_and_priced(tmp_path, capsys):
    current = write_config(tmp_path, CURRENT + "router_settings: {model_group_alias: {fast: c}}\n", "current.yaml")
    new = write_config(tmp_path, NEW + "router_settings: {model_group_alias: {fast: a}}\n", "new.yaml")
    usage = tmp_path / "usage.jsonl"
    usage.write_text(json.dumps({"model": "fast", "prompt_tokens": 1000, "completion_tokens": 100}) + "\n")
    code, out = run(capsys, "diff", "--config", str(new), "--against", str(current), str(usage), "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["aliases"] == [{"alias": "fast", "new": "a", "current": "c", "status": "changed"}]
    # current: c is gpt-4o-mini (1.5e-7 / 6e-7) with openai's 10% off: (1000 x 1.5e-7 + 100 x 6e-7) x 0.9 = 0.000189
    # new: a's own prices with the 5% margin: (1000 x 1.5e-6 + 100 x 8e-6) x 1.05 = 0.002415
    assert doc["spend"]["total"]["current"] == pytest.approx(0.000189, rel=1e-12)
    assert doc["spend"]["total"]["new"] == pytest.approx(0.002415, rel=1e-12)
