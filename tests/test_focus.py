"""``--format focus``: a FinOps FOCUS 1.2 dataset, checked against the 1.2 column rules here and by the FinOps
Foundation's focus-validator 2.2.1 (FOCUS 1.2, in its own Python 3.12 virtualenv); ``--focus-version 1.3``."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from .audit_data import write_world
from .runner import main

# FOCUS 1.2's Mandatory columns, from the specification (specification/columns/*.md at tag v1.2):
# column -> (data type, allows nulls, allowed values or None)
SERVICE_CATEGORIES = {"AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases",
                      "Developer Tools", "Multicloud", "Identity", "Integration", "Internet of Things",
                      "Management and Governance", "Media", "Migration", "Mobile", "Networking", "Security",
                      "Storage", "Web", "Other"}
FOCUS_1_2_MANDATORY = {
    "BilledCost": ("Decimal", False, None),
    "BillingAccountId": ("String", False, None),
    "BillingAccountName": ("String", True, None),
    "BillingCurrency": ("Currency", False, None),
    "BillingPeriodEnd": ("DateTime", False, None),
    "BillingPeriodStart": ("DateTime", False, None),
    "ChargeCategory": ("String", False, {"Usage", "Purchase", "Tax", "Credit", "Adjustment"}),
    "ChargeClass": ("String", True, {"Correction"}),
    "ChargeDescription": ("String", True, None),
    "ChargePeriodEnd": ("DateTime", False, None),
    "ChargePeriodStart": ("DateTime", False, None),
    "ContractedCost": ("Decimal", False, None),
    "EffectiveCost": ("Decimal", False, None),
    "InvoiceIssuerName": ("String", False, None),
    "ListCost": ("Decimal", False, None),
    "PricingQuantity": ("Decimal", True, None),
    "PricingUnit": ("String", True, None),
    "ProviderName": ("String", False, None),
    "PublisherName": ("String", False, None),
    "ServiceCategory": ("String", False, SERVICE_CATEGORIES),
    "ServiceName": ("String", False, None),
}
# FOCUS numeric format: an integer or decimal, or E notation; no sign for positives, no thousands separators
NUMERIC = re.compile(r"^-?\d+(\.\d+)?([eE]-?\d+)?$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def focus_csv(tmp_path: Path, capsys, *extra: str) -> list[dict[str, str]]:
    usage, cfg, cm = write_world(tmp_path)
    out = tmp_path / "focus.csv"
    assert main(["price", usage, "--config", cfg, "--cost-map", cm, "--format", "focus", "-o", str(out),
                 *extra]) == 0
    capsys.readouterr()
    with open(out, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_one_row_per_day_deployment_team_with_hand_computed_costs(tmp_path, capsys):
    rows = focus_csv(tmp_path, capsys)
    got = {(r["ChargePeriodStart"][:10], r["ResourceId"], r["SubAccountId"]):
           (r["BilledCost"], r["EffectiveCost"], r["ContractedCost"], r["ListCost"], r["PricingQuantity"],
            r["x_Requests"])
           for r in rows}
    # arithmetic in tests/audit_data.py
    assert got == {
        ("2026-11-02", "gpt (#1)", "search"): ("0.01", "0.01", "0.01", "0.01", "3500.0", "2"),
        ("2026-11-02", "claude (id claude-neg)", "agents"): ("0.0027", "0.0027", "0.003", "0.0045", "1100.0", "1"),
        ("2026-11-03", "private (#3)", "agents"): ("0.003", "0.003", "0.003", "0.003", "2000.0", "1"),
        ("2026-11-03", "gpt (#1)", ""): ("0.005", "0.005", "0.005", "0.005", "1000.0", "1"),
    }
    private = next(r for r in rows if r["ResourceId"] == "private (#3)")
    assert private["x_ListPriceMissing"] == "1"  # no public price: listed at the contracted cost
    claude = next(r for r in rows if r["ResourceId"] == "claude (id claude-neg)")
    assert (claude["ProviderName"], claude["ChargePeriodEnd"], claude["BillingPeriodStart"],
            claude["BillingPeriodEnd"]) == ("anthropic", "2026-11-03T00:00:00Z", "2026-11-01T00:00:00Z",
                                            "2026-12-01T00:00:00Z")
    assert json.loads(claude["Tags"]) == {"team": "agents"}
    # the FOCUS file adds up to the report's total
    assert sum(Decimal(r["BilledCost"]) for r in rows) == Decimal("0.0207")


def test_every_mandatory_focus_1_2_column_has_its_type_and_allowed_values(tmp_path, capsys):
    rows = focus_csv(tmp_path, capsys)
    assert rows
    for column, (kind, nullable, allowed) in FOCUS_1_2_MANDATORY.items():
        for r in rows:
            assert column in r, column
            value = r[column]
            if value == "":
                assert nullable, f"{column} is null"
                continue
            if kind == "Decimal":
                assert NUMERIC.match(value), (column, value)
            elif kind == "DateTime":
                assert DATETIME.match(value), (column, value)
            elif kind == "Currency":
                assert re.fullmatch(r"[A-Z]{3}", value), (column, value)
            if allowed is not None:
                assert value in allowed, (column, value)
    for r in rows:
        # conditional columns filled: consumption matches pricing, custom columns carry FOCUS' x_ prefix
        assert (r["ConsumedQuantity"], r["ConsumedUnit"]) == (r["PricingQuantity"], r["PricingUnit"]) and \
            r["PricingUnit"] == "Tokens"
        assert isinstance(json.loads(r["Tags"]), dict)
        assert r["ChargeCategory"] == "Usage" and r["ChargeClass"] == ""
        assert r["ChargePeriodStart"] < r["ChargePeriodEnd"]
        assert r["BillingPeriodStart"] <= r["ChargePeriodStart"] < r["BillingPeriodEnd"]
    custom = [c for c in rows[0] if c not in FOCUS_1_2_MANDATORY]
    spec_optional = {"ChargeFrequency", "ConsumedQuantity", "ConsumedUnit", "InvoiceId", "PricingCategory",
                     "PricingCurrency",
                     "ResourceId", "ResourceName", "ResourceType", "ServiceSubcategory", "SubAccountId",
                     "SubAccountName", "Tags"}
    assert all(c in spec_optional or c.startswith("x_") for c in custom), custom


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_per_second_deployments_price_seconds(tmp_path, capsys):
    cm = write_world(tmp_path)[2]
    (tmp_path / "sec.yaml").write_text(
        "model_list:\n  - model_name: sm\n    litellm_params: {model: sagemaker/endpoint-a, "
        "input_cost_per_second: 0.0004}\n")
    (tmp_path / "sec.jsonl").write_text(
        '{"timestamp": "2026-11-02T09:00:00Z", "model": "sm", "prompt_tokens": 10, "completion_tokens": 5, '
        '"duration_s": 2.5}\n')
    out = tmp_path / "f.csv"
    assert main(["price", str(tmp_path / "sec.jsonl"), "-c", str(tmp_path / "sec.yaml"), "--cost-map", cm,
                 "-f", "focus", "-o", str(out)]) == 0
    capsys.readouterr()
    [row] = read_rows(out)
    # 2.5 s × $0.0004/s = $0.001
    assert (row["PricingQuantity"], row["PricingUnit"], row["BilledCost"]) == ("2.5", "Seconds", "0.001")


def test_zero_cost_rows_are_decimals_too(tmp_path, capsys):
    _, cfg, cm = write_world(tmp_path)
    (tmp_path / "zero.jsonl").write_text(
        '{"timestamp": "2026-11-02T09:00:00Z", "model": "gpt", "prompt_tokens": 0, "completion_tokens": 0}\n')
    out = tmp_path / "f.csv"
    assert main(["price", str(tmp_path / "zero.jsonl"), "-c", cfg, "--cost-map", cm, "-f", "focus",
                 "-o", str(out)]) == 0
    capsys.readouterr()
    [row] = read_rows(out)
    assert (row["BilledCost"], row["ListCost"], row["PricingQuantity"]) == ("0.0", "0.0", "0.0")


def test_billed_cost_is_the_reports_exact_total_to_the_last_digit(tmp_path, capsys):
    """Costs with more decimals than any fixed rounding keeps: FOCUS rows and a budget add up to the JSON
    report's exact total, digit for digit.

    Hand arithmetic: $0.000000123456789012 per input token (18 places), $0.000000987654321098 per output token,
    margin 5%. Day 1: 1000 in + 10 out = 0.000123456789012 + 0.00000987654321098 = 0.00013333333222298, x 1.05
    = 0.000139999998834129. Day 2: 3 in + 7 out = 0.000000370370367036 + 0.000006913580247686 =
    0.000007283950614722, x 1.05 = 0.0000076481481454581. Total 0.0001476481469795871 (19 decimal places)."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("""
model_list:
  - model_name: fine
    litellm_params: {model: openai/fine-model}
    model_info: {input_cost_per_token: 1.23456789012e-7, output_cost_per_token: 9.87654321098e-7}
litellm_settings:
  cost_margin_config: {global: 0.05}
""")
    usage = tmp_path / "u.jsonl"
    usage.write_text(
        '{"timestamp": "2026-11-02T09:00:00Z", "model": "fine", "prompt_tokens": 1000, "completion_tokens": 10}\n'
        '{"timestamp": "2026-11-03T09:00:00Z", "model": "fine", "prompt_tokens": 3, "completion_tokens": 7}\n')
    out = tmp_path / "f.csv"
    assert main(["price", str(usage), "-c", str(cfg), "-f", "focus", "-o", str(out)]) == 0
    capsys.readouterr()
    rows = read_rows(out)
    assert [r["BilledCost"] for r in rows] == ["0.000139999998834129", "0.0000076481481454581"]
    assert main(["price", str(usage), "-c", str(cfg), "-f", "json", "--budget", "total:1"]) == 0
    doc = json.loads(capsys.readouterr().out, parse_float=Decimal)
    total = Decimal("0.0001476481469795871")
    assert doc["totals"]["cost"]["total"] == total
    assert sum(Decimal(r["BilledCost"]) for r in rows) == total
    assert Decimal(doc["budgets"]["lines"][0]["spent"]) == total


def test_focus_is_the_same_with_parallel_workers(tmp_path, capsys):
    one = focus_csv(tmp_path, capsys)
    many = focus_csv(tmp_path, capsys, "--jobs", "2")
    assert one == many


def test_focus_refuses_explain(tmp_path, capsys):
    usage, cfg, cm = write_world(tmp_path)
    assert main(["price", usage, "-c", cfg, "--cost-map", cm, "-f", "focus", "--explain"]) == 2
    assert "--format focus" in capsys.readouterr().err


# -- the FinOps Foundation's validator ------------------------------------------------------------------------

# focus-validator 2.2.1 validates FOCUS 1.2 and needs Python 3.12 or newer (../shared/ENGINES.md); it pins
# sqlglot and numpy versions costcalc's own environment cannot share, so it lives in its own virtualenv: the
# interpreter COSTCALC_FOCUS_VALIDATOR_PYTHON names, else .focus12-venv beside the checkout, created on first use
# from pyenv's Python 3.12 (its pyarrow needs NumPy 2 although it pins numpy<2: upgraded in a second step).
VALIDATOR_VERSION = "2.2.1"
FOCUS_VENV = Path(__file__).resolve().parent.parent / ".focus12-venv"
PYTHON_3_12 = Path.home() / ".pyenv" / "versions" / "3.12.1" / "bin" / "python"
INSTALL = (f"{PYTHON_3_12} -m venv .focus12-venv && .focus12-venv/bin/pip install "
           f"focus-validator=={VALIDATOR_VERSION} && .focus12-venv/bin/pip install 'numpy>=2'")


def _validator_python() -> str:
    given = os.environ.get("COSTCALC_FOCUS_VALIDATOR_PYTHON")
    if given:
        return given
    python = FOCUS_VENV / "bin" / "python"
    if not python.exists() and PYTHON_3_12.exists():
        subprocess.run([str(PYTHON_3_12), "-m", "venv", str(FOCUS_VENV)], check=False, capture_output=True)
        for spec in (f"focus-validator=={VALIDATOR_VERSION}", "numpy>=2"):
            subprocess.run([str(python), "-m", "pip", "install", "-q", spec], check=False, capture_output=True,
                           timeout=900)
    return str(python)


def _validator_home() -> Path:
    """The directory focus-validator must run in (its site-packages): it reads its rules and ISO 4217 list
    from the relative path focus_validator/rules."""
    python = _validator_python()
    proc = subprocess.run([python, "-c", "import focus_validator, os, importlib.metadata as m; "
                           "print(m.version('focus-validator')); "
                           "print(os.path.dirname(os.path.dirname(focus_validator.__file__)))"],
                          capture_output=True, text=True, timeout=120) if Path(python).exists() else None
    if proc is None or proc.returncode != 0 or proc.stdout.split()[0] != VALIDATOR_VERSION:
        reason = f"focus-validator {VALIDATOR_VERSION} is not installed: {INSTALL}"
        if os.environ.get("COSTCALC_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return Path(proc.stdout.split()[1])


def run_validator(path: Path) -> dict[str, str]:
    """focus-validator on ``path`` at FOCUS 1.2, offline: {rule id: PASS, FAIL or SKIPPED}."""
    home = _validator_home()
    proc = subprocess.run([_validator_python(), "-m", "focus_validator.main", "--data-file", str(path),
                           "--validate-version", "1.2", "--block-download", "--rule-set-path",
                           "focus_validator/rules"],
                          capture_output=True, text=True, cwd=home, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = dict(re.findall(r"^\S+ (\S+-\S+): (PASS|FAIL|SKIPPED)\b", proc.stdout, re.MULTILINE))
    assert results, proc.stdout[-2000:]
    return results


# InvoiceId-C-003-C (InvoiceId's nullability) is an OR of C-004 (null when no invoice) and C-005 (not null when
# invoiced), and the validator also runs each branch on its own, with no condition saying which rows are invoiced:
# whatever a dataset holds, one branch fails. costcalc's rows are on no invoice: C-004 and the OR pass, C-005 fails.
UNSATISFIABLE_BRANCH = "InvoiceId-C-005-C"


def test_focus_validator_2_2_1_passes_the_export(tmp_path, capsys):
    focus_csv(tmp_path, capsys)
    results = run_validator(tmp_path / "focus.csv")
    failed = sorted(rule for rule, status in results.items() if status == "FAIL")
    assert failed == [UNSATISFIABLE_BRANCH], failed
    # InvoiceId is present (the 7 failures of an export without it), null on every row
    for rule in ("CostAndUsage-D-033-O", "InvoiceId-C-000-O", "InvoiceId-C-003-C", "InvoiceId-C-004-C"):
        assert results[rule] == "PASS", rule
    passed = sum(1 for status in results.values() if status == "PASS")
    assert passed >= 136, passed
    # the 1.3 export (price-point rows, SKUs and unit prices) against the same 1.2 rules: the same result
    focus_csv(tmp_path, capsys, "--focus-version", "1.3")
    results = run_validator(tmp_path / "focus.csv")
    assert sorted(rule for rule, status in results.items() if status == "FAIL") == [UNSATISFIABLE_BRANCH]
    assert sum(1 for status in results.values() if status == "PASS") == passed


def test_focus_validator_catches_a_broken_export(tmp_path, capsys):
    """The validator run above can fail: a currency that is no ISO 4217 code and a charge category FOCUS does not
    have are reported."""
    rows = focus_csv(tmp_path, capsys)
    broken = tmp_path / "broken.csv"
    with open(broken, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({**r, "BillingCurrency": "dollars", "ChargeCategory": "Spend"})
    results = run_validator(broken)
    failed = {rule for rule, status in results.items() if status == "FAIL"}
    assert any(rule.startswith("BillingCurrency-") for rule in failed), failed
    assert any(rule.startswith("ChargeCategory-") for rule in failed), failed


def test_focus_1_3_adds_service_and_host_providers_and_names_the_publisher(tmp_path, capsys):
    rows = focus_csv(tmp_path, capsys, "--focus-version", "1.3")
    got = {r["ResourceId"]: (r["ServiceProviderName"], r["HostProviderName"], r["PublisherName"], r["InvoiceId"])
           for r in rows}
    # claude is served by Anthropic itself, gpt by OpenAI; the private Azure deployment names no known model
    assert got == {"claude (id claude-neg)": ("anthropic", "anthropic", "Anthropic", ""),
                   "gpt (#1)": ("openai", "openai", "OpenAI", ""),
                   "private (#3)": ("azure", "azure", "azure", "")}
    assert "ServiceProviderName" not in focus_csv(tmp_path, capsys)[0]  # 1.2 has no such column
    usage, cfg, cm = write_world(tmp_path)
    assert main(["price", usage, "-c", cfg, "--cost-map", cm, "--focus-version", "1.4", "-f", "focus"]) == 2
    assert main(["price", usage, "-c", cfg, "--cost-map", cm, "--focus-version", "1.3"]) == 2
    capsys.readouterr()


def test_claude_through_bedrock_is_published_by_anthropic_and_served_by_bedrock(tmp_path, capsys):
    cm = tmp_path / "map.json"
    cm.write_text(json.dumps({"anthropic.claude-sonnet-4-5-20250929-v1:0": {
        "litellm_provider": "bedrock", "mode": "chat", "input_cost_per_token": 3e-06,
        "output_cost_per_token": 1.5e-05}}))
    cfg = tmp_path / "b.yaml"
    cfg.write_text("model_list:\n  - model_name: claude\n    litellm_params: "
                   "{model: bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0}\n")
    usage = tmp_path / "b.jsonl"
    usage.write_text('{"timestamp": "2026-11-02T09:00:00Z", "model": "claude", "prompt_tokens": 1000, '
                     '"completion_tokens": 100}\n')
    out = tmp_path / "b.csv"
    assert main(["price", str(usage), "-c", str(cfg), "--cost-map", str(cm), "-f", "focus", "--focus-version",
                 "1.3", "-o", str(out)]) == 0
    capsys.readouterr()
    rows = read_rows(out)
    assert {(r["ServiceProviderName"], r["HostProviderName"], r["PublisherName"]) for r in rows} == \
        {("bedrock", "bedrock", "Anthropic")}
    # input 1000 × 3e-6 = 0.003, output 100 × 1.5e-5 = 0.0015
    assert {r["x_PricePoint"]: r["BilledCost"] for r in rows} == {"input": "0.003", "output": "0.0015"}


def test_focus_1_3_rows_per_model_and_price_point_with_exact_unit_prices(tmp_path, capsys):
    rows = focus_csv(tmp_path, capsys, "--focus-version", "1.3")
    got = {(r["ChargePeriodStart"][:10], r["ResourceId"], r["x_PricePoint"]):
           (r["PricingQuantity"], r["ListUnitPrice"], r["ListCost"], r["ContractedUnitPrice"], r["ContractedCost"],
            r["BilledCost"], r["SkuId"], r["SkuPriceId"]) for r in rows}
    # tests/audit_data.py: claude 1000 in + 100 out at the config's $2/M and $10/M (list: the map's $3/M, $15/M),
    # then the 10% Anthropic discount on 0.003 as a row of its own
    claude = "anthropic/claude-sonnet-4-5"
    assert got[("2026-11-02", "claude (id claude-neg)", "input")] == (
        "1000.0", "0.000003", "0.003", "0.000002", "0.002", "0.002", f"{claude}/input", f"{claude}/input@0.000002")
    assert got[("2026-11-02", "claude (id claude-neg)", "output")][:6] == (
        "100.0", "0.000015", "0.0015", "0.00001", "0.001", "0.001")
    assert got[("2026-11-02", "claude (id claude-neg)", "discount")][5:7] == ("-0.0003", f"{claude}/discount")
    # gpt on 11-02: records 1 and 2 (1000 + 2000 input, 500 output) at $2/M and $8/M
    assert got[("2026-11-02", "gpt (#1)", "input")][:3] == ("3000.0", "0.000002", "0.006")
    for r in rows:
        if r["x_PricePoint"] in ("discount", "margin"):
            assert r["ListUnitPrice"] == r["ContractedUnitPrice"] == "" and r["PricingUnit"] == "Requests"
            continue
        # quantity × unit price is the cost, exactly
        assert Decimal(r["PricingQuantity"]) * Decimal(r["ListUnitPrice"]) == Decimal(r["ListCost"]), r
        assert Decimal(r["PricingQuantity"]) * Decimal(r["ContractedUnitPrice"]) == Decimal(r["ContractedCost"]), r
        assert r["PricingUnit"] == "Tokens" and r["SkuId"] in r["SkuPriceId"]
    # the rows still add up to the report's total to the last digit, with workers too
    assert sum(Decimal(r["BilledCost"]) for r in rows) == Decimal("0.0207")
    assert focus_csv(tmp_path, capsys, "--focus-version", "1.3", "--jobs", "2") == rows


def test_focus_1_3_reasoning_and_audio_are_price_points_of_their_own(tmp_path, capsys):
    cm = tmp_path / "rmap.json"
    cm.write_text(json.dumps({"o-model": {
        "litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 2e-06, "output_cost_per_token": 8e-06,
        "output_cost_per_reasoning_token": 1e-05, "input_cost_per_audio_token": 4e-05}}))
    cfg = tmp_path / "r.yaml"
    cfg.write_text("model_list:\n  - model_name: o\n    litellm_params: {model: openai/o-model}\n    model_info: "
                   "{input_cost_per_token: 0.000001, output_cost_per_token: 0.000004, "
                   "output_cost_per_reasoning_token: 0.000005, input_cost_per_audio_token: 0.00002}\n")
    usage = tmp_path / "r.jsonl"
    usage.write_text(json.dumps({"created": 1793523600, "object": "chat.completion", "model": "o", "usage": {
        "prompt_tokens": 1000, "completion_tokens": 300, "prompt_tokens_details": {"audio_tokens": 200},
        "completion_tokens_details": {"reasoning_tokens": 100}}}) + "\n")
    out = tmp_path / "r13.csv"
    assert main(["price", str(usage), "-c", str(cfg), "--cost-map", str(cm), "-f", "focus", "--focus-version", "1.3",
                 "-o", str(out)]) == 0
    capsys.readouterr()
    got = {r["x_PricePoint"]: (r["PricingQuantity"], r["ContractedUnitPrice"], r["ContractedCost"],
                               r["ListUnitPrice"], r["ListCost"]) for r in read_rows(out)}
    # 800 text + 200 audio input tokens, 200 text + 100 reasoning output tokens, each at its own config and map rate
    assert got == {"input": ("800.0", "0.000001", "0.0008", "0.000002", "0.0016"),
                   "audio input": ("200.0", "0.00002", "0.004", "0.00004", "0.008"),
                   "output": ("200.0", "0.000004", "0.0008", "0.000008", "0.0016"),
                   "reasoning": ("100.0", "0.000005", "0.0005", "0.00001", "0.001")}
    assert sum(Decimal(r["BilledCost"]) for r in read_rows(out)) == Decimal("0.0061")  # the report's total
