"""``--format focus``: a FinOps FOCUS 1.2 dataset, checked against the 1.2 column rules here and by the FinOps
Foundation's focus-validator (at FOCUS 1.0, the newest version focus-validator 1.0.0 supports)."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
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
    spec_optional = {"ChargeFrequency", "ConsumedQuantity", "ConsumedUnit", "PricingCategory", "PricingCurrency",
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

# FOCUS 1.2 renamed four 1.0 columns; focus-validator 1.0.0 knows the 1.0 names
RENAMED_SINCE_1_0 = {"ProviderName": "Provider", "PublisherName": "Publisher", "InvoiceIssuerName": "InvoiceIssuer",
                     "ResourceId": "ResourceID"}
# FOCUS 1.0 requires these present (nullable); 1.2 made them conditional, and this export leaves them out (see
# costcalc.reports.focus): the 1.0 view adds them empty, as 1.0 allows
REQUIRED_IN_1_0_ONLY = ("AvailabilityZone", "CommitmentDiscountCategory", "CommitmentDiscountId",
                        "CommitmentDiscountName", "CommitmentDiscountStatus", "CommitmentDiscountType",
                        "ContractedUnitPrice", "ListUnitPrice", "RegionId", "RegionName", "SkuId", "SkuPriceId")


# focus-validator pins sqlglot<19, which costcalc's own run-time sqlglot cannot share an environment with: it lives
# in its own virtualenv, the interpreter this variable names, else one this module creates on first use
# (.focus-venv beside the checkout, `pip install focus-validator==1.0.0 'multimethod<1.11'` from PyPI)
FOCUS_VENV = Path(__file__).resolve().parent.parent / ".focus-venv"


def _validator_python() -> str:
    given = os.environ.get("COSTCALC_FOCUS_VALIDATOR_PYTHON")
    if given:
        return given
    python = FOCUS_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(FOCUS_VENV)], check=False, capture_output=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "focus-validator==1.0.0", "multimethod<1.11"],
                       check=False, capture_output=True, timeout=900)
    return str(python)


VALIDATOR_PYTHON = _validator_python()


def _validator_home() -> Path:
    """The directory focus-validator must run in: it reads its ISO 4217 list from the relative path
    focus_validator/utils/currency_codes.csv."""
    proc = subprocess.run([VALIDATOR_PYTHON, "-c", "import focus_validator, os; "
                           "print(os.path.dirname(os.path.dirname(focus_validator.__file__)))"],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        reason = (f"focus-validator could not be installed into {FOCUS_VENV}: python -m venv .focus-venv && "
                  ".focus-venv/bin/pip install focus-validator==1.0.0 'multimethod<1.11'")
        if os.environ.get("COSTCALC_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason} ({proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ''})")
        pytest.skip(reason)
    return Path(proc.stdout.strip())


# focus-validator 1.0.0's SkuPriceId_Nullable rule queries ChargeType, a 1.0-preview column that FOCUS 1.0
# renamed ChargeCategory: on any 1.0 file it fails with KeyError('ChargeType'), so it is skipped
VALIDATOR_BUGS = ("SkuPriceId_Nullable",)


def run_validator(path: Path, version: str) -> str:
    overrides = path.with_suffix(".overrides.yaml")
    overrides.write_text("overrides:\n" + "".join(f"  - {rule}\n" for rule in VALIDATOR_BUGS))
    proc = subprocess.run([VALIDATOR_PYTHON, "-m", "focus_validator.main", "--data-file", str(path),
                           "--validate-version", version, "--override-file", str(overrides)],
                          capture_output=True, text=True, cwd=_validator_home(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout + proc.stderr


def test_focus_validator_supports_1_0_at_newest():
    proc = subprocess.run([VALIDATOR_PYTHON, "-m", "focus_validator.main", "--supported-versions"],
                          capture_output=True, text=True, cwd=_validator_home(), timeout=300)
    versions = proc.stdout.split()
    assert "1.0" in versions
    # when a release validates 1.1 or 1.2, the test below must move to it
    assert max(versions, key=lambda v: tuple(int(p) for p in re.findall(r"\d+", v))) == "1.0"


def test_focus_validator_passes_the_export(tmp_path, capsys):
    rows = focus_csv(tmp_path, capsys)
    view = tmp_path / "focus-1.0-view.csv"
    columns = [RENAMED_SINCE_1_0.get(c, c) for c in rows[0]] + list(REQUIRED_IN_1_0_ONLY)
    with open(view, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, columns)
        w.writeheader()
        for r in rows:
            w.writerow({RENAMED_SINCE_1_0.get(k, k): v for k, v in r.items()})
    report = run_validator(view, "1.0")
    assert "failed" not in report.lower(), report
    assert "Validation succeeded" in report, report


def test_focus_validator_catches_a_broken_export(tmp_path, capsys):
    """The validator run above can fail: a non-decimal cost and a bad charge category are reported."""
    rows = focus_csv(tmp_path, capsys)
    view = tmp_path / "broken.csv"
    columns = [RENAMED_SINCE_1_0.get(c, c) for c in rows[0]] + list(REQUIRED_IN_1_0_ONLY)
    with open(view, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, columns)
        w.writeheader()
        for r in rows:
            row = {RENAMED_SINCE_1_0.get(k, k): v for k, v in r.items()}
            row["BillingCurrency"] = "dollars"
            w.writerow(row)
    report = run_validator(view, "1.0")
    assert "BillingCurrency_IsCurrencyCode failed" in report, report
