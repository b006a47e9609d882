"""``--budget`` and ``--fail-over-budget``: spent, share and run-rate forecast per budget line in every format.
Per-record dollars are in tests/audit_data.py: agents spend 0.0027 (claude, 11-02) + 0.003 (private, 11-03)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from .audit_data import USAGE, write_world
from .runner import main


def run(tmp_path: Path, capsys, *args: str, extra_records: tuple[dict, ...] = ()) -> tuple[int, str, str]:
    usage, cfg, cm = write_world(tmp_path)
    if extra_records:
        Path(usage).write_text("".join(json.dumps(r) + "\n" for r in (*USAGE, *extra_records)))
    code = main(["price", usage, "--config", cfg, "--cost-map", cm, *args])
    out, err = capsys.readouterr()
    return code, out, err


def lines_of(out: str) -> dict[str, dict]:
    return {b["budget"]: b for b in json.loads(out)["budgets"]["lines"]}


def test_spent_share_and_run_rate_forecast(tmp_path, capsys):
    code, out, _ = run(tmp_path, capsys, "--budget", "team=agents:0.05", "--budget", "total:2",
                       "--budget", "model=gpt:0.1", "-f", "json")
    assert code == 0
    doc = json.loads(out)["budgets"]
    # the month of the newest record (11-03): November, 30 days, 3 elapsed
    assert doc["period"] == {"start": "2026-11-01", "end": "2026-12-01", "as_of": "2026-11-03", "days": 30,
                             "days_elapsed": 3}
    lines = lines_of(out)
    # agents: 0.0057 spent, 0.0057 / 0.05 = 11.4%, forecast 0.0057 / 3 × 30 = 0.057 > 0.05
    assert {k: lines["team=agents"][k] for k in ("spent", "share", "forecast", "records", "status")} == \
        {"spent": "0.0057", "share": "0.114", "forecast": "0.057", "records": 2, "status": "forecast over"}
    # total: 0.0207, forecast 0.207; gpt: 0.006 + 0.004 + 0.005 = 0.015, forecast 0.15 > 0.1
    assert (lines["total"]["spent"], lines["total"]["forecast"], lines["total"]["status"]) == ("0.0207", "0.207",
                                                                                              "ok")
    assert (lines["model=gpt"]["spent"], lines["model=gpt"]["forecast"]) == ("0.015", "0.15")


def test_fail_over_budget_exits_1_only_when_spent_exceeds(tmp_path, capsys):
    code, _, err = run(tmp_path, capsys, "--budget", "team=agents:0.005", "--budget", "total:1",
                       "--fail-over-budget", "-f", "json")
    assert code == 1
    assert "over budget: team=agents (0.0057 of 0.005)" in err
    # a forecast above the budget is a warning in the report, not a failure
    code, out, _ = run(tmp_path, capsys, "--budget", "team=agents:0.05", "--fail-over-budget", "-f", "json")
    assert code == 0 and lines_of(out)["team=agents"]["status"] == "forecast over"


def test_window_sets_the_period_and_older_records_are_not_counted(tmp_path, capsys):
    october = {"timestamp": "2026-10-20T09:00:00Z", "model": "gpt", "prompt_tokens": 1000, "completion_tokens": 0,
               "team": "agents"}
    code, out, _ = run(tmp_path, capsys, "--budget", "team=agents:1", "-f", "json", extra_records=(october,))
    doc = json.loads(out)["budgets"]
    assert doc["records_outside_period"] == 1  # October's record is not November's spending
    assert lines_of(out)["team=agents"]["spent"] == "0.0057"
    code, out, _ = run(tmp_path, capsys, "--budget", "team=agents:1", "-f", "json", "--since", "2026-11-02",
                       "--until", "2026-11-04")
    assert code == 0
    doc = json.loads(out)["budgets"]
    assert (doc["period"]["days"], doc["period"]["days_elapsed"]) == (2, 2)
    assert lines_of(out)["team=agents"]["forecast"] == "0.0057"  # the whole period has elapsed


def test_budgets_in_another_currency(tmp_path, capsys):
    code, out, _ = run(tmp_path, capsys, "--budget", "team=agents:1", "--currency", "EUR", "--fx-rate", "0.9",
                       "-f", "json")
    assert code == 0
    doc = json.loads(out)["budgets"]
    # 0.0057 $ × 0.9 = 0.00513 €
    assert doc["currency"] == "EUR" and lines_of(out)["team=agents"]["spent"] == "0.00513"


def test_tag_budgets_match_any_tag(tmp_path, capsys):
    tagged = {"timestamp": "2026-11-03T10:00:00Z", "model": "gpt", "prompt_tokens": 1000, "completion_tokens": 0,
              "tags": ["prod", "search"]}
    code, out, _ = run(tmp_path, capsys, "--budget", "tag=search:1", "-f", "json", extra_records=(tagged,))
    assert code == 0
    assert lines_of(out)["tag=search"]["spent"] == "0.002"  # 1000 × $2/M


@pytest.mark.parametrize("fmt", ["table", "markdown", "html", "csv"])
def test_every_format_shows_budgets(tmp_path, capsys, fmt):
    code, out, _ = run(tmp_path, capsys, "--budget", "team=agents:0.005", "--budget", "total:1", "-f", fmt)
    assert code == 0
    if fmt == "csv":
        rows = {r["budget"]: r for r in csv.DictReader(io.StringIO(out))}
        assert rows["team=agents"]["spent"] == "0.0057" and rows["team=agents"]["status"] == "over"
        assert rows["total"]["period_start"] == "2026-11-01"
        return
    assert "0.0057 USD" in out and "0.057 USD" in out and "2026-11-01 to 2026-12-01" in out
    marker = {"table": "OVER", "markdown": "**OVER**", "html": '<tr class="over">'}[fmt]
    assert out.count(marker) >= 1


def test_parallel_budgets_are_identical(tmp_path, capsys):
    _, one, _ = run(tmp_path, capsys, "--budget", "team=agents:1", "--budget", "total:1", "-f", "json")
    _, many, _ = run(tmp_path, capsys, "--budget", "team=agents:1", "--budget", "total:1", "-f", "json",
                     "--jobs", "2")
    assert json.loads(one)["budgets"] == json.loads(many)["budgets"]


@pytest.mark.parametrize(("args", "message"), [
    (("--budget", "agents:5"), "expected KEY=VALUE:AMOUNT"),
    (("--budget", "total:-1"), "amount must be a positive number"),
    (("--budget", "team=agents:lots"), "amount must be a positive number up to 10^15, got 'lots'"),
    (("--fail-over-budget",), "--fail-over-budget needs at least one --budget"),
    (("--budget", "total:1", "-f", "jsonl"), "--budget goes with"),
])
def test_bad_budgets_are_one_line_errors(tmp_path, capsys, args, message):
    code, out, err = run(tmp_path, capsys, *args)
    assert code == 2 and out == ""
    assert message in err, err
