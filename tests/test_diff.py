"""`costcalc diff`: custom prices against the cost map field by field, and spend under each, worked by hand.

The cost map is written by the test, so every price in the arithmetic below is visible here.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from costcalc.rates.config import load_config
from costcalc.rates.resolve import Resolver
from costcalc.reports.diff import SpendDiff, map_model, price_diffs

from .conftest import ROOT, make_map, write_config
from .runner import main

MAP = {
    "gpt-4o": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 2.5e-6,
               "output_cost_per_token": 1e-5, "cache_read_input_token_cost": 1.25e-6},
    "claude-x": {"litellm_provider": "anthropic", "mode": "chat", "input_cost_per_token": 3e-6,
                 "output_cost_per_token": 1.5e-5, "cache_read_input_token_cost": 3e-7,
                 "cache_creation_input_token_cost": 3.75e-6, "input_cost_per_token_above_200k_tokens": 6e-6,
                 "output_cost_per_token_above_200k_tokens": 2.25e-5},
    "azure/gpt-4o-mini": {"litellm_provider": "azure", "mode": "chat", "input_cost_per_token": 1.5e-7,
                          "output_cost_per_token": 6e-7},
}

CONFIG = """
model_list:
  - model_name: discounted            # both sides overridden; cache read inherited
    litellm_params: {model: openai/gpt-4o, api_key: os.environ/OPENAI_API_KEY}
    model_info: {input_cost_per_token: 0.000002, output_cost_per_token: 0.000008}
  - model_name: input-only            # output billed at $0; cache inherited; long-context rates not inherited
    litellm_params: {model: anthropic/claude-x}
    model_info: {input_cost_per_token: 0.000002}
  - model_name: private               # the map does not know azure/private
    litellm_params: {model: azure/private, input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
  - model_name: plain                 # no prices: the map's
    litellm_params: {model: openai/gpt-4o}
  - model_name: mini
    litellm_params: {model: azure/prod-mini}
    model_info: {base_model: azure/gpt-4o-mini}
"""

USAGE = "\n".join([
    '{"model": "discounted", "prompt_tokens": 1000, "cache_read_input_tokens": 200, "completion_tokens": 100}',
    '{"model": "input-only", "prompt_tokens": 1000, "completion_tokens": 500}',
    '{"model": "private", "prompt_tokens": 1000, "completion_tokens": 1000}',
    '{"model": "plain", "prompt_tokens": 100, "completion_tokens": 10}',
    'not json',
    '{"model": "mystery", "prompt_tokens": 5, "completion_tokens": 5}',
]) + "\n"


@pytest.fixture
def files(tmp_path):
    cost_map = tmp_path / "map.json"
    cost_map.write_text(json.dumps(MAP))
    cfg = write_config(tmp_path, CONFIG)
    usage = tmp_path / "usage.jsonl"
    usage.write_text(USAGE)
    return str(cost_map), str(cfg), str(usage)


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    out, _ = capsys.readouterr()
    return code, out


def squeeze(out: str) -> list[str]:
    return [" ".join(line.split()) for line in out.splitlines()]


def test_fields_side_by_side(capsys, files):
    cost_map, cfg, _ = files
    code, out = run(capsys, "diff", "--config", cfg, "--cost-map", cost_map, "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["spend"] is None
    deps = {d["model_name"]: d for d in doc["deployments"]}
    assert set(deps) == {"discounted", "input-only", "private"}  # plain and mini set no prices

    fields = {f["field"]: f for f in deps["discounted"]["fields"]}
    assert deps["discounted"]["map_key"] == "gpt-4o" and deps["discounted"]["pricing"] == "custom_prices"
    # 2e-6 against 2.5e-6: -5e-7, -20%
    assert fields["input_cost_per_token"]["delta"] == pytest.approx(-5e-7)
    assert fields["input_cost_per_token"]["change"] == pytest.approx(-0.2)
    assert fields["input_cost_per_token"]["status"] == "overridden"
    assert fields["cache_read_input_token_cost"] == {
        "field": "cache_read_input_token_cost", "config": None, "cost_map": 1.25e-6, "applies": 1.25e-6,
        "delta": 0.0, "change": 0.0, "status": "inherited", "source": "inherited:gpt-4o",
        "note": "copied unchanged from the cost map"}

    fields = {f["field"]: f for f in deps["input-only"]["fields"]}
    out_row = fields["output_cost_per_token"]
    assert (out_row["applies"], out_row["status"], out_row["source"]) == (0.0, "zeroed", "default-to-zero")
    assert out_row["delta"] == pytest.approx(-1.5e-5) and out_row["change"] == pytest.approx(-1.0)
    assert fields["cache_creation_input_token_cost"]["status"] == "inherited"
    # above 200k prompt tokens the map charges 6e-6; the override bills its flat 2e-6 there
    tier = fields["input_cost_per_token_above_200k_tokens"]
    assert (tier["applies"], tier["status"], tier["source"]) == (2e-6, "not inherited", "config:model_info")
    assert tier["note"] == "billed at input_cost_per_token (config:model_info) above 200,000 prompt tokens"
    assert fields["output_cost_per_token_above_200k_tokens"]["status"] == "zeroed"

    assert deps["private"]["known_to_map"] is False and deps["private"]["map_key"] is None
    assert {f["status"] for f in deps["private"]["fields"]} == {"added"}


def test_table_lines(capsys, files):
    cost_map, cfg, _ = files
    code, out = run(capsys, "diff", "--config", cfg, "--cost-map", cost_map)
    lines = squeeze(out)
    assert code == 0
    assert "discounted (#1): openai/gpt-4o vs cost map 'gpt-4o'" in lines
    # per 1M tokens: config $2.00, map $2.50, applies $2.00, delta -$0.50, -20.0%
    assert "input_cost_per_token $2.00 $2.50 $2.00 -$0.50 -20.0% overridden config:model_info" in lines
    assert "output_cost_per_token - $15.00 $0.00 -$15.00 -100.0% zeroed default-to-zero" in lines
    assert "private (#3): azure/private is not in the cost map (every price here is the config's own)" in lines
    assert "input_cost_per_token $1.00 - $1.00 - - added config:litellm_params" in lines
    assert ("warning: output is billed at $0 because only input_cost_per_token is set (the proxy does not fall "
            "back to the cost map for the other side)") in lines
    assert "os.environ" not in out and "OPENAI_API_KEY" not in out


def test_spend_worked_by_hand(capsys, files):
    cost_map, cfg, usage = files
    code, out = run(capsys, "diff", "--config", cfg, "--cost-map", cost_map, usage, "--format", "json")
    assert code == 0
    spend = json.loads(out)["spend"]
    rows = {r["model"]: r for r in spend["rows"]}
    # discounted, 800 uncached + 200 cached in, 100 out:
    #   config 800*2e-6 + 200*1.25e-6 + 100*8e-6   = 0.0016 + 0.00025 + 0.0008 = 0.00265
    #   map    800*2.5e-6 + 200*1.25e-6 + 100*1e-5 = 0.002  + 0.00025 + 0.001  = 0.00325
    assert rows["discounted"]["config"] == pytest.approx(0.00265, rel=1e-12)
    assert rows["discounted"]["cost_map"] == pytest.approx(0.00325, rel=1e-12)
    assert rows["discounted"]["difference"] == pytest.approx(-0.0006, rel=1e-9)
    assert rows["discounted"]["map_model"] == "openai/gpt-4o"
    # input-only, 1000 in, 500 out: config 1000*2e-6 + 500*0 = 0.002; map 1000*3e-6 + 500*1.5e-5 = 0.0105
    assert rows["input-only"]["config"] == pytest.approx(0.002, rel=1e-12)
    assert rows["input-only"]["cost_map"] == pytest.approx(0.0105, rel=1e-12)
    assert rows["input-only"]["change"] == pytest.approx((0.002 - 0.0105) / 0.0105, rel=1e-9)
    # private: config 1000*1e-6 + 1000*2e-6 = 0.003; the map cannot price azure/private: counted, not dropped,
    # and part of the config's whole spend
    assert rows["private"]["priced_by_both"] == 0
    assert rows["private"]["unpriced_by_map"] == {"records": 1, "config": pytest.approx(0.003, rel=1e-12)}
    assert rows["private"]["config"] == pytest.approx(0.003, rel=1e-12) and rows["private"]["cost_map"] == 0
    # plain, 100 in, 10 out: 100*2.5e-6 + 10*1e-5 = 0.00035 both ways
    assert rows["plain"]["config"] == rows["plain"]["cost_map"] == pytest.approx(0.00035, rel=1e-12)
    assert rows["mystery"]["deployment"] is None and rows["mystery"]["unpriced_by_both"] == 1
    total = spend["total"]
    # the whole spend under each: config 0.00265 + 0.002 + 0.003 + 0.00035 = 0.008 (what `price` reports);
    # map 0.00325 + 0.0105 + 0.00035 = 0.0141
    assert total["config"] == pytest.approx(0.008, rel=1e-12)
    assert total["cost_map"] == pytest.approx(0.0141, rel=1e-12)
    assert total["difference"] == pytest.approx(-0.0061, rel=1e-9)
    # shares of the -0.0061 difference: input-only -0.0085, discounted -0.0006, private +0.003
    assert rows["input-only"]["share"] == pytest.approx(0.0085 / 0.0061, rel=1e-9)
    assert rows["discounted"]["share"] == pytest.approx(0.0006 / 0.0061, rel=1e-9)
    assert rows["private"]["share"] == pytest.approx(-0.003 / 0.0061, rel=1e-9)
    assert spend["accounting"] == {"read": 6, "records": 5, "rejected": 1, "skipped": 0}
    assert total["priced_by_both"] == 3 and total["unpriced_by_map"]["records"] == 1
    assert total["unpriced_by_both"] == 1


def test_spend_table_and_formats(capsys, files):
    cost_map, cfg, usage = files
    code, out = run(capsys, "diff", "--config", cfg, "--cost-map", cost_map, usage)
    lines = squeeze(out)
    assert code == 0
    # shares of the whole -0.0061: input-only -0.0085 (139.3%), private +0.003 (-49.2%)
    assert "input-only (#2) 1 $0.002000 $0.010500 -$0.008500 -81.0% 139.3% - -" in lines
    assert "private (#3) 1 $0.003000 $0.000000 +$0.003000 - -49.2% 1 ($0.003000 under config) -" in lines
    assert "TOTAL 5 $0.008000 $0.014100 -$0.006100 -43.3% 100.0% 1 ($0.003000 under config) -" in lines
    assert ("6 records read: 3 priced both ways, 1 unpriced by the map, 0 unpriced by the config, 1 by neither, "
            "1 rejected, 0 skipped") in lines

    code, out = run(capsys, "diff", "--config", cfg, "--cost-map", cost_map, usage, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and rows[-1]["model"] == "TOTAL"
    assert float(rows[-1]["difference"]) == pytest.approx(-0.0061, rel=1e-9)

    code, out = run(capsys, "diff", "--config", cfg, "--cost-map", cost_map, usage, "--format", "markdown")
    assert code == 0
    assert "| input_cost_per_token | $2.00 | $2.50 | $2.00 | -$0.50 | -20.0% | overridden | config:model_info |" in out
    assert "| **TOTAL** | **5** |" in out

    code, out = run(capsys, "diff", "--config", cfg, "--cost-map", cost_map, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["deployment"] == "discounted (#1)" and rows[0]["field"] == "input_cost_per_token"


def test_ignored_and_dropped_overrides_are_listed(capsys, tmp_path):
    cfg = write_config(tmp_path, """
model_list:
  - model_name: cache-only
    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929}
    model_info: {cache_read_input_token_cost: 0.0000001}
  - model_name: dropped
    litellm_params: {model: openai/gpt-4o, input_cost_per_token_above_32k_tokens: 0.000009}
""")
    code, out = run(capsys, "diff", "--config", str(cfg), "--format", "json")
    deps = {d["model_name"]: d for d in json.loads(out)["deployments"]}
    assert code == 0
    assert deps["cache-only"]["pricing"] == "cache_only_override_ignored"
    row = deps["cache-only"]["fields"][0]
    # the proxy ignores it: the map's 3e-7 applies
    assert (row["config"], row["applies"], row["status"]) == (1e-7, 3e-7, "ignored")
    assert deps["dropped"]["fields"][0]["status"] == "dropped"


def test_map_model_of_an_alias(tmp_path):
    cm = make_map(MAP)
    cfg = load_config(write_config(tmp_path, CONFIG + """
  - model_name: "openai/*"
    litellm_params: {model: "openai/*"}
  - model_name: unknown-base
    litellm_params: {model: openai/gpt-4o}
    model_info: {base_model: azure/nothing-like-it}
"""))
    resolver = Resolver(cm, cfg)
    by_name = {d.model_name: d for d in cfg.deployments}
    assert map_model(resolver, by_name["discounted"], "discounted") == "openai/gpt-4o"
    assert map_model(resolver, by_name["mini"], "mini") == "azure/gpt-4o-mini"  # base_model beats the model
    assert map_model(resolver, by_name["openai/*"], "openai/gpt-4o") == "openai/gpt-4o"  # the served model
    assert map_model(resolver, by_name["unknown-base"], "unknown-base") == "openai/gpt-4o"


def test_spend_diff_streams(tmp_path):
    """Memory grows with deployments, not records: a generator of records is consumed one at a time."""
    cm = make_map(MAP)
    cfg = load_config(write_config(tmp_path, CONFIG))
    spend = SpendDiff(cm, cfg)
    from costcalc.reading.records import UsageRecord

    def records():
        for n in range(10_000):
            yield UsageRecord(file="-", line=n + 1, model="plain", prompt_tokens=100, completion_tokens=10)

    for outcome in spend.config_engine.outcomes(records()):
        spend.add(outcome)
    report = spend.report
    assert len(report.rows) == 1 and report.read == 10_000
    # 10,000 x 0.00035 exactly
    assert report.as_dict()["total"]["config"] == pytest.approx(3.5, rel=1e-12)


def test_sample_config_diff_lists_the_three_docs_examples(capsys):
    code, out = run(capsys, "diff", "--config", str(ROOT / "sample_data" / "config.yaml"), "--format", "json")
    names = [d["model_name"] for d in json.loads(out)["deployments"]]
    assert code == 0
    assert names[:4] == ["sagemaker-completion-model", "sagemaker-embedding-model", "azure-model", "claude-sonnet"]


def test_price_diffs_library_api(tmp_path):
    cm = make_map(MAP)
    cfg = load_config(write_config(tmp_path, CONFIG))
    diffs = price_diffs(cm, cfg)
    assert [d.deployment.model_name for d in diffs] == ["discounted", "input-only", "private"]
    assert diffs[0].fields[0].field == "input_cost_per_token"
