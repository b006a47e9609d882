"""One money format for every command: each amount rounded on its own (the same in every report of the same
data), one number of decimals per report from its largest amount, ``--decimals N``, and every table fitting
the terminal with numbers whole.

Prices (the test's own cost map): gpt-4o $1/M input, $4/M output, so a record of N input tokens costs N × 1e-6.
Teams (input tokens → cost):
  platform-engineering-reliability-squad-alpha   31,494,000 → $31.494
  platform-engineering-reliability-squad-bravo   10,004,000 → $10.004
  platform-engineering-reliability-squad-charlie  5,004,000 →  $5.004
  tiny                                                9,900 →  $0.0099
Total $46.5119: $46.51. Rounded on their own the rows show 31.49 + 10.00 + 5.00 + 0.01 = 46.50, one cent short
of the total: the (rounding) line shows +$0.01.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from costcalc.cli import main

COST_MAP = {"gpt-4o": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06,
                       "output_cost_per_token": 4e-06}}
LONG = "platform-engineering-reliability-squad-"
TEAMS = {f"{LONG}alpha": 31_494_000, f"{LONG}bravo": 10_004_000, f"{LONG}charlie": 5_004_000, "tiny": 9_900}
WIDTHS = (80, 120, 200)


def world(tmp_path: Path, spend: dict[str, float] | None = None) -> tuple[str, str]:
    cm = tmp_path / "map.json"
    cm.write_text(json.dumps(COST_MAP))
    usage = tmp_path / "usage.jsonl"
    lines = []
    for i, (team, tokens) in enumerate(TEAMS.items()):
        record = {"timestamp": f"2026-11-0{i + 2}T10:00:00Z", "model": "gpt-4o", "prompt_tokens": tokens,
                  "completion_tokens": 0, "team": team}
        if spend is not None and team in spend:
            record["spend"] = spend[team]
        lines.append(json.dumps(record) + "\n")
    usage.write_text("".join(lines))
    return str(usage), str(cm)


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def row(out: str, label: str) -> list[str]:
    return next(line.split() for line in out.splitlines() if line.startswith(label))


def test_a_team_is_the_same_amount_in_every_report_and_the_rounding_line_closes_the_column(tmp_path, capsys):
    usage, cm = world(tmp_path)
    code, out, _ = run(capsys, "price", usage, "--cost-map", cm, "-g", "team", "-f", "markdown")
    assert code == 0
    cells = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
             for line in out.splitlines() if line.startswith("| ")}
    # the total column: each row its own exact amount rounded; largest remainder would have made alpha $31.50
    assert cells[f"{LONG}alpha"][-2] == "$31.49"
    assert cells[f"{LONG}bravo"][-2] == "$10.00"
    assert cells["tiny"][-2] == "$0.01"  # one tiny group does not turn the table into ten-thousandths
    assert cells["(rounding)"][-2] == "$0.01" and cells["**total**"][-2] == "$46.51"
    assert "each rounded on its own to 2 decimals" in out
    # alpha alone: the same $31.49, and no rounding line (one row is its total)
    code, out, _ = run(capsys, "price", usage, "--cost-map", cm, "-g", "team", "-f", "markdown", "--where",
                       f"team={LONG}alpha")
    assert code == 0 and f"| {LONG}alpha |" in out and "$31.49" in out and "(rounding)" not in out


def test_decimals_fixes_the_places_everywhere(tmp_path, capsys):
    usage, cm = world(tmp_path)
    code, out, _ = run(capsys, "price", usage, "--cost-map", cm, "-g", "team", "-f", "markdown", "--decimals", "4")
    assert code == 0
    assert f"| {LONG}alpha |" in out and "$31.4940" in out and "$0.0099" in out and "$46.5119" in out
    assert "(rounding)" not in out  # at 4 decimals every amount is exact
    code, out, _ = run(capsys, "price", usage, "--cost-map", cm, "--decimals", "0", "-f", "markdown")
    assert "$47" in out  # 46.5119 to whole dollars
    assert run(capsys, "price", usage, "--cost-map", cm, "--decimals", "13")[0] == 2


def test_a_report_under_a_dollar_shows_two_significant_digits(tmp_path, capsys):
    usage, cm = world(tmp_path)
    code, out, _ = run(capsys, "price", usage, "--cost-map", cm, "-f", "markdown", "--where", "team=tiny")
    assert code == 0 and "$0.0099" in out and "to 4 decimals" in out  # 0.0099: two significant digits


def lines_fit(out: str, width: int) -> None:
    too_long = [line for line in out.splitlines() if len(line) > width]
    assert not too_long, f"wider than {width}: {too_long[:3]}"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_report_table_fits_with_labels_elided_and_numbers_whole(tmp_path, capsys, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    usage, cm = world(tmp_path)
    code, out, _ = run(capsys, "price", usage, "--cost-map", cm, "-g", "team")
    assert code == 0
    lines_fit(out, width)
    assert "$31.49" in out and "$46.51" in out and "$0.01" in out
    alpha = next(line for line in out.splitlines() if "alpha" in line)
    if width == 80:
        assert "…" in alpha  # the team name is elided in the middle: both ends kept
        assert alpha.split()[0].startswith("platform") and alpha.split()[0].endswith("alpha")
    else:
        assert f"{LONG}alpha" in alpha


@pytest.mark.parametrize("width", WIDTHS)
def test_budget_table_fits_in_one_money_format(tmp_path, capsys, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    usage, cm = world(tmp_path)
    code, out, _ = run(capsys, "price", usage, "--cost-map", cm, "--budget", f"team={LONG}alpha:1000",
                       "--budget", "total:1500")
    assert code == 0
    lines_fit(out, width)
    # alpha: $31.494 spent by 11-02 (day 5 of 30 as of 11-05): forecast 31.494 / 5 × 30 = 188.964
    budget = next(line for line in out.splitlines() if "alpha" in line and "$1,000.00" in line)
    assert "$31.49" in budget and "$188.96" in budget
    total = next(line for line in out.splitlines() if line.startswith("total ") and "$1,500.00" in line)
    # the total: 46.5119 / 5 × 30 = 279.0714
    assert "$46.51" in total and "$279.07" in total


@pytest.mark.parametrize("width", WIDTHS)
def test_bill_table_fits_and_says_which_way_the_gap_goes(tmp_path, capsys, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    usage, cm = world(tmp_path)
    bill = tmp_path / "bill.csv"
    # 11-02 alpha's day: computed 31.494, billed 32.244: the logs are 0.75 below the bill
    bill.write_text("date,provider,model,amount,currency\n2026-11-02,openai,gpt-4o-2024-08-06,32.244,USD\n")
    code, out, _ = run(capsys, "price", usage, "--cost-map", cm, "--reconcile-with", str(bill))
    assert code == 0
    lines_fit(out, width)
    assert "logs below bill by $0.75" in out
    day = next(line for line in out.splitlines() if line.startswith("2026-11-02"))
    assert "$31.49" in day and "$32.24" in day


@pytest.mark.parametrize("width", WIDTHS)
def test_reconcile_table_fits_in_group_order_with_directions(tmp_path, capsys, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    # alpha booked 30.744 (0.75 below costcalc's 31.494), bravo booked 0 (costcalc 10.004), charlie 6.004 (1 above)
    usage, cm = world(tmp_path, spend={f"{LONG}alpha": 30.744, f"{LONG}bravo": 0.0, f"{LONG}charlie": 6.004})
    code, out, _ = run(capsys, "price", usage, "--cost-map", cm, "-g", "team", "--reconcile")
    assert code == 0
    lines_fit(out, width)
    section = out[out.index("reconcile:"):]
    order = [name for name in ("alpha", "bravo", "charlie") if name in section]
    assert order == ["alpha", "bravo", "charlie"]
    assert section.index("alpha") < section.index("bravo") < section.index("charlie")
    assert "logs below costcalc by $0.75" in section
    assert "$0 booked, costcalc $10.00" in section
    assert "logs above costcalc by $1.00" in section


DIFF_CONFIG = """\
model_list:
  - model_name: {name}
    litellm_params: {{model: openai/gpt-4o, input_cost_per_token: {price}}}
"""


@pytest.mark.parametrize("width", WIDTHS)
def test_diff_and_what_if_spend_tables_fit(tmp_path, capsys, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    cm = tmp_path / "map.json"
    cm.write_text(json.dumps(COST_MAP))
    name = "a-deployment-with-a-rather-long-model-group-name"
    new = tmp_path / "new.yaml"
    new.write_text(DIFF_CONFIG.format(name=name, price="0.0000015"))
    current = tmp_path / "current.yaml"
    current.write_text(DIFF_CONFIG.format(name=name, price="0.000001"))
    usage = tmp_path / "u.jsonl"
    # 20,000,000 input tokens: $30 under new ($1.5/M), $20 under current and the map ($1/M)
    usage.write_text(json.dumps({"model": name, "prompt_tokens": 20_000_000, "completion_tokens": 0}) + "\n")
    code, out, _ = run(capsys, "diff", "--config", str(new), "--cost-map", str(cm), str(usage))
    assert code == 0
    # the tables (prose lines around them are the terminal's to wrap)
    lines_fit(out[out.index("field "):out.index("prices per 1M")], width)
    lines_fit(out[out.index("spend under"):out.index("records read")], width)
    total = next(line for line in out.splitlines() if line.startswith("TOTAL"))
    assert [c for c in total.split() if "$" in c][:3] == ["$30.00", "$20.00", "+$10.00"]
    code, out, _ = run(capsys, "diff", "--config", str(new), "--against", str(current), "--cost-map", str(cm),
                       str(usage))
    assert code == 0
    lines_fit(out[out.index("field / part"):out.index("prices per 1M")], width)
    lines_fit(out[out.index("spend under"):out.index("current: ")], width)
    total = next(line for line in out.splitlines() if line.startswith("TOTAL"))
    assert [c for c in total.split() if "$" in c][:3] == ["$20.00", "$30.00", "+$10.00"]


NESTED = [("agents", "gpt-4o", 2_000_000), ("agents", "claude", 1_000_000), ("search", "gpt-4o", 500_000)]


def nested_world(tmp_path: Path) -> tuple[str, str]:
    """agents: gpt-4o $2.00 + claude $1.00 (both $1/M here) = $3.00; search: gpt-4o $0.50 alone (no subtotal)."""
    cm = tmp_path / "map.json"
    cm.write_text(json.dumps({**COST_MAP, "claude": {**COST_MAP["gpt-4o"], "litellm_provider": "anthropic"}}))
    usage = tmp_path / "nested.jsonl"
    usage.write_text("".join(json.dumps({"timestamp": "2026-11-02T10:00:00Z", "model": m, "prompt_tokens": n,
                                         "completion_tokens": 0, "team": t}) + "\n" for t, m, n in NESTED))
    return str(usage), str(cm)


def test_nested_groups_have_a_subtotal_per_outer_group_in_every_format(tmp_path, capsys):
    usage, cm = nested_world(tmp_path)
    args = ["price", usage, "--cost-map", str(cm), "-g", "team", "-g", "model"]
    code, out, _ = run(capsys, *args)
    assert code == 0
    lines = [line.split() for line in out.splitlines()]
    i = lines.index(next(x for x in lines if x[:1] == ["subtotal"]))
    assert lines[i - 2][:2] == ["agents", "gpt-4o"] and lines[i - 1][0] == "claude"  # after the team's rows
    assert lines[i][:2] == ["subtotal", "2"] and "$3.00" in lines[i]
    assert sum(1 for x in lines if x[:1] == ["subtotal"]) == 1  # search has one row: no subtotal
    code, out, _ = run(capsys, *args, "-f", "markdown")
    assert "|  | _subtotal_ | _2_ |" in out and "_$3.00_" in out
    code, out, _ = run(capsys, *args, "-f", "csv")
    rows = [r.split(",") for r in out.splitlines()]
    assert rows[0][-1] == "level"
    assert [(r[0], r[1], r[-1]) for r in rows[1:]] == [("agents", "gpt-4o", "2"), ("agents", "claude", "2"),
                                                      ("agents", "", "1"), ("search", "gpt-4o", "2"),
                                                      ("TOTAL", "", "0")]
    assert rows[3][rows[0].index("total_cost")] == "3"
    code, out, _ = run(capsys, *args, "-f", "json")
    [agents] = json.loads(out)["subtotals"]
    assert agents["key"] == {"team": "agents"} and agents["level"] == 1 and agents["requests"] == 2
    assert agents["cost"]["total"] == 3 and agents["share"] == pytest.approx(3 / 3.5)
    code, out, _ = run(capsys, "price", usage, "--cost-map", str(cm), "-g", "team", "-f", "json")
    assert "subtotals" not in json.loads(out)  # one level of groups: nothing to subtotal


@pytest.mark.parametrize("width", WIDTHS)
def test_lookup_and_models_tables_fit(tmp_path, capsys, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    cm = tmp_path / "map.json"
    long_name = "a-provider/an-uncommonly-long-model-name-that-no-terminal-shows-whole-2026-11-20"
    cm.write_text(json.dumps({long_name: {"litellm_provider": "openai", "mode": "chat", "max_input_tokens": 1_000_000,
                                          "input_cost_per_token": 1.25e-06, "output_cost_per_token": 1e-05,
                                          "cache_read_input_token_cost": 1.25e-07}}))
    code, out, _ = run(capsys, "models", "uncommonly", "--cost-map", str(cm))
    assert code == 0
    row = next(line for line in out.splitlines() if "$1.25" in line)
    assert len(row) <= width and "$10.00" in row and "$0.125" in row  # numbers whole
    if width == 200:
        assert long_name in row and "1,000,000" in row
    code, out, _ = run(capsys, "lookup", long_name, "--cost-map", str(cm))
    assert code == 0
    rate = next(line for line in out.splitlines() if line.startswith("input "))
    assert len(rate) <= width and "1.25e-06" in rate and "$1.25" in rate
