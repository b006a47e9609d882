"""router_settings.model_group_alias (issue 14.1): a called name the proxy routes to another model group is
priced as that group's deployment, in both the string and the {model, hidden} forms, and shown by lookup,
diff, validate and models. The reference is a real LiteLLM 1.110.2 Router built with the same aliases."""

from __future__ import annotations

import json

import pytest
import yaml

from costcalc.engines.streaming import NotPriced, Priced
from costcalc.errors import ConfigError
from costcalc.rates.config import load_config
from costcalc.reports.validate import validate_config

from .conftest import engine_for, write_config
from .runner import costcalc

# claude-sonnet: custom prices 1e-6 in / 2e-6 out; gpt-4o: custom 3e-6 / 4e-6; openai/* serves the map's prices.
CONFIG = """
model_list:
  - model_name: claude-sonnet
    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929}
    model_info: {input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o}
    model_info: {input_cost_per_token: 0.000003, output_cost_per_token: 0.000004}
  - model_name: "openai/*"
    litellm_params: {model: "openai/*"}
router_settings:
  model_group_alias:
    gpt-4: claude-sonnet
    gpt-4o: {model: claude-sonnet, hidden: true}
    mini: gpt-4o-mini
    nowhere: nonexistent-model
    broken: {hidden: true}
"""


def _record(model: str) -> dict:
    return {"model": model, "prompt_tokens": 1000, "completion_tokens": 1000}


@pytest.mark.parametrize(("model", "expected"), [
    ("gpt-4", 1000 * 1e-6 + 1000 * 2e-6),  # string form → claude-sonnet's custom prices: $0.003, not gpt-4's $0.09
    ("gpt-4o", 1000 * 1e-6 + 1000 * 2e-6),  # {model, hidden} form, and it wins over the deployment named gpt-4o
    ("mini", 1000 * 0.15e-6 + 1000 * 0.6e-6),  # the target reaches the wildcard: gpt-4o-mini's map prices
    ("claude-sonnet", 0.003),  # the target itself, unchanged
])
def test_aliased_calls_are_priced_as_the_target_group(tmp_path, real_map, model, expected):
    engine = engine_for(real_map, tmp_path, CONFIG)
    from costcalc.reading.records import UsageRecord

    out = engine.price(UsageRecord(file="-", line=1, **_record(model)))
    assert isinstance(out, Priced)
    assert out.cost.total == pytest.approx(expected, rel=1e-12)
    if model != "claude-sonnet":
        assert "model_group_alias" in out.sheet.rule


def test_an_alias_to_an_unserved_group_is_unpriced_not_priced_from_the_map(tmp_path, real_map):
    from costcalc.reading.records import UsageRecord

    engine = engine_for(real_map, tmp_path, CONFIG)
    out = engine.price(UsageRecord(file="-", line=1, **_record("nowhere")))
    assert isinstance(out, NotPriced)
    assert "no deployment serves" in out.reason and "'nonexistent-model'" in out.reason


@pytest.mark.parametrize("model", ["gpt-4", "gpt-4o", "mini", "claude-sonnet", "nowhere", "broken"])
def test_matches_a_litellm_router_with_the_same_aliases(tmp_path, real_map, model):
    pytest.importorskip("litellm", reason="pip install -e '.[test]' (litellm==1.110.2 is the reference)")
    from costcalc.reading.records import UsageRecord

    from .litellm_oracle import ProxyOracle

    doc = yaml.safe_load(CONFIG)
    oracle = ProxyOracle(doc["model_list"], router_settings=doc["router_settings"])
    theirs = oracle.cost(_record(model))
    ours = engine_for(real_map, tmp_path, CONFIG).price(UsageRecord(file="-", line=1, **_record(model)))
    if theirs is None:
        assert isinstance(ours, NotPriced)
    else:
        assert isinstance(ours, Priced)
        assert ours.cost.total == pytest.approx(theirs, rel=1e-9)


def test_config_reads_both_forms_and_skips_entries_without_a_target(tmp_path):
    cfg = load_config(write_config(tmp_path, CONFIG))
    assert cfg.model_group_alias == {"gpt-4": "claude-sonnet", "gpt-4o": "claude-sonnet", "mini": "gpt-4o-mini",
                                     "nowhere": "nonexistent-model"}
    assert cfg.hidden_aliases == frozenset({"gpt-4o"})


def test_a_model_group_alias_that_is_not_a_mapping_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"router_settings\.model_group_alias: must be a mapping"):
        load_config(write_config(tmp_path, "model_list: []\nrouter_settings: {model_group_alias: [a, b]}\n"))


def test_validate_reports_each_alias_and_the_misleading_ones(tmp_path, real_map):
    findings = validate_config(str(write_config(tmp_path, CONFIG)), real_map)
    by_rule = {}
    for f in findings:
        by_rule.setdefault(f.rule, []).append(f)
    assert {f.key for f in by_rule["alias"]} == {f"router_settings.model_group_alias.{a}"
                                                 for a in ("gpt-4", "gpt-4o", "mini")}
    assert [f.key for f in by_rule["alias-unserved"]] == ["router_settings.model_group_alias.nowhere"]
    assert [f.key for f in by_rule["alias-shadows-deployment"]] == ["router_settings.model_group_alias.gpt-4o"]
    assert [f.key for f in by_rule["alias-ignored"]] == ["router_settings.model_group_alias.broken"]
    assert "hidden from /models" in next(f.message for f in by_rule["alias"] if f.key.endswith("gpt-4o"))


def _run(capsys, *args: str) -> tuple[int, str]:
    code, out, _ = costcalc(capsys, *args)
    return code, out


def test_lookup_shows_the_alias_and_the_target_deployment(tmp_path, capsys):
    path = str(write_config(tmp_path, CONFIG))
    code, out = _run(capsys, "lookup", "gpt-4", "--config", path, "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert doc["alias"] == {"alias": "gpt-4", "target": "claude-sonnet", "hidden": False}
    (res,) = doc["resolutions"]
    assert res["deployment"]["model_name"] == "claude-sonnet"
    assert {f["field"]: f["value"] for f in res["fields"]}["input_cost_per_token"] == 1e-6


def test_models_and_diff_list_the_aliases(tmp_path, capsys):
    path = str(write_config(tmp_path, CONFIG))
    code, out = _run(capsys, "models", "gpt-4", "--config", path, "--format", "json", "-n", "1")
    routes = {r["alias"]: r for r in json.loads(out)["aliases"]}
    assert set(routes) == {"gpt-4", "gpt-4o", "mini"}  # alias or target contains the query
    assert routes["gpt-4o"]["hidden"] is True and routes["gpt-4o"]["served"] is True
    code, out = _run(capsys, "diff", "--config", path)
    assert code == 0
    assert "alias gpt-4 → model group claude-sonnet: its calls are priced as that group's" in out
    assert "alias nowhere → model group nonexistent-model: no deployment serves it" in out


def test_diff_spend_books_aliased_calls_to_the_target_deployment(tmp_path, capsys):
    path = str(write_config(tmp_path, CONFIG))
    usage = tmp_path / "usage.jsonl"
    usage.write_text("".join(json.dumps(_record(m)) + "\n" for m in ("gpt-4", "gpt-4o")))
    code, out = _run(capsys, "diff", "--config", path, str(usage), "--format", "json")
    assert code == 0
    rows = json.loads(out)["spend"]["rows"]
    assert [(r["deployment"], r["records"]) for r in rows] == [("claude-sonnet (#1)", 2)]
    # config: 2 x (1000 x 1e-6 + 1000 x 2e-6) = 0.006; map (claude-sonnet-4-5: 3e-6 / 1.5e-5): 2 x 0.018 = 0.036
    assert rows[0]["config"] == pytest.approx(0.006) and rows[0]["cost_map"] == pytest.approx(0.036)
