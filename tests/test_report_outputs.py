"""Outputs for readers who do not open the table: the chat summary (``--format summary`` / ``summary-slack``),
Parquet for analysts (``--format parquet``), and named presets (``--preset``, ``costcalc presets``).

The data (tests/test_money_format.py's world): gpt-4o at $1/M input tokens; teams
  platform-engineering-reliability-squad-alpha $31.494 (11-02), ...-bravo $10.004 (11-03),
  ...-charlie $5.004 (11-04), tiny $0.0099 (11-05): total $46.5119, $46.51.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from .runner import costcalc
from .test_money_format import LONG, world

# -- --format summary ---------------------------------------------------------------------------------------------

def test_summary_is_a_few_lines_with_the_headline_top_groups_and_budgets_at_risk(tmp_path, capsys):
    usage, cm = world(tmp_path)
    code, out, err = costcalc(capsys, "price", usage, "--cost-map", cm, "-g", "team", "-f", "summary",
                              "--budget", f"team={LONG}alpha:20", "--budget", "total:300")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "LLM spend: $46.51 (2026-11-02 to 2026-11-05 UTC; 4 priced requests)"
    assert lines[1] == "Top teams:"
    # the same amounts as the table: each rounded on its own
    assert lines[2] == f"- {LONG}alpha: $31.49 (67.7%)" and lines[5] == "- tiny: $0.01 (0.0%)"
    # alpha spent 31.494 of 20: over; the total forecast 46.5119 / 5 × 30 = 279.07 is within 300
    assert lines[6:] == ["Budgets at risk:", f"- team={LONG}alpha: over, spent $31.49 of $20.00"]
    assert len(out) < 2000 and "note:" not in out and "records read" in err  # notes go to stderr


def test_summary_slack_flavour_and_the_change_against_the_previous_period(tmp_path, capsys):
    usage, cm = world(tmp_path)
    # 11-04 and 11-05 (charlie 5.004 + tiny 0.0099 = 5.0139) against 11-02 and 11-03 (alpha + bravo = 41.498)
    code, out, _ = costcalc(capsys, "price", usage, "--cost-map", cm, "-g", "team", "-f", "summary-slack",
                            "--since", "2026-11-04", "--until", "2026-11-06", "--compare", "previous")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("*LLM spend: $5.01*")
    # 5.0139 - 41.498 = -36.4841: -$36.48, -87.9% of 41.498
    assert lines[1] == "vs 2026-11-02 to 2026-11-04: -$36.48 (-87.9%) from $41.50"
    assert lines[2] == "*Top teams:*" and lines[3] == f"• {LONG}charlie: $5.00 (99.8%)"


def test_summary_stays_under_2000_characters_with_many_groups(tmp_path, capsys):
    cm = tmp_path / "map.json"
    cm.write_text(json.dumps({"gpt-4o": {"litellm_provider": "openai", "mode": "chat",
                                         "input_cost_per_token": 1e-06, "output_cost_per_token": 4e-06}}))
    usage = tmp_path / "many.jsonl"
    usage.write_text("".join(json.dumps({"timestamp": "2026-11-02T10:00:00Z", "model": "gpt-4o",
                                         "prompt_tokens": 1000 + i, "completion_tokens": 0,
                                         "team": "t" * 200 + str(i)}) + "\n" for i in range(300)))
    budgets = [a for i in range(60) for a in ("--budget", f"team={'t' * 200}{i}:0.0001")]
    code, out, _ = costcalc(capsys, "price", usage, "--cost-map", cm, "-g", "team", "-f", "summary", *budgets)
    assert code == 0 and len(out) < 2000, len(out)
    assert "295 more:" in out and "(and more: see the full report)" in out


# -- --format parquet ---------------------------------------------------------------------------------------------

def test_parquet_report_has_exact_decimal_columns_read_by_duckdb(tmp_path, capsys):
    import duckdb

    usage, cm = world(tmp_path)
    out = tmp_path / "r.parquet"
    code, _, _ = costcalc(capsys, "price", usage, "--cost-map", cm, "-g", "team", "-f", "parquet", "-o", out)
    assert code == 0
    types = {r[0]: r[1] for r in duckdb.sql(f"DESCRIBE SELECT * FROM '{out}'").fetchall()}
    assert types["team"] == "VARCHAR" and types["requests"] == "BIGINT"
    assert types["total_cost"] == "DECIMAL(38,4)"  # 31.494, 0.0099: four places at most
    rows = dict(duckdb.sql(f"SELECT team, total_cost FROM '{out}'").fetchall())
    assert rows == {f"{LONG}alpha": Decimal("31.4940"), f"{LONG}bravo": Decimal("10.0040"),
                    f"{LONG}charlie": Decimal("5.0040"), "tiny": Decimal("0.0099"), "TOTAL": Decimal("46.5119")}


def test_parquet_per_record_and_on_stdout(tmp_path, capsys):
    import duckdb

    usage, cm = world(tmp_path)
    out = tmp_path / "records.parquet"
    code, _, _ = costcalc(capsys, "price", usage, "--cost-map", cm, "-f", "parquet", "--per-record", "-o", out)
    assert code == 0
    got = duckdb.sql(f"SELECT line, team, input_tokens, total_cost FROM '{out}' ORDER BY line").fetchall()
    assert got == [(1, f"{LONG}alpha", 31_494_000, Decimal("31.494")), (2, f"{LONG}bravo", 10_004_000,
                   Decimal("10.004")), (3, f"{LONG}charlie", 5_004_000, Decimal("5.004")),
                   (4, "tiny", 9_900, Decimal("0.0099"))]
    assert duckdb.sql(f"SELECT sum(total_cost) FROM '{out}'").fetchall() == [(Decimal("46.5119"),)]
    code = os.system(f"cd {tmp_path} && PYTHONPATH={Path(__file__).resolve().parents[1] / 'src'} "
                     f"{os.sys.executable} -m costcalc price {usage} --cost-map {cm} -f parquet > piped.parquet")
    assert code == 0 and (tmp_path / "piped.parquet").read_bytes()[:4] == b"PAR1"


def test_parquet_is_read_by_spark_with_the_same_decimals(tmp_path, capsys):
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        if os.environ.get("COSTCALC_REQUIRE_SERVICES") == "1":
            pytest.fail("pyspark is required (COSTCALC_REQUIRE_SERVICES=1)")
        pytest.skip("pip install pyspark (and a Java 17 runtime: apt-get install -y openjdk-17-jre-headless)")
    usage, cm = world(tmp_path)
    out = tmp_path / "r.parquet"
    assert costcalc(capsys, "price", usage, "--cost-map", cm, "-g", "team", "-f", "parquet", "-o", out).code == 0
    spark = (SparkSession.builder.master("local[1]").appName("costcalc-parquet")
             .config("spark.ui.enabled", "false").getOrCreate())
    df = spark.read.parquet(str(out))
    assert dict(df.dtypes)["total_cost"] == "decimal(38,4)"
    assert {r["team"]: r["total_cost"] for r in df.collect()}["TOTAL"] == Decimal("46.5119")


def test_parquet_is_read_by_pandas_when_installed(tmp_path, capsys):
    pandas = pytest.importorskip("pandas", reason="pip install pandas pyarrow")
    usage, cm = world(tmp_path)
    out = tmp_path / "r.parquet"
    assert costcalc(capsys, "price", usage, "--cost-map", cm, "-g", "team", "-f", "parquet", "-o", out).code == 0
    frame = pandas.read_parquet(out)
    assert frame.set_index("team")["total_cost"]["TOTAL"] == Decimal("46.5119")


# -- presets ------------------------------------------------------------------------------------------------------

PRESETS = """\
[presets.monthly-finance]
group_by = ["team"]
format = "markdown"
decimals = 4
budget = ["total:300"]

[presets.by-model]
group-by = "model"
dedupe = false
"""


@pytest.fixture
def in_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "user-config"))
    return tmp_path


def test_a_preset_sets_options_and_the_command_line_wins(in_project, capsys):
    usage, cm = world(in_project)
    (in_project / "costcalc.toml").write_text(PRESETS)
    code, out, _ = costcalc(capsys, "price", usage, "--cost-map", cm, "--preset", "monthly-finance")
    assert code == 0
    assert out.startswith("> **note:**") or "| team |" in out  # markdown, grouped by team
    assert f"| {LONG}alpha |" in out and "$31.4940" in out and "budgets for" in out
    # the command line wins: -g model replaces the preset's group_by, -f json its format
    code, out, _ = costcalc(capsys, "price", usage, "--cost-map", cm, "--preset", "monthly-finance", "-g", "model",
                            "-f", "json")
    doc = json.loads(out)
    assert code == 0 and doc["group_by"] == ["model"] and doc["budgets"]["lines"][0]["budget"] == "total"


def test_the_users_config_directory_and_the_presets_command(in_project, capsys):
    usage, cm = world(in_project)
    user = in_project / "user-config" / "costcalc"
    user.mkdir(parents=True)
    (user / "costcalc.toml").write_text(PRESETS)
    code, out, _ = costcalc(capsys, "presets")
    assert code == 0
    assert out.splitlines() == [f"{user / 'costcalc.toml'}: 2 preset(s)", "monthly-finance:",
                                "  --group-by team", "  --format markdown", "  --decimals 4", "  --budget total:300",
                                "by-model:", "  --group-by model", "  --dedupe false"]
    code, out, _ = costcalc(capsys, "price", usage, "--cost-map", cm, "--preset", "by-model", "-f", "json")
    assert code == 0 and json.loads(out)["group_by"] == ["model"]


@pytest.mark.parametrize(("text", "message"), [
    ("[presets.x]\ngroup_bye = ['team']\n", "presets.x: unknown key 'group_bye': not an option of costcalc price; "
                                            "did you mean group_by?"),
    ("[presets.x]\ndecimals = 'four'\n", None),
    ("[presets.x]\nwide = 'yes'\n", "presets.x.wide: expected true or false, got 'yes'"),
    ("[report]\nx = 1\n", "unknown table or key 'report'"),
    ("[presets.x\n", "not valid TOML"),
])
def test_a_bad_preset_file_is_an_error_naming_the_key(in_project, capsys, text, message):
    usage, cm = world(in_project)
    (in_project / "costcalc.toml").write_text(text)
    code, _, err = costcalc(capsys, "price", usage, "--cost-map", cm, "--preset", "x")
    assert code == 2
    if message is not None:
        assert message in err and "costcalc.toml" in err
    else:
        assert "--decimals" in err  # the option's own check words it


def test_an_unknown_preset_names_the_known_ones(in_project, capsys):
    usage, _ = world(in_project)
    (in_project / "costcalc.toml").write_text(PRESETS)
    code, _, err = costcalc(capsys, "price", usage, "--preset", "weekly")
    assert code == 2 and "no preset 'weekly' (presets: by-model, monthly-finance)" in err
    (in_project / "costcalc.toml").unlink()
    code, _, err = costcalc(capsys, "presets")
    assert code == 2 and "no preset file: looked for" in err


# -- --quiet ------------------------------------------------------------------------------------------------------

PARTIAL = """\
model_list:
  - model_name: gpt
    litellm_params: {model: openai/gpt-4o, input_cost_per_token: 0.000001}
"""


def test_quiet_keeps_stdout_to_the_report_and_says_each_warning_once_on_stderr(tmp_path, capsys):
    _, cm = world(tmp_path)
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(PARTIAL)
    b.write_text(PARTIAL)
    records = tmp_path / "gpt.jsonl"
    records.write_text('{"timestamp": "2026-11-02T10:00:00Z", "model": "gpt", "prompt_tokens": 10, '
                       '"completion_tokens": 1}\n{"timestamp": "2026-11-20T10:00:00Z", "model": "gpt", '
                       '"prompt_tokens": 10, "completion_tokens": 1}\n')
    args = ["price", records, "--cost-map", cm, "-c", f"2026-11-01={a}", "-c", f"2026-11-16={b}"]
    code, out, err = costcalc(capsys, *args)
    assert code == 0 and "warnings" in out  # without --quiet the table's panel shows them
    # the same warning from both configs: said once, naming both
    panel = " ".join(out.replace("│", " ").split())
    assert panel.count("only input_cost_per_token is set") == 1
    assert f"2026-11-01={a}, 2026-11-16={b}: gpt (#1): output is billed at $0" in panel
    code, out, err = costcalc(capsys, *args, "--quiet")
    assert code == 0 and "warning" not in out and "only input_cost_per_token is set" not in out
    lines = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(lines) == 1 and lines[0].startswith(f"warning: 2026-11-01={a}, 2026-11-16={b}: ")
    code, out, err = costcalc(capsys, *args, "--quiet", "-f", "json")
    assert json.loads(out)["warnings"] == [lines[0].removeprefix("warning: ")]


def test_parquet_keeps_names_a_spreadsheet_would_take_for_formulas(tmp_path, capsys):
    """The CSV guards a cell like ``=cmd`` with a leading quote; Parquet is read as values, so it keeps the name."""
    import duckdb

    usage, cm = world(tmp_path)
    Path(usage).write_text(json.dumps({"timestamp": "2026-11-02T10:00:00Z", "model": "gpt-4o",
                                       "prompt_tokens": 1000, "completion_tokens": 0, "team": "=1+2"}) + "\n")
    code, out, _ = costcalc(capsys, "price", usage, "--cost-map", cm, "-g", "team", "-f", "csv")
    assert code == 0 and "'=1+2" in out
    for extra in ([], ["--per-record"]):
        target = tmp_path / f"t{len(extra)}.parquet"
        assert costcalc(capsys, "price", usage, "--cost-map", cm, "-g", "team", "-f", "parquet", "-o", target,
                        *extra).code == 0
        teams = {r[0] for r in duckdb.sql(f"SELECT team FROM '{target}'").fetchall()}
        assert "=1+2" in teams, teams
