"""`costcalc validate`: every lint rule firing and not firing, exit codes, and no secret ever printed.

Model prices come from the embedded LiteLLM 1.110.2 snapshot.
"""

from __future__ import annotations

import json

import pytest

from costcalc.rates.costmap import load_cost_map
from costcalc.reports.validate import validate_config

from .conftest import ROOT, write_config
from .runner import main

SAMPLE_CONFIG = str(ROOT / "sample_data" / "config.yaml")


def findings(tmp_path, text: str) -> list[tuple[str, str, str | None, str | None]]:
    """(level, rule, deployment, key) of every finding."""
    path = write_config(tmp_path, text)
    return [(f.level, f.rule, f.deployment, f.key) for f in validate_config(str(path), load_cost_map())]


def rules(tmp_path, text: str) -> set[str]:
    return {rule for _, rule, _, _ in findings(tmp_path, text)}


def one(name: str, params: str, info: str = "", model: str = "openai/gpt-4o") -> str:
    """A model_list entry; ``params``/``info`` are extra YAML flow-mapping items."""
    text = f"  - model_name: {name}\n    litellm_params: {{model: {model}{', ' + params if params else ''}}}\n"
    if info:
        text += f"    model_info: {{{info}}}\n"
    return text


def config(*entries: str, extra: str = "") -> str:
    return "model_list:\n" + "".join(entries) + extra


CLEAN = config(one("ok", "api_key: os.environ/OPENAI_API_KEY",
                   "input_cost_per_token: 0.000002, output_cost_per_token: 0.000008"))


def test_a_clean_config_has_only_info(tmp_path):
    assert {level for level, *_ in findings(tmp_path, CLEAN)} <= {"info"}


@pytest.mark.parametrize(("text", "expected"), [
    (config(one("a", "input_cost_per_tokens: 0.000001")),
     ("error", "unknown-price-key", "a (#1)", "litellm_params.input_cost_per_tokens")),
    (config(one("a", "", "output_cost_per_tokn: 0.000001")),
     ("error", "unknown-price-key", "a (#1)", "model_info.output_cost_per_tokn")),
    (config(one("a", "", "my_cost_center_weight: 2")),
     ("warning", "unknown-price-key", "a (#1)", "model_info.my_cost_center_weight")),
])
def test_unknown_price_keys(tmp_path, text, expected):
    assert expected in findings(tmp_path, text)


def test_unknown_price_key_names_the_closest_real_key(capsys, tmp_path):
    path = write_config(tmp_path, config(one("a", "input_cost_per_tokens: 0.000001")))
    code = main(["validate", "--config", str(path)])
    out, _ = capsys.readouterr()
    assert code == 1
    assert ("error: a (#1): litellm_params.input_cost_per_tokens: unknown price key; did you mean "
            "input_cost_per_token? As written the proxy does not apply it") in out.splitlines()
    assert out.splitlines()[-1] == f"{path}: invalid: 1 error(s), 0 warning(s), 0 info"


@pytest.mark.parametrize("value", ["os.envrion/OPENAI_API_KEY", "os.environ.OPENAI_API_KEY", "OS.ENVIRON/KEY",
                                   " os.environ/OPENAI_API_KEY", "os.enviorn/KEY"])
def test_env_typos_fire(tmp_path, value):
    text = config(one("a", f"api_key: '{value}'"), extra=f"general_settings:\n  master_key: '{value}'\n")
    found = findings(tmp_path, text)
    assert ("error", "env-typo", "a (#1)", "litellm_params.api_key") in found
    assert ("error", "env-typo", None, "general_settings.master_key") in found


@pytest.mark.parametrize("value", ["os.environ/OPENAI_API_KEY", "sk-literal", "https://os.example/v1", "osaka/x"])
def test_env_typos_do_not_fire(tmp_path, value):
    assert "env-typo" not in rules(tmp_path, config(one("a", f"api_key: '{value}'")))


def test_string_prices_are_accepted_and_said_so(tmp_path):
    found = findings(tmp_path, config(one("a", "", "input_cost_per_token: 1e-6, output_cost_per_token: 2.0e-6")))
    assert ("info", "string-price", "a (#1)", "model_info.input_cost_per_token") in found
    assert not any(key == "model_info.output_cost_per_token" for *_, key in found)  # 2.0e-6 is a float


@pytest.mark.parametrize(("value", "message"), [
    ("-0.000001", "price must not be negative (-1e-06)"),
    ("'-1e-6'", "price must not be negative (-1e-06)"),
    ("os.environ/PRICE", "a price cannot be an os.environ/ reference (LiteLLM's Router refuses it)"),
    ("cheap", "price must be a number, not str (value not shown)"),
    (".nan", "price must be finite"),
])
def test_invalid_prices_are_findings_and_other_deployments_are_still_checked(tmp_path, value, message):
    path = write_config(tmp_path, config(one("bad", f"input_cost_per_token: {value}"),
                                         one("next", "input_cost_per_tokens: 0.000001")))
    found = validate_config(str(path), load_cost_map())
    bad = [f for f in found if f.deployment == "bad (#1)"]
    assert [(f.level, f.rule, f.key, f.message) for f in bad] == \
        [("error", "invalid-price", "litellm_params.input_cost_per_token", message)]
    assert any(f.rule == "unknown-price-key" and f.deployment == "next (#2)" for f in found)
    assert "PRICE" not in " ".join(f.message for f in found)


def test_implausible_price(tmp_path):
    found = findings(tmp_path, config(one("a", "", "input_cost_per_token: 0.003, output_cost_per_token: 0.004")))
    assert ("warning", "implausible-price", "a (#1)", "model_info.input_cost_per_token") in found
    assert "implausible-price" not in rules(tmp_path, CLEAN)
    # a per-second price is not per token
    assert "implausible-price" not in rules(tmp_path, config(one("a", "input_cost_per_second: 0.01")))


def test_output_cheaper_than_cache_read(tmp_path):
    fired = config(one("a", "", "input_cost_per_token: 0.000003, output_cost_per_token: 0.0000001, "
                                "cache_read_input_token_cost: 0.000001"))
    assert ("warning", "output-below-cache-read", "a (#1)", "output_cost_per_token") in findings(tmp_path, fired)
    assert "output-below-cache-read" not in rules(tmp_path, CLEAN)


def test_unmapped_deployment_without_prices(tmp_path):
    found = findings(tmp_path, config(one("private", "", model="azure/my-private-deployment")))
    assert ("warning", "unpriced-model", "private (#1)", "litellm_params.model") in found
    assert "unpriced-model" not in rules(tmp_path, config(one("private", "input_cost_per_token: 0.000001, "
                                                                        "output_cost_per_token: 0.000002",
                                                              model="azure/my-private-deployment")))
    assert "unpriced-model" not in rules(tmp_path, config(one("mini", "", "base_model: azure/gpt-4o-mini",
                                                              model="azure/my-private-deployment")))


def test_base_model_not_in_the_map(tmp_path):
    found = findings(tmp_path, config(one("a", "", "base_model: azure/gpt-9-turbo")))
    assert ("warning", "base-model-unknown", "a (#1)", "model_info.base_model") in found
    assert "base-model-unknown" not in rules(tmp_path, config(one("a", "", "base_model: azure/gpt-4o")))


@pytest.mark.parametrize(("info", "key"), [
    ("input_cost_per_token: 0.000002", "output_cost_per_token"),
    ("output_cost_per_token: 0.000002", "input_cost_per_token"),
])
def test_partial_override(tmp_path, info, key):
    assert ("warning", "partial-override", "a (#1)", key) in findings(tmp_path, config(one("a", "", info)))
    assert "partial-override" not in rules(tmp_path, CLEAN)


def test_cache_only_override(tmp_path):
    found = findings(tmp_path, config(one("a", "", "cache_read_input_token_cost: 0.0000001")))
    assert ("warning", "cache-only-override", "a (#1)", "cache_read_input_token_cost") in found
    assert "cache-only-override" not in rules(tmp_path, config(one(
        "a", "", "input_cost_per_token: 0.000002, output_cost_per_token: 0.000008, "
                 "cache_read_input_token_cost: 0.0000001")))


def test_undeclared_litellm_params_price_is_dropped(tmp_path):
    found = findings(tmp_path, config(one("a", "input_cost_per_token: 0.000001, output_cost_per_token: 0.000002, "
                                               "input_cost_per_token_above_32k_tokens: 0.000003")))
    assert ("warning", "dropped-param-price", "a (#1)", "litellm_params.input_cost_per_token_above_32k_tokens") \
        in found
    # in model_info the proxy keeps it
    assert "dropped-param-price" not in rules(tmp_path, config(one(
        "a", "", "input_cost_per_token: 0.000001, output_cost_per_token: 0.000002, "
                 "input_cost_per_token_above_32k_tokens: 0.000003")))


def test_duplicate_model_info_id(tmp_path):
    text = config(one("a", "", "id: shared"), one("b", "", "id: shared", model="openai/gpt-4o-mini"))
    assert ("error", "duplicate-id", "b (id shared)", "model_info.id") in findings(tmp_path, text)
    text = config(one("a", "", "id: one"), one("b", "", "id: two", model="openai/gpt-4o-mini"))
    assert "duplicate-id" not in rules(tmp_path, text)


def test_same_name_and_params_share_one_registration(tmp_path):
    text = config(one("a", "", "input_cost_per_token: 0.000001, output_cost_per_token: 0.000002"),
                  one("a", "", "input_cost_per_token: 0.000003, output_cost_per_token: 0.000004"))
    assert ("warning", "shared-identity", "a (#2)", "model_info") in findings(tmp_path, text)
    assert ("warning", "ambiguous-name", "a (#1)", "model_name") not in findings(tmp_path, text)  # one identity
    text = config(one("a", "", "id: x, input_cost_per_token: 0.000001, output_cost_per_token: 0.000002"),
                  one("a", "", "id: y, input_cost_per_token: 0.000003, output_cost_per_token: 0.000004"))
    assert "shared-identity" not in rules(tmp_path, text)
    assert ("warning", "ambiguous-name", "a (id x)", "model_name") in findings(tmp_path, text)


def test_shadowed_by_wildcard(tmp_path):
    wildcard = one('"openai/*"', "", model='"openai/*"')
    text = config(one("cheap", "", "input_cost_per_token: 0.000001, output_cost_per_token: 0.000002"), wildcard)
    assert ("warning", "shadowed-by-wildcard", "cheap (#1)", "litellm_params.model") in findings(tmp_path, text)
    # same prices as the wildcard: nothing to warn about
    assert "shadowed-by-wildcard" not in rules(tmp_path, config(one("plain", ""), wildcard))
    # no wildcard: nothing captures openai/gpt-4o
    assert "shadowed-by-wildcard" not in rules(tmp_path, config(
        one("cheap", "", "input_cost_per_token: 0.000001, output_cost_per_token: 0.000002")))


def test_proxy_rule_warnings(tmp_path):
    # gpt-5.4 has long-context rates (above 272k) the override does not inherit; gpt-4o's inherited cache read
    # (1.25e-6) is above an input override of 1e-6
    text = config(one("gpt5", "", "input_cost_per_token: 0.000001, output_cost_per_token: 0.000002",
                      model="openai/gpt-5.4"),
                  one("gpt", "", "input_cost_per_token: 0.000001, output_cost_per_token: 0.000002"))
    found = rules(tmp_path, text)
    assert {"tier-rates-not-inherited", "inherited-cache-above-input", "inherited-rates"} <= found


def test_sample_config_is_valid_with_warnings(capsys):
    code = main(["validate", "--config", SAMPLE_CONFIG, "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["ok"] is True
    assert set(doc) == {"config", "cost_map", "ok", "counts", "findings"}
    assert set(doc["findings"][0]) == {"level", "rule", "deployment", "index", "key", "message"}
    # info: three deployments inherit map rates, claude-sonnet's cache-read price 27e-8 is a YAML string, and the
    # anthropic discount also applies to the two anthropic deployments with their own (negotiated) prices
    assert doc["counts"] == {"error": 0, "warning": 3, "info": 6}
    assert {f["rule"] for f in doc["findings"]} == {"inherited-rates", "ambiguous-name", "partial-override",
                                                    "shadowed-by-wildcard", "string-price", "discount-on-negotiated"}


def test_exit_codes(capsys, tmp_path):
    assert main(["validate", "--config", str(write_config(tmp_path, CLEAN))]) == 0
    assert main(["validate", "--config", str(write_config(tmp_path, config(one("a", "", "id: [x")), "b.yaml"))]) \
        == 1  # invalid YAML is an error finding
    assert main(["validate", "--config", str(tmp_path / "missing.yaml")]) == 2
    out, err = capsys.readouterr()
    assert "invalid YAML" in out and "cannot read config" in err


def test_structure_errors(tmp_path):
    found = findings(tmp_path, "model_list:\n  - model_name: a\n    litellm_params: {api_key: x}\n  - 7\n")
    assert ("error", "structure", "a (#1)", "litellm_params.model") in found
    assert ("error", "structure", "#2", None) in found


def test_includes_are_linted(tmp_path):
    (tmp_path / "more.yaml").write_text(config(one("inc", "api_key: os.envrion/KEY")))
    found = findings(tmp_path, CLEAN + "include:\n  - more.yaml\n")
    assert ("error", "env-typo", "inc (#2)", "litellm_params.api_key") in found


def test_never_prints_secrets(capsys, tmp_path):
    text = config(one("a", "api_key: sk-live-SECRETVALUE, api_base: os.envrion/BASE_VAR_NAME, "
                           "input_cost_per_token: os.environ/PRICE_VAR_NAME"),
                  extra="general_settings:\n  master_key: os.envrion/MASTER_VAR_NAME\n")
    path = write_config(tmp_path, text)
    for fmt in ("table", "json"):
        main(["validate", "--config", str(path), "--format", fmt])
        out, err = capsys.readouterr()
        for secret in ("SECRETVALUE", "BASE_VAR_NAME", "PRICE_VAR_NAME", "MASTER_VAR_NAME"):
            assert secret not in out + err


def test_settings_errors(tmp_path):
    bad = CLEAN + "litellm_settings:\n  cost_discount_config:\n    anthropic: 1.5\n"
    assert ("error", "settings", None, "litellm_settings.cost_discount_config.anthropic") in findings(tmp_path, bad)
    good = CLEAN + "litellm_settings:\n  cost_discount_config:\n    anthropic: 0.1\n"
    assert "settings" not in rules(tmp_path, good)
