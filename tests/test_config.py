"""Reading proxy configs: what is tolerated, what is refused (one line, naming deployment and key)."""

from __future__ import annotations

import pytest

from costcalc.errors import ConfigError
from costcalc.rates.config import load_config

from .conftest import write_config

GOOD = """
model_list:
  - model_name: azure-model
    litellm_params:
      model: azure/my-deployment
      api_key: os.environ/AZURE_API_KEY
      input_cost_per_token: "1e-6"
      output_cost_per_token: 2e-6
      some_future_flag: true
    model_info:
      id: dep-1
      base_model: azure/gpt-4o
      input_cost_per_token_above_32k_tokens: 3.0e-6
litellm_settings:
  cost_discount_config: {azure: 0.1}
  cost_margin_config: {global: {percentage: 0.05, fixed_amount: 0.0001}}
  success_callback: ["langfuse"]
general_settings:
  master_key: os.environ/MASTER
router_settings: {routing_strategy: simple-shuffle}
"""


def test_reads_prices_ids_and_adjustments(tmp_path):
    cfg = load_config(write_config(tmp_path, GOOD))
    (d,) = cfg.deployments
    assert d.model_name == "azure-model"
    assert d.model == "azure/my-deployment"
    assert d.model_id == "dep-1"
    assert d.base_model == "azure/gpt-4o"
    # "1e-6" and 2e-6 are strings to PyYAML (YAML 1.1 floats need a dot): both coerced, as the Router does
    assert d.params_prices == {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}
    assert set(d.string_prices) == {"litellm_params.input_cost_per_token", "litellm_params.output_cost_per_token"}
    assert d.info_prices == {"input_cost_per_token_above_32k_tokens": 3e-6}
    assert cfg.cost_discount_config == {"azure": 0.1}
    assert cfg.cost_margin_config == {"global": {"percentage": 0.05, "fixed_amount": 0.0001}}


def test_secrets_are_never_kept(tmp_path):
    cfg = load_config(write_config(tmp_path, GOOD))
    assert "os.environ" not in repr(cfg)
    assert "AZURE_API_KEY" not in repr(cfg)


def test_include_is_relative_to_the_config(tmp_path):
    (tmp_path / "sub").mkdir()
    write_config(tmp_path / "sub", "model_list:\n  - model_name: b\n    litellm_params: {model: openai/gpt-4o}\n",
                 "more.yaml")
    path = write_config(tmp_path, "include: [sub/more.yaml]\nmodel_list:\n"
                                  "  - model_name: a\n    litellm_params: {model: openai/gpt-4o-mini}\n")
    assert [d.model_name for d in load_config(path).deployments] == ["a", "b"]


@pytest.mark.parametrize("text,message", [
    ("model_list: {a: 1}", "model_list must be a list"),
    ("model_list:\n  - litellm_params: {model: x}", "model_name is missing"),
    ("model_list:\n  - model_name: a\n    litellm_params: {api_key: k}", "litellm_params.model is missing"),
    ("model_list:\n  - model_name: a\n    litellm_params: {model: x, input_cost_per_token: -1e-6}",
     "must not be negative"),
    ("model_list:\n  - model_name: a\n    litellm_params: {model: x, input_cost_per_token: cheap}",
     "price must be a number"),
    ("model_list:\n  - model_name: a\n    litellm_params: {model: x}\n    model_info:\n"
     "      output_cost_per_token: os.environ/PRICE", "os.environ/ reference"),
    ("model_list: [\n", "invalid YAML"),
    ("!!python/object/apply:os.system ['echo pwned']", "invalid YAML"),
    ("model_list:\n  - model_name: a\n    litellm_params: {model: x}\n    model_info:\n"
     "      tiered_pricing: [{range: [0], input_cost_per_token: 1e-6}]", "range must be [start, end]"),
    ("litellm_settings:\n  cost_discount_config: {openai: 1.5}", "a discount is a fraction"),
])
def test_refuses_what_cannot_be_priced(tmp_path, text, message):
    with pytest.raises(ConfigError) as err:
        load_config(write_config(tmp_path, text))
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    assert str(tmp_path) in str(err.value)


def test_error_names_deployment_and_key(tmp_path):
    text = ("model_list:\n  - model_name: good\n    litellm_params: {model: x}\n"
            "  - model_name: bad\n    litellm_params: {model: y, output_cost_per_token: -2}\n")
    with pytest.raises(ConfigError) as err:
        load_config(write_config(tmp_path, text))
    assert "deployment 'bad' (#2)" in str(err.value)
    assert "litellm_params.output_cost_per_token" in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "nope.yaml")


def test_undeclared_litellm_params_price_keys_are_noted_as_dropped(tmp_path):
    cfg = load_config(write_config(tmp_path, "model_list:\n  - model_name: a\n    litellm_params:\n"
                                             "      model: openai/gpt-4o\n"
                                             "      input_cost_per_token_above_32k_tokens: 3e-6\n"))
    (d,) = cfg.deployments
    assert d.params_prices == {}
    assert d.dropped_params_prices == ("input_cost_per_token_above_32k_tokens",)
