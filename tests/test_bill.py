"""``--reconcile-with``: provider bills (OpenAI Costs API pages, Anthropic cost reports, plain CSV) against the
computed cost, per day and model (and project), in every format. Fixtures in tests/data/bills follow the shapes
the providers document (see the README); the arithmetic is in tests/audit_data.py."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from .audit_data import CONFIG, write_world
from .conftest import ROOT
from .runner import main

BILLS = ROOT / "tests" / "data" / "bills"
OPENAI = str(BILLS / "openai_costs_page.json")
ANTHROPIC = str(BILLS / "anthropic_cost_report.json")
OTHER = str(BILLS / "other_provider.csv")


def run(tmp_path: Path, capsys, *args: str, bills: tuple[str, ...] = (OPENAI, ANTHROPIC, OTHER),
        config: str | None = None) -> tuple[int, str, str]:
    usage, cfg, cm = write_world(tmp_path)
    if config is not None:
        Path(cfg).write_text(config)
    argv = ["price", usage, "--config", cfg, "--cost-map", cm]
    for b in bills:
        argv += ["--reconcile-with", b]
    code = main([*argv, *args])
    out, err = capsys.readouterr()
    return code, out, err


# day, provider, model, project -> (records, computed, billed, gap, share, status)
EXPECTED = {
    # 0.0027 computed (audit_data record 3); the bill: "0.18" + "0.09" cents = $0.0027
    ("2026-11-02", "anthropic", "claude-sonnet-4-5", "(all)"): (1, "0.0027", "0.0027", "0", "0", "match"),
    # records 1 and 2: 0.006 + 0.004; the bill: line items "gpt-4o-2024-08-06, input/output" 0.006 + 0.004
    ("2026-11-02", "openai", "gpt-4o", "(all)"): (2, "0.01", "0.01", "0", "0", "match"),
    # record 4 (no project in the log) against the CSV line without a project
    ("2026-11-03", "azure", "private-deploy", "(none)"): (1, "0.003", "0.003", "0", "0", "match"),
    # a project the logs never saw
    ("2026-11-03", "azure", "private-deploy", "proj-b"): (0, "0", "0.0011", "0.0011", "1", "bill only"),
    # record 5: 0.005; billed 0.001 + 0.0045 = 0.0055: gap 0.0005, share 0.0005 / 0.0055 = 0.0909
    ("2026-11-03", "openai", "gpt-4o", "(all)"): (1, "0.005", "0.0055", "0.0005", "0.0909", "gap"),
    # calls the logs do not have at all
    ("2026-11-03", "openai", "gpt-4o-mini", "(all)"): (0, "0", "0.02", "0.02", "1", "bill only"),
}


def test_json_aligns_bills_per_day_model_and_project(tmp_path, capsys):
    code, out, _ = run(tmp_path, capsys, "--format", "json")
    assert code == 0
    rec = json.loads(out)["bill_reconciliation"]
    got = {(r["day"], r["provider"], r["model"], r["project"]):
           (r["records"], r["computed"], r["billed"], r["gap"], r["share"], r["status"]) for r in rec["rows"]}
    assert got == EXPECTED
    # totals: computed 0.0207 (every record is covered), billed 0.0027 + 0.01 + 0.003 + 0.0011 + 0.0055 + 0.02
    assert rec["totals"] == {"computed": "0.0207", "billed": "0.0423", "gap": "0.0216", "share": "0.5106"}
    assert (rec["bill_only"], rec["logs_only"], rec["records_not_covered"]) == (2, 0, 0)
    assert [f["kind"] for f in rec["files"]] == ["openai", "anthropic", "csv"]


def test_csv_is_the_reconciliation_table(tmp_path, capsys):
    code, out, _ = run(tmp_path, capsys, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    got = {(r["day"], r["provider"], r["model"], r["project"]):
           (int(r["records"]), r["computed"], r["billed"], r["gap"], r["share"], r["status"]) for r in rows}
    assert got == {k: (v[0], *v[1:4], v[4] or "", v[5]) for k, v in EXPECTED.items()}
    assert {r["currency"] for r in rows} == {"USD"}


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_text_formats_show_bill_only_rows_apart(tmp_path, capsys, fmt):
    code, out, _ = run(tmp_path, capsys, "--format", fmt)
    assert code == 0
    assert "gpt-4o-mini" in out and "0.0055 USD" in out and "0.0216 USD" in out
    if fmt == "table":
        assert out.count("BILL ONLY") == 2
    elif fmt == "markdown":
        assert out.count("**BILL ONLY**") == 2
    else:
        assert out.count('<tr class="bill-only">') == 2
        assert out.index("Provider bill vs computed") < out.index("</body>")


def test_records_outside_the_bills_are_not_compared(tmp_path, capsys):
    # only the OpenAI page: Anthropic and Azure records are outside it (records 3 and 4)
    code, out, _ = run(tmp_path, capsys, "--format", "json", bills=(OPENAI,))
    assert code == 0
    rec = json.loads(out)["bill_reconciliation"]
    assert {r["provider"] for r in rec["rows"]} == {"openai"}
    assert rec["records_not_covered"] == 2
    assert rec["totals"]["computed"] == "0.015"  # 0.01 + 0.005


def test_a_day_with_logs_and_no_bill_line_is_logs_only(tmp_path, capsys):
    bill = tmp_path / "bill.csv"
    bill.write_text("date,provider,model,amount,currency\n2026-11-02,openai,gpt-4o,0.01,USD\n"
                    "2026-11-03,openai,gpt-4o-mini,0,USD\n")
    code, out, _ = run(tmp_path, capsys, "--format", "json", bills=(str(bill),))
    assert code == 0
    rows = {(r["day"], r["model"]): r for r in json.loads(out)["bill_reconciliation"]["rows"]}
    assert rows[("2026-11-03", "gpt-4o")]["status"] == "logs only"
    assert rows[("2026-11-03", "gpt-4o")]["computed"] == "0.005"
    assert rows[("2026-11-03", "gpt-4o")]["share"] is None  # nothing billed: no share of a bill


def test_the_proxy_margin_is_not_on_the_provider_bill(tmp_path, capsys):
    # a 50% platform margin on top: the report books 0.01 × 1.5 = 0.015 for 11-02 gpt, the provider bills 0.01
    config = CONFIG + "  cost_margin_config: {global: 0.5}\n"
    bill = tmp_path / "bill.csv"
    bill.write_text("date,provider,model,amount,currency\n2026-11-02,openai,gpt-4o,0.01,USD\n")
    code, out, _ = run(tmp_path, capsys, "--format", "json", bills=(str(bill),), config=config)
    doc = json.loads(out)
    row = next(r for r in doc["bill_reconciliation"]["rows"] if r["day"] == "2026-11-02")
    assert row["computed"] == "0.01" and row["status"] == "match"
    # Anthropic: 0.003 contracted, 10% discount then 50% margin: booked 0.00405, the provider bills 0.0027
    bill.write_text("date,provider,model,amount,currency\n2026-11-02,anthropic,claude-sonnet-4-5-20250929,"
                    "0.0027,USD\n")
    code, out, _ = run(tmp_path, capsys, "--format", "json", bills=(str(bill),), config=config)
    assert code == 0
    doc = json.loads(out)
    [row] = doc["bill_reconciliation"]["rows"]
    assert (row["computed"], row["status"]) == ("0.0027", "match")
    # while the report books every record with the margin: (0.015 + 0.0027 + 0.003) × 1.5 = 0.03105
    assert doc["totals"]["cost"]["total"] == pytest.approx(0.03105, abs=1e-15)


def test_parallel_runs_give_the_same_reconciliation(tmp_path, capsys):
    _, one, _ = run(tmp_path, capsys, "--format", "json")
    _, many, _ = run(tmp_path, capsys, "--format", "json", "--jobs", "2")
    assert json.loads(one)["bill_reconciliation"] == json.loads(many)["bill_reconciliation"]


@pytest.mark.parametrize(("name", "text", "message"), [
    ("openai.json", '{"object": "page", "data": [{"object": "bucket", "start_time": 1793577600, "results": '
     '[{"object": "organization.costs.result", "amount": {"value": "lots", "currency": "usd"}}]}]}',
     "openai.json: data[0].results[0].amount.value: not a decimal number: 'lots'"),
    ("anthropic.json", '{"data": [{"starting_at": "2026-11-02T00:00:00Z", "results": [{"amount": 12, '
     '"currency": "USD"}]}], "has_more": false}',
     "anthropic.json: data[0].results[0].amount: not a decimal string: 12"),
    ("anthropic2.json", '{"data": [{"starting_at": "yesterday", "results": []}], "has_more": false}',
     "anthropic2.json: data[0].starting_at: not an RFC 3339 time: 'yesterday'"),
    ("bill.csv", "date,provider,model,amount,currency\n2026-11-02,openai,gpt-4o,0.01,USD\n"
     "2026-11-03,openai,gpt-4o,1.2.3,USD\n", "bill.csv:3: amount: not a decimal number: '1.2.3'"),
    ("nohead.csv", "day,model,cost\n", "nohead.csv:1: header lacks date, provider, amount, currency"),
    ("feb30.csv", "date,provider,model,amount,currency\n2026-02-30,openai,gpt-4o,1,USD\n",
     "feb30.csv:2: date: not YYYY-MM-DD: '2026-02-30'"),
    ("date.csv", "date,provider,model,amount,currency\n11/02/2026,openai,gpt-4o,1,USD\n",
     "date.csv:2: date: not YYYY-MM-DD: '11/02/2026'"),
    ("broken.json", '{"object": "page", "data": [', "broken.json:1: not valid JSON"),
    ("other.json", '{"totals": 3}', "other.json: not an OpenAI Costs API page"),
    ("eur.csv", "date,provider,model,amount,currency\n2026-11-02,openai,gpt-4o,0.01,EUR\n",
     "eur.csv:2: amount in EUR, the report is in USD"),
])
def test_bad_bills_are_one_line_errors(tmp_path, capsys, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    code, out, err = run(tmp_path, capsys, "--format", "json", bills=(str(path),))
    assert code == 2, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert message in lines[0].replace(str(tmp_path) + "/", ""), lines[0]


def test_reconcile_with_refuses_per_record_formats(tmp_path, capsys):
    code, _, err = run(tmp_path, capsys, "--format", "jsonl")
    assert code == 2 and "--reconcile-with goes with" in err


def test_pages_in_an_array_and_projects_and_workspaces(tmp_path, capsys):
    """OpenAI grouped by project (two pages saved as one JSON array) and Anthropic grouped by workspace: rows
    split by the project the records name; records without one meet the lines without one."""
    pages = [
        {"object": "page", "has_more": True, "next_page": "page_2", "data": [
            {"object": "bucket", "start_time": 1793577600, "end_time": 1793664000, "results": [
                {"object": "organization.costs.result", "amount": {"value": 0.006, "currency": "usd"},
                 "line_item": "gpt-4o-2024-08-06, input", "project_id": "proj_search"}]}]},
        {"object": "page", "has_more": False, "next_page": None, "data": [
            {"object": "bucket", "start_time": 1793577600, "end_time": 1793664000, "results": [
                {"object": "organization.costs.result", "amount": {"value": 0.004, "currency": "usd"},
                 "line_item": "gpt-4o-2024-08-06, output", "project_id": None}]}]},
    ]
    openai = tmp_path / "openai-pages.json"
    openai.write_text(json.dumps(pages))
    anthropic = tmp_path / "anthropic.json"
    anthropic.write_text(json.dumps({"has_more": False, "next_page": None, "data": [
        {"starting_at": "2026-11-02T00:00:00Z", "ending_at": "2026-11-03T00:00:00Z", "results": [
            {"currency": "USD", "amount": "0.27", "workspace_id": "wrkspc_agents", "model": "claude-sonnet-4-5",
             "cost_type": "tokens", "description": "Claude Sonnet 4.5 Usage", "context_window": "0-200k",
             "service_tier": "standard", "token_type": "output_tokens"},
            {"currency": "USD", "amount": "150", "workspace_id": None, "model": None, "cost_type": "web_search",
             "description": "Web search", "context_window": None, "service_tier": None, "token_type": None}]}]}))
    usage, cfg, cm = write_world(tmp_path)
    # record 1 names its OpenAI project; record 3 its Anthropic workspace (in metadata)
    lines = Path(usage).read_text().splitlines()
    first, third = json.loads(lines[0]), json.loads(lines[2])
    first["project_id"] = "proj_search"
    third["metadata"] = {"workspace_id": "wrkspc_agents"}
    lines[0], lines[2] = json.dumps(first), json.dumps(third)
    Path(usage).write_text("\n".join(lines) + "\n")
    code = main(["price", usage, "--config", cfg, "--cost-map", cm, "--reconcile-with", str(openai),
                 "--reconcile-with", str(anthropic), "-f", "json"])
    out, _ = capsys.readouterr()
    assert code == 0
    rows = {(r["provider"], r["model"], r["project"]): (r["records"], r["computed"], r["billed"], r["status"])
            for r in json.loads(out)["bill_reconciliation"]["rows"] if r["day"] == "2026-11-02"}
    assert rows == {
        # record 1: 0.006 in proj_search; record 2 (0.004) names no project, as the second page's line
        ("openai", "gpt-4o", "proj_search"): (1, "0.006", "0.006", "match"),
        ("openai", "gpt-4o", "(none)"): (1, "0.004", "0.004", "match"),
        ("anthropic", "claude-sonnet-4-5", "wrkspc_agents"): (1, "0.0027", "0.0027", "match"),
        # 150 cents of web search in the default workspace: on the bill, not in any log
        ("anthropic", "web_search", "(none)"): (0, "0", "1.5", "bill only"),
    }


def test_a_window_leaves_out_the_bill_days_outside_it(tmp_path, capsys):
    code, out, _ = run(tmp_path, capsys, "--format", "json", "--since", "2026-11-03")
    assert code == 0
    rec = json.loads(out)["bill_reconciliation"]
    assert {r["day"] for r in rec["rows"]} == {"2026-11-03"}
    # 11-03: gpt 0.005 vs 0.0055, gpt-4o-mini 0.02 bill only, azure 0.003 + 0.0011 billed
    assert rec["totals"] == {"computed": "0.008", "billed": "0.0296", "gap": "0.0216", "share": "0.7297"}


@pytest.mark.parametrize(("text", "message"), [
    ('{"object": "page", "data": [{"object": "bucket", "start_time": 1e30, "results": []}]}',
     "data[0].start_time: not Unix seconds in the years 1970 to 9999"),
    ('{"object": "page", "data": [{"object": "bucket", "start_time": 1793577600, "results": [{"object": '
     '"organization.costs.result", "amount": {"value": 1e999999, "currency": "usd"}}]}]}',
     "data[0].results[0].amount.value: Decimal('1E+999999') is beyond any bill"),
])
def test_absurd_bill_values_are_refused(tmp_path, capsys, text, message):
    path = tmp_path / "absurd.json"
    path.write_text(text)
    code, _, err = run(tmp_path, capsys, bills=(str(path),))
    assert code == 2 and message in err, err
