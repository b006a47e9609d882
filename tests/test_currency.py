"""``--currency`` with ``--fx-rate`` / ``--fx-rates``: exact conversion at each record's day rate, labelled in
every format. Dollar amounts per record are in tests/audit_data.py."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from .audit_data import write_world
from .runner import main

# EUR per USD: 11-02 has no rate (the 11-01 one applies), 11-03 has its own; other currencies are ignored
RATES = """date,currency,rate
2026-10-30,GBP,0.80
2026-11-01,EUR,0.90
2026-11-03,EUR,0.95
2026-11-03,GBP,0.81
"""


def run(tmp_path: Path, capsys, *args: str) -> tuple[int, str, str]:
    usage, cfg, cm = write_world(tmp_path)
    code = main(["price", usage, "--config", cfg, "--cost-map", cm, *args])
    out, err = capsys.readouterr()
    return code, out, err


def rates_file(tmp_path: Path, text: str = RATES) -> str:
    path = tmp_path / "rates.csv"
    path.write_text(text)
    return str(path)


def test_fixed_rate_converts_every_amount(tmp_path, capsys):
    code, out, _ = run(tmp_path, capsys, "--currency", "EUR", "--fx-rate", "0.92", "-f", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["currency"]["code"] == "EUR" and doc["currency"]["rate_source"] == "--fx-rate"
    assert doc["currency"]["fixed_rate"] == "0.92"
    # 0.0207 × 0.92 = 0.019044; claude 0.0027 × 0.92 = 0.002484, its discount -0.0003 × 0.92 = -0.000276
    assert doc["totals"]["cost"]["total"] == pytest.approx(0.019044, abs=1e-15)
    claude = next(g for g in doc["groups"] if g["key"]["model"] == "claude")
    assert claude["cost"]["total"] == pytest.approx(0.002484, abs=1e-15)
    assert claude["cost"]["discount"] + claude["cost"]["margin"] == pytest.approx(-0.000276, abs=1e-15)
    assert claude["requests"] == 1 and claude["tokens"]["input"] == 1000  # counts are not converted


def test_day_rates_take_the_last_earlier_rate(tmp_path, capsys):
    code, out, _ = run(tmp_path, capsys, "--currency", "eur", "--fx-rates", rates_file(tmp_path), "-f", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["currency"]["rates_used"] == {"2026-11-02": "0.90", "2026-11-03": "0.95"}
    by_model = {g["key"]["model"]: g["cost"]["total"] for g in doc["groups"]}
    # gpt: 0.01 on 11-02 × 0.90 + 0.005 on 11-03 × 0.95 = 0.009 + 0.00475; claude 0.0027 × 0.90; private 0.003 × 0.95
    assert by_model == pytest.approx({"gpt": 0.01375, "claude": 0.00243, "private": 0.00285}, abs=1e-15)
    assert doc["totals"]["cost"]["total"] == pytest.approx(0.01903, abs=1e-15)


def test_focus_in_another_currency_is_exact(tmp_path, capsys):
    out_path = tmp_path / "f.csv"
    code, _, _ = run(tmp_path, capsys, "--currency", "EUR", "--fx-rates", rates_file(tmp_path), "-f", "focus",
                     "-o", str(out_path))
    assert code == 0
    with open(out_path, newline="") as fh:
        rows = {(r["ChargePeriodStart"][:10], r["ResourceId"]): r for r in csv.DictReader(fh)}
    claude = rows[("2026-11-02", "claude (id claude-neg)")]
    # billed 0.0027 × 0.90, contracted 0.003 × 0.90, list 0.0045 × 0.90: exact decimals, no float noise
    assert (claude["BilledCost"], claude["ContractedCost"], claude["ListCost"]) == ("0.00243", "0.0027", "0.00405")
    assert (claude["BillingCurrency"], claude["PricingCurrency"], claude["x_FxRate"]) == ("EUR", "USD", "0.90")
    gpt = rows[("2026-11-03", "gpt (#1)")]
    assert (gpt["BilledCost"], gpt["x_FxRate"]) == ("0.00475", "0.95")  # 0.005 × 0.95


@pytest.mark.parametrize("fmt", ["table", "markdown", "html", "csv"])
def test_every_format_labels_the_currency_and_its_source(tmp_path, capsys, fmt):
    rates = rates_file(tmp_path)
    code, out, _ = run(tmp_path, capsys, "--currency", "EUR", "--fx-rates", rates, "-f", fmt)
    assert code == 0
    assert "amounts in EUR at the rate of each record day from" in out and rates in out
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert {r["currency"] for r in rows} == {"EUR"}
        assert float(rows[-1]["total_cost"]) == pytest.approx(0.01903, abs=1e-15)
    else:
        # 0.01903 EUR in total: four decimals give two significant digits of the smallest row (0.0024)
        assert "€0.0190" in out and "$" not in out.replace("$0 ", "")


def test_a_bill_in_euros_meets_the_converted_cost(tmp_path, capsys):
    bill = tmp_path / "bill.csv"
    # 11-02 gpt: 0.01 $ × 0.90 = 0.009 €
    bill.write_text("date,provider,model,amount,currency\n2026-11-02,openai,gpt-4o,0.009,EUR\n")
    code, out, _ = run(tmp_path, capsys, "--currency", "EUR", "--fx-rates", rates_file(tmp_path),
                       "--reconcile-with", str(bill), "-f", "json")
    assert code == 0
    rec = json.loads(out)["bill_reconciliation"]
    row = next(r for r in rec["rows"] if r["day"] == "2026-11-02")
    assert (row["computed"], row["billed"], row["status"], rec["currency"]) == ("0.009", "0.009", "match", "EUR")


def test_parallel_conversion_is_identical(tmp_path, capsys):
    rates = rates_file(tmp_path)
    _, one, _ = run(tmp_path, capsys, "--currency", "EUR", "--fx-rates", rates, "-f", "json", "-g", "team", "-g",
                    "day")
    _, many, _ = run(tmp_path, capsys, "--currency", "EUR", "--fx-rates", rates, "-f", "json", "-g", "team", "-g",
                     "day", "--jobs", "2")
    assert json.loads(one)["groups"] == json.loads(many)["groups"]


@pytest.mark.parametrize(("args", "message"), [
    (("--fx-rate", "0.9"), "give the currency the rates convert to"),
    (("--currency", "EUR"), "give --fx-rate or --fx-rates for EUR"),
    (("--currency", "EUR", "--fx-rate", "-1"), "--fx-rate: must be a positive number: '-1'"),
    (("--currency", "EUR", "--fx-rate", "abc"), "--fx-rate: not a decimal number: 'abc'"),
    (("--currency", "EURO", "--fx-rate", "1"), "--currency: not an ISO 4217 code: 'EURO'"),
    (("--currency", "EUR", "--fx-rate", "0.9", "-f", "jsonl"), "per-record formats stay in USD"),
])
def test_bad_currency_options(tmp_path, capsys, args, message):
    code, out, err = run(tmp_path, capsys, *args)
    assert code == 2 and out == ""
    assert message in err


@pytest.mark.parametrize(("text", "message"), [
    ("date,currency,rate\n2026-11-03,EUR,0.95\n", "no EUR rate on or before 2026-11-02 (the first is 2026-11-03)"),
    ("date,currency,rate\n2026-11-01,EUR,zero\n", "rates.csv:2: rate: not a decimal number: 'zero'"),
    ("date,currency,rate\n01.11.2026,EUR,0.9\n", "rates.csv:2: date: not YYYY-MM-DD: '01.11.2026'"),
    ("day,rate\n", "rates.csv:1: header lacks date, currency"),
    ("date,currency,rate\n2026-11-01,GBP,0.8\n", "rates.csv: no EUR rates"),
    ("date,currency,rate\n2026-11-01,EUR,0.9\n2026-11-01,EUR,0.8\n", "rates.csv:3: date: a second EUR rate"),
])
def test_bad_rates_are_one_line_errors(tmp_path, capsys, text, message):
    code, out, err = run(tmp_path, capsys, "--currency", "EUR", "--fx-rates", rates_file(tmp_path, text))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err, err


def test_absurd_rates_and_budgets_are_refused(tmp_path, capsys):
    code, _, err = run(tmp_path, capsys, "--currency", "EUR", "--fx-rate", "1e999999")
    assert code == 2 and "beyond any currency" in err
    code, _, err = run(tmp_path, capsys, "--budget", "total:1e999999")
    assert code == 2 and "up to 10^15" in err
