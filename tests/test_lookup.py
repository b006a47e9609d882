"""`costcalc lookup`: how a model resolves, every rate with its source, through every resolution rule.

Prices are those of the embedded LiteLLM 1.110.2 snapshot (the autouse fixture keeps any cached map away).
Table lines are compared with runs of spaces collapsed, so column widths do not matter.
"""

from __future__ import annotations

import json

import pytest

from .conftest import ROOT, write_config
from .runner import costcalc, main

SAMPLE_CONFIG = str(ROOT / "sample_data" / "config.yaml")


def run(capsys, *args: str) -> tuple[int, list[str], str]:
    code, out, err = costcalc(capsys, *args)
    return code, [" ".join(line.split()) for line in out.splitlines()], err


def lookup_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["lookup", *args, "--format", "json"])
    out, _ = capsys.readouterr()
    return code, json.loads(out)


def effective(doc: dict, n: int = 0) -> dict[str, dict]:
    return {row["part"]: row for row in doc["resolutions"][n]["effective"]}


# -- the three examples of LiteLLM's custom-pricing docs, as sample_data/config.yaml has them ------------------

def test_sagemaker_per_second(capsys):
    code, lines, _ = run(capsys, "lookup", "sagemaker-completion-model", "--config", SAMPLE_CONFIG)
    assert code == 0
    assert lines[0] == "sagemaker-completion-model → deployment #1 sagemaker-completion-model, matched by model_name"
    assert "litellm_params.model: sagemaker/berri-benchmarking-Llama-2-70b-chat-hf-4 base_model: -" in lines
    assert "priced from: the deployment's own prices, as the proxy registers them" in lines
    assert "cost-map key: - provider: sagemaker mode: -" in lines
    assert "per_second 0.00042 $/s input_cost_per_second config:litellm_params" in lines
    assert "input_cost_per_second 0.00042 $/s config:litellm_params" in lines


def test_azure_model_per_token(capsys):
    code, lines, _ = run(capsys, "lookup", "azure-model", "--config", SAMPLE_CONFIG)
    assert code == 0
    assert lines[0] == "azure-model → deployment #3 azure-model, matched by model_name"
    # 0.000421 $/token is $421 per 1M tokens; the map knows no azure/my-gpt4o-deployment to inherit cache prices;
    # effective after the sample config's 5% margin: $421 x 1.05 = $442.05 (anthropic's: 10% off first, x 0.945)
    assert "input 0.000421 $421.00 $442.05 input_cost_per_token config:litellm_params" in lines
    assert "output 0.00052 $520.00 $546.00 output_cost_per_token config:litellm_params" in lines
    assert "cache_read 0.000421 $421.00 $442.05 input_cost_per_token default-to-input" in lines
    assert "cache_write 0.000421 $421.00 $442.05 input_cost_per_token default-to-input" in lines
    assert "reasoning 0.00052 $520.00 $546.00 output_cost_per_token default-to-output" in lines


def test_claude_sonnet_override(capsys):
    code, lines, _ = run(capsys, "lookup", "claude-sonnet", "--config", SAMPLE_CONFIG)
    assert code == 0
    assert lines[0] == ("claude-sonnet → deployment #4 claude-sonnet (id claude-sonnet-negotiated), "
                        "matched by model_name")
    assert "cost-map key: claude-sonnet-4-5-20250929 (lookup rule: prefix stripped) provider: anthropic mode: -" \
        in lines
    assert "input 2.7e-06 $2.70 $2.5515 input_cost_per_token config:model_info" in lines
    assert "output 1.35e-05 $13.50 $12.7575 output_cost_per_token config:model_info" in lines
    assert "cache_read 2.7e-07 $0.27 $0.25515 cache_read_input_token_cost config:model_info" in lines
    assert "cache_write 3.375e-06 $3.375 $3.189375 cache_creation_input_token_cost config:model_info" in lines
    # not set by the override: the 1-hour cache write is inherited from the map entry (PRICING.md §7.1)
    assert ("cache_write_1h 6e-06 $6.00 $5.67 cache_creation_input_token_cost_above_1hr "
            "inherited:claude-sonnet-4-5-20250929") in lines
    assert ("warning: inherits cache_creation_input_token_cost_above_1hr unchanged from the cost map entry "
            "'claude-sonnet-4-5-20250929'") in lines


# -- every resolution rule -------------------------------------------------------------------------------------

def test_bare_map_model(capsys):
    code, lines, _ = run(capsys, "lookup", "gpt-4o")
    assert code == 0
    assert lines[:3] == ["gpt-4o → cost map", "priced from: the cost map (no deployment by this name)",
                         "cost-map key: gpt-4o (lookup rule: as given) provider: openai mode: chat"]
    assert "input 2.5e-06 $2.50 input_cost_per_token cost_map:gpt-4o" in lines
    assert "cache_read 1.25e-06 $1.25 cache_read_input_token_cost cost_map:gpt-4o" in lines
    # gpt-4o has no cache-write price: LiteLLM bills cache writes at the input rate
    assert "cache_write 2.5e-06 $2.50 input_cost_per_token default-to-input" in lines
    assert "output_cost_per_token_priority 1.7e-05 $17.00 cost_map:gpt-4o" in lines


def test_provider_prefixed_map_model(capsys):
    code, doc = lookup_json(capsys, "anthropic/claude-sonnet-4-5-20250929")
    res = doc["resolutions"][0]
    assert code == 0 and res["how"] == "cost_map" and res["deployment"] is None
    assert (res["map_key"], res["map_lookup"], res["provider"]) == \
        ("claude-sonnet-4-5-20250929", "prefix stripped", "anthropic")
    assert effective(doc)["input"]["value"] == 3e-6


def test_alias_to_map_model(capsys):
    code, lines, _ = run(capsys, "lookup", "gpt4o", "--config", SAMPLE_CONFIG)
    assert code == 0
    assert lines[0] == "gpt4o → deployment #5 gpt4o, matched by model_name"
    assert "priced from: the cost map entry of the deployment's model" in lines
    assert "cost-map key: gpt-4o (lookup rule: prefix stripped) provider: openai mode: chat" in lines
    assert "input 2.5e-06 $2.50 $2.625 input_cost_per_token cost_map:gpt-4o" in lines


def test_base_model(capsys):
    code, lines, _ = run(capsys, "lookup", "azure-gpt4o-mini", "--config", SAMPLE_CONFIG)
    assert code == 0
    assert "litellm_params.model: azure/prod-mini-eastus base_model: azure/gpt-4o-mini" in lines
    assert "priced from: the cost map entry of base_model" in lines
    assert "cost-map key: azure/gpt-4o-mini (lookup rule: as given) provider: azure mode: chat" in lines
    assert "input 1.5e-07 $0.15 $0.1575 input_cost_per_token cost_map:azure/gpt-4o-mini" in lines


def test_custom_prices_with_inheritance_and_model_id_among_shared_names(capsys):
    code, lines, _ = run(capsys, "lookup", "claude-haiku", "--config", SAMPLE_CONFIG, "--model-id",
                         "haiku-discounted")
    assert code == 0
    assert lines[0] == "claude-haiku → deployment #11 claude-haiku (id haiku-discounted), matched by model_id"
    assert sum(1 for line in lines if "→ deployment" in line) == 1
    assert "input 8e-07 $0.80 $0.756 input_cost_per_token config:model_info" in lines
    assert "cache_read 1e-07 $0.10 $0.0945 cache_read_input_token_cost inherited:claude-haiku-4-5-20251001" in lines
    assert ("cache_write 1.25e-06 $1.25 $1.18125 cache_creation_input_token_cost "
            "inherited:claude-haiku-4-5-20251001") in lines


def test_shared_name_shows_every_deployment(capsys):
    code, doc = lookup_json(capsys, "claude-haiku", "--config", SAMPLE_CONFIG)
    assert code == 0
    assert [r["deployment"]["model_id"] for r in doc["resolutions"]] == ["haiku-direct", "haiku-discounted"]
    assert [r["how"] for r in doc["resolutions"]] == ["deployment_model", "custom_prices"]
    assert doc["notes"] == ["2 deployments share the name 'claude-haiku' with different prices and the record "
                            "names no model_id: priced with the first (claude-haiku (id haiku-direct))"]


def test_partial_override_bills_output_at_zero(capsys):
    code, lines, _ = run(capsys, "lookup", "gpt4o-input-only", "--config", SAMPLE_CONFIG)
    assert code == 0
    assert "output 0 $0.00 $0.00 output_cost_per_token default-to-zero" in lines
    assert "cache_read 1.25e-06 $1.25 $1.3125 cache_read_input_token_cost inherited:gpt-4o" in lines
    assert ("warning: output is billed at $0 because only input_cost_per_token is set (the proxy does not fall "
            "back to the cost map for the other side)") in lines


def test_cache_only_override_is_ignored(capsys, tmp_path):
    cfg = write_config(tmp_path, """
model_list:
  - model_name: cached
    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929}
    model_info: {cache_read_input_token_cost: 0.0000001}
""")
    code, lines, _ = run(capsys, "lookup", "cached", "--config", str(cfg))
    assert code == 0
    assert "priced from: the cost map: the deployment sets only cache prices, which the proxy ignores" in lines
    assert "cache_read 3e-07 $0.30 cache_read_input_token_cost cost_map:claude-sonnet-4-5-20250929" in lines
    assert ("warning: sets only cache prices; the proxy ignores a cache-only override and prices the deployment "
            "model 'anthropic/claude-sonnet-4-5-20250929' from the cost map") in lines


def test_wildcard(capsys):
    code, lines, _ = run(capsys, "lookup", "openai/gpt-4o-mini", "--config", SAMPLE_CONFIG)
    assert code == 0
    assert lines[0] == "openai/gpt-4o-mini → deployment #13 openai/*, matched by wildcard openai/*"
    assert "cost-map key: gpt-4o-mini (lookup rule: prefix stripped) provider: openai mode: chat" in lines
    assert "input 1.5e-07 $0.15 $0.1575 input_cost_per_token cost_map:gpt-4o-mini" in lines


def test_service_tier(capsys):
    code, doc = lookup_json(capsys, "gpt-4o", "--service-tier", "priority")
    rates = effective(doc)
    assert code == 0
    assert (rates["input"]["value"], rates["input"]["key"]) == (4.25e-6, "input_cost_per_token_priority")
    assert (rates["cache_read"]["value"], rates["cache_read"]["source"]) == (2.125e-6, "cost_map:gpt-4o")
    # no priority cache-write price and no standard one either: the priority input rate
    assert (rates["cache_write"]["value"], rates["cache_write"]["source"]) == (4.25e-6, "default-to-input")


def test_service_tier_falls_back_to_the_standard_rate(capsys):
    code, doc = lookup_json(capsys, "claude-sonnet", "--config", SAMPLE_CONFIG, "--service-tier", "priority")
    row = effective(doc)["input"]
    assert code == 0
    assert (row["value"], row["source"]) == (2.7e-6, "config:model_info")
    assert row["note"] == "no priority rate: the standard input_cost_per_token"


def test_unknown_model_exits_1_with_names_from_config_and_map(capsys):
    code, lines, _ = run(capsys, "lookup", "gpt-4x", "--config", SAMPLE_CONFIG)
    assert code == 1
    assert lines == ["gpt-4x: not found (not a config model_name and not in the cost map)",
                     "did you mean (config): gpt4o, gpt5",
                     "did you mean (cost map): gpt-4, gpt-4o, gpt-5.4"]
    code, doc = lookup_json(capsys, "gpt-4x", "--config", SAMPLE_CONFIG)
    assert code == 1 and doc["found"] is False
    assert doc["suggestions"] == {"config": ["gpt4o", "gpt5"], "cost_map": ["gpt-4", "gpt-4o", "gpt-5.4"]}


def test_unpriced_deployment_exits_1(capsys, tmp_path):
    cfg = write_config(tmp_path, """
model_list:
  - model_name: private
    litellm_params: {model: azure/my-private-deployment, api_key: sk-do-not-print}
""")
    code, lines, _ = run(capsys, "lookup", "private", "--config", str(cfg))
    assert code == 1
    assert lines[0] == "private → deployment #1 private, matched by model_name"
    assert lines[2].startswith("not priced: deployment private (#1) sets no prices and "
                               "'azure/my-private-deployment' is not in the cost map")
    assert "sk-do-not-print" not in "\n".join(lines)


def test_json_schema(capsys):
    code, doc = lookup_json(capsys, "azure-model", "--config", SAMPLE_CONFIG)
    assert code == 0
    assert set(doc) == {"query", "alias", "model_id", "service_tier", "config", "cost_map", "found", "notes",
                        "resolutions", "suggestions"}
    res = doc["resolutions"][0]
    assert set(res) == {"status", "deployment", "how", "model", "rule", "provider", "map_key", "map_lookup", "mode",
                        "per_second", "fields", "effective", "warnings", "adjustment"}
    assert set(res["deployment"]) == {"label", "index", "model_name", "model", "model_id", "base_model",
                                      "custom_prices", "matched_by"}
    assert res["fields"][0] == {"field": "input_cost_per_token", "value": 0.000421, "unit": "$/token",
                                "per_million": pytest.approx(421.0), "source": "config:litellm_params"}
    assert set(res["effective"][0]) == {"part", "value", "unit", "per_million", "key", "source", "note", "adjusted"}


def test_secrets_are_never_printed(capsys):
    for fmt in ("table", "json"):
        for model in ("azure-model", "claude-sonnet", "gpt4o"):
            main(["lookup", model, "--config", SAMPLE_CONFIG, "--format", fmt])
            out, err = capsys.readouterr()
            assert "os.environ" not in out + err and "API_KEY" not in out + err


@pytest.mark.parametrize(("model", "field", "unit", "status"), [
    ("tts-1", "input_cost_per_character", "per character", "costcalc prices them per character"),
    ("whisper-1", "input_cost_per_second", "per second of audio", "costcalc prices them per second"),
    ("cohere/rerank-english-v3.0", "input_cost_per_query", "per query", "costcalc prices them per search unit")])
def test_a_model_priced_by_other_units_says_how_the_proxy_prices_its_calls(capsys, model, field, unit, status):
    code, lines, _ = run(capsys, "lookup", model)
    assert code == 0
    note = next(line for line in lines if line.startswith("note: mode "))
    assert unit in note and status in note
    assert any(line.startswith(field) for line in lines)  # the rate itself, among the price fields
