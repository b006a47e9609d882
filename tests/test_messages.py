"""Messages that said the wrong thing (issue 14.3): a model read from the environment, models kept in the
proxy's database, a deployment the proxy drops at start-up, and repeated findings grouped with a count."""

from __future__ import annotations

import pytest

from costcalc.engines.streaming import NotPriced, Priced
from costcalc.reading.records import UsageRecord
from costcalc.reports.validate import GROUP_AT, grouped_lines, validate_config

from .conftest import engine_for, write_config
from .runner import main

CONFIG = """
model_list:
  - model_name: secret-model
    litellm_params: {model: os.environ/MY_MODEL, api_key: os.environ/KEY}
  - model_name: secret-based
    litellm_params: {model: os.environ/MY_MODEL2}
    model_info: {base_model: gpt-4o}
  - model_name: dalle
    litellm_params: {model: dall-e-3}
"""


def _price(engine, model: str):
    return engine.price(UsageRecord(file="-", line=1, model=model, prompt_tokens=1000, completion_tokens=100))


def test_a_model_from_the_environment_says_so_and_suggests_base_model(tmp_path, real_map):
    out = _price(engine_for(real_map, tmp_path, CONFIG), "secret-model")
    assert isinstance(out, NotPriced)
    assert "takes its model from an environment variable (os.environ/MY_MODEL) that costcalc cannot read" \
        in out.reason
    assert "set model_info.base_model" in out.reason
    assert "provider cannot" not in out.reason


def test_with_base_model_it_is_priced_as_base_model(tmp_path, real_map):
    engine = engine_for(real_map, tmp_path, CONFIG)
    out = _price(engine, "secret-based")
    assert isinstance(out, Priced)
    assert out.cost.total == pytest.approx(1000 * 2.5e-6 + 100 * 1e-5, rel=1e-12)  # gpt-4o: 2.5e-6 in, 1e-5 out
    assert any("priced as base_model 'gpt-4o', provider openai" in w for w in engine.warnings)


def test_an_unroutable_deployment_is_dropped_at_start_while_the_rest_are_served(tmp_path, real_map):
    out = _price(engine_for(real_map, tmp_path, CONFIG), "dalle")
    assert isinstance(out, NotPriced)
    assert "the proxy drops this deployment when it starts" in out.reason
    assert "ignore_invalid_deployments" in out.reason and "serves the others" in out.reason


def test_litellm_drops_such_a_deployment_and_serves_the_others():
    litellm = pytest.importorskip("litellm", reason="pip install -e '.[test]' (litellm==1.110.2 is the reference)")
    model_list = [{"model_name": "dalle", "litellm_params": {"model": "dall-e-3"}},
                  {"model_name": "ok", "litellm_params": {"model": "openai/gpt-4o"}}]
    router = litellm.Router(model_list=model_list, ignore_invalid_deployments=True)  # as the proxy builds it
    assert router.get_model_names() == ["ok"]
    with pytest.raises(Exception, match="LLM Provider NOT provided"):
        litellm.Router(model_list=model_list)  # without the flag the Router refuses the config


@pytest.mark.parametrize(("entries", "level"), [(0, "warning"), (3, "info"), (4, None)])
def test_store_model_in_db_with_a_short_model_list_is_noted(tmp_path, real_map, entries, level):
    deployments = "".join(f"  - model_name: m{i}\n    litellm_params: {{model: openai/gpt-4o}}\n"
                          for i in range(entries))
    text = "general_settings: {store_model_in_db: true}\nmodel_list:\n" + (deployments or "  []\n")
    found = [f for f in validate_config(str(write_config(tmp_path, text)), real_map) if f.rule == "models-in-database"]
    assert [f.level for f in found] == ([level] if level else [])
    if found:
        assert "kept in its database, which costcalc cannot see" in found[0].message


def _finding(rule: str, deployment: str) -> dict:
    return {"level": "warning", "rule": rule, "deployment": deployment, "key": "k", "message": f"m {deployment}",
            "index": None}


def test_a_rule_firing_often_is_one_line_with_a_count():
    findings = [_finding("wild", f"d{i}") for i in range(26)] + [_finding("other", "x")]
    lines = grouped_lines(findings)
    assert len(lines) == 2
    assert lines[0][1] == "warning: d0: k: m d0 [wild: 26 times; also d1, d2, d3, d4, d5, …; --verbose lists each]"
    assert lines[1][1] == "warning: x: k: m x"
    assert len(grouped_lines(findings, verbose=True)) == 27
    below = [_finding("pair", f"d{i}") for i in range(GROUP_AT - 1)]
    assert len(grouped_lines(below)) == GROUP_AT - 1  # fewer than GROUP_AT: each on its own line


def test_validate_verbose_lists_every_finding(tmp_path, capsys):
    text = "model_list:\n" + "".join(
        f"  - model_name: m{i}\n    litellm_params: {{model: groq/no-such-model-{i}}}\n" for i in range(4))
    path = str(write_config(tmp_path, text))
    main(["validate", "--config", path])
    short = [line for line in capsys.readouterr().out.splitlines() if "unpriced" in line]
    main(["validate", "--config", path, "--verbose"])
    full = [line for line in capsys.readouterr().out.splitlines() if "unpriced" in line]
    assert len(short) == 1 and "[unpriced-model: 4 times; also m1 (#2), m2 (#3), m3 (#4)" in short[0]
    assert len(full) == 4


UNITS = """
model_list:
  - model_name: per-million
    litellm_params: {model: openai/gpt-4o}
    model_info: {input_cost_per_token: 2.5, output_cost_per_token: 10}
  - model_name: per-thousand
    litellm_params: {model: openai/gpt-4o, input_cost_per_token: 0.0025, output_cost_per_token: 0.000012}
  - model_name: negotiated
    litellm_params: {model: openai/gpt-4o}
    model_info: {input_cost_per_token: 0.000002, output_cost_per_token: 0.000008}
"""


def test_a_price_in_the_wrong_unit_names_both_numbers(tmp_path, real_map):
    # the map's gpt-4o: 2.5e-6 input, 1e-5 output per token
    found = [(f.deployment, f.key, f.message) for f in validate_config(str(write_config(tmp_path, UNITS)), real_map)
             if f.rule == "price-unit"]
    assert found == [
        ("per-million (#1)", "model_info.input_cost_per_token",
         "2.5 is 1,000,000x the cost map's 2.5e-06 for 'gpt-4o': a per-1M price written as a per-token price? "
         "The proxy bills it as written"),
        ("per-million (#1)", "model_info.output_cost_per_token",
         "10 is 1,000,000x the cost map's 1e-05 for 'gpt-4o': a per-1M price written as a per-token price? "
         "The proxy bills it as written"),
        # 0.0025 / 2.5e-6 = 1000; the output 1.2e-5 / 1e-5 = 1.2 is a plausible negotiated price
        ("per-thousand (#2)", "litellm_params.input_cost_per_token",
         "0.0025 is 1,000x the cost map's 2.5e-06 for 'gpt-4o': a per-1K price written as a per-token price? "
         "The proxy bills it as written"),
    ]
