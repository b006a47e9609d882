"""Reports people can read and re-add: exact decimals, columns that add up, discount and margin apart, tables
that fit the terminal."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal

import pytest
from rich.console import Console

from costcalc.reports.money import apportion, decimal_text, round_units, usd

from .runner import costcalc

# gpt-4o (embedded cost map): input 2.5e-6, cache read 1.25e-6, output 1e-5 per token.
# claude-sonnet-4-5 (embedded cost map): input 3e-6, cache write 5m 3.75e-6, cache write 1h 6e-6,
# cache read 3e-7, output 1.5e-5.
CONFIG = """
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o}
  - model_name: sonnet
    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929}
litellm_settings:
  cost_discount_config: {anthropic: 0.1}
  cost_margin_config: {global: 0.05}
"""
LINES = [
    # openai, no discount: 600*2.5e-6 + 400*1.25e-6 + 200*1e-5 = 0.0015 + 0.0005 + 0.002 = 0.004;
    # margin 5% = 0.0002; total 0.0042
    {"model": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 200, "cache_read_input_tokens": 400,
     "metadata": {"user_api_key_team_alias": "Search", "user_api_key_team_id": "9f1c-uuid",
                  "user_api_key_alias": "search-prod", "user_api_key": "a" * 64}},
    # anthropic: uncached 1000*3e-6 = 0.003; write 5m 1000*3.75e-6 = 0.00375; write 1h 500*6e-6 = 0.003;
    # output 100*1.5e-5 = 0.0015; base 0.01125; discount 10% = -0.001125 → 0.010125; margin 5% = 0.00050625;
    # total 0.01063125
    {"model": "sonnet", "prompt_tokens": 2500, "completion_tokens": 100, "cache_creation_input_tokens": 1500,
     "cache_creation_1h_input_tokens": 500, "metadata": {"user_api_key_team_id": "77aa-uuid"}},
]


@pytest.fixture
def files(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(CONFIG)
    usage = tmp_path / "u.jsonl"
    usage.write_text("\n".join(json.dumps(x) for x in LINES) + "\n")
    return str(usage), str(cfg)


def run(capsys, *args: str) -> tuple[int, str, str]:
    code, out, err = costcalc(capsys, *args)
    return code, out, err


def test_rounding_is_half_to_even_and_columns_apportion_by_largest_remainder():
    den = 20000  # values in units of 1/20000 USD: 1 unit = $0.00005
    assert round_units(3, den, 4) == 2  # 0.00015 → 0.0002 (1.5 units of 1e-4, to even)
    assert round_units(5, den, 4) == 2  # 0.00025 → 0.0002
    assert round_units(-3, den, 4) == -2
    # three rows of $0.00005 each: the total $0.00015 shows as $0.0002; rounding each row alone would show
    # three $0.0001 rows (sum $0.0003), largest remainder gives the first two a unit and the rows add up
    assert apportion([1, 1, 1], 3, den, 4) == ([1, 1, 0], 2)
    # rows that overlap (not adding up to the total) are rounded one by one
    assert apportion([1, 1, 1], 2, den, 4) == ([0, 0, 0], 1)
    assert decimal_text(-35, 4) == "-0.0035" and decimal_text(1200, 4) == "0.12"
    assert decimal_text(1200, 4, strip=False) == "0.1200"
    assert usd(123456789, 4) == "$12,345.6789" and usd(-12, 4) == "-$0.0012"


def test_json_parts_discount_and_margin_are_separate_and_add_up(capsys, files):
    usage, cfg = files
    _, out, _ = run(capsys, "price", usage, "-c", cfg, "-f", "json", "-g", "model")
    doc = json.loads(out, parse_float=Decimal)
    by = {g["key"]["model"]: g for g in doc["groups"]}
    assert by["gpt-4o"]["tokens"] == {"input": 1000, "uncached_input": 600, "cache_read": 400, "cache_write_5m": 0,
                                      "cache_write_1h": 0, "output": 200, "reasoning": 0}
    assert by["gpt-4o"]["cost"] == {
        "uncached_input": Decimal("0.0015"), "cache_read": Decimal("0.0005"), "cache_write_5m": 0,
        "cache_write_1h": 0, "output": Decimal("0.002"), "discount": 0, "margin": Decimal("0.0002"),
        "total": Decimal("0.0042")}
    assert by["sonnet"]["tokens"]["cache_write_5m"] == 1000 and by["sonnet"]["tokens"]["cache_write_1h"] == 500
    assert by["sonnet"]["cost"] == {
        "uncached_input": Decimal("0.003"), "cache_read": 0, "cache_write_5m": Decimal("0.00375"),
        "cache_write_1h": Decimal("0.003"), "output": Decimal("0.0015"), "discount": Decimal("-0.001125"),
        "margin": Decimal("0.00050625"), "total": Decimal("0.01063125")}
    assert doc["totals"]["cost"]["total"] == Decimal("0.01483125")  # 0.0042 + 0.01063125
    assert doc["config"] == cfg and doc["notes"] == []
    for g in doc["groups"]:  # every part adds up to the total, record by record and group by group
        assert sum(v for k, v in g["cost"].items() if k != "total") == g["cost"]["total"]


def test_csv_has_exact_parts_and_a_total_row_that_adds_up(capsys, files):
    usage, cfg = files
    _, out, _ = run(capsys, "price", usage, "-c", cfg, "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    total = rows[-1]
    assert total["model"] == "TOTAL"
    for col in ("discount_cost", "margin_cost", "total_cost", "cache_write_1h_cost"):
        assert sum(Decimal(r[col]) for r in rows[:-1]) == Decimal(total[col])
    assert total["discount_cost"] == "-0.001125" and total["margin_cost"] == "0.00070625"


def test_table_shows_every_part_beside_its_tokens_when_wide(capsys, files):
    usage, cfg = files
    _, out, _ = run(capsys, "price", usage, "-c", cfg, "--wide")
    head = next(line for line in out.splitlines() if line.startswith("model"))
    for header in ("uncached tok", "uncached $", "cache read tok", "cache read $", "write 5m tok", "write 5m $",
                   "write 1h tok", "write 1h $", "out tok", "out $", "discount $", "margin $", "total $"):
        assert header in head
    sonnet = next(line for line in out.splitlines() if line.startswith("sonnet"))
    # four decimals (two significant digits of the smallest total, $0.0042), for every amount of the table
    assert "-$0.0011" in sonnet and "$0.0106" in sonnet and "1,000" in sonnet and "500" in sonnet


def test_markdown_columns_add_up(capsys, files):
    usage, cfg = files
    _, out, _ = run(capsys, "price", usage, "-c", cfg, "-f", "markdown")
    lines = [line for line in out.splitlines() if line.startswith("|")]
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    body = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    total = body[-1]
    for i, h in enumerate(head):
        if h.endswith("$"):
            rows = sum(Decimal(r[i].replace("$", "").replace(",", "")) for r in body[:-1])
            assert rows == Decimal(total[i].replace("$", "").replace(",", "")), h


def test_no_config_is_said_in_every_format(capsys, files):
    usage, _ = files
    _, out, _ = run(capsys, "price", usage, "-f", "json")
    doc = json.loads(out)
    assert doc["config"] is None and "public cost map only" in doc["notes"][0]
    for fmt in ("table", "markdown", "html"):
        _, out, _ = run(capsys, "price", usage, "-f", fmt)
        assert "priced from the public cost map only" in out, fmt
    _, out, err = run(capsys, "price", usage, "-f", "csv")
    assert "priced from the public cost map only" in err


def _table(usage: str, cfg: str, width: int, *args: str) -> str:
    from costcalc.engines.streaming import PricingEngine
    from costcalc.rates.config import load_config
    from costcalc.rates.costmap import load_cost_map
    from costcalc.reading.jsonl import read_usage
    from costcalc.reports.aggregate import ReportBuilder
    from costcalc.reports.render import write_table

    engine = PricingEngine(load_cost_map(None), load_config(cfg))
    keys = [a for a in args if not a.startswith("--")]
    report = ReportBuilder(keys or ["model"]).consume(engine.outcomes(read_usage([usage])))
    buf = io.StringIO()
    console = Console(file=buf, width=width, no_color=True, highlight=False)
    write_table(report, console, config_path=cfg)
    return buf.getvalue()


@pytest.fixture
def long_labels(tmp_path):
    """Five teams whose names are long and differ at the end, each spending on two models."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text(CONFIG)
    usage = tmp_path / "teams.jsonl"
    lines = []
    for i in range(5):
        team = f"platform-engineering-observability-squad-{i}"
        for model in ("gpt-4o", "sonnet"):
            # big counts: the totals row needs wide number columns, and the labels must give way, not the numbers
            lines.append({"model": model, "prompt_tokens": 12345678 * (i + 1), "completion_tokens": 1054321,
                          "team": team})
    usage.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return str(usage), str(cfg)


@pytest.mark.parametrize("width", [80, 120, 200])
@pytest.mark.parametrize("keys", [("team",), ("team", "model")])
def test_table_fits_the_terminal_and_keeps_its_labels(long_labels, width, keys):
    usage, cfg = long_labels
    out = _table(usage, cfg, width, *keys)
    lines = out.splitlines()
    assert all(len(line) <= width for line in lines)
    head = next(line for line in lines if "total $" in line)
    assert head.startswith("team")
    rows = [line for line in lines if line.startswith("platf")]
    assert len(rows) == 5
    for line in rows:
        label = line.split("  ")[0]
        assert len(label) >= 6  # never cut to nothing
        # elided in the middle: both ends kept, so the squads stay apart
        assert label.startswith("platf")
    ends = {line.split("  ")[0][-1] for line in rows}
    assert ends == {"0", "1", "2", "3", "4"}
    cut = re.findall(r"\d[\d,.%$]*…", out)
    assert cut == []  # no number is cut, the total row's included
    if width == 80:
        assert "in tok" in head and "share" in head and "requests" in head
    if width == 200:
        assert "uncached $" in head and "discount $" in head and "margin $" in head


def test_columns_option_picks_and_rejects(capsys, files):
    usage, cfg = files
    code, out, _ = run(capsys, "price", usage, "-c", cfg, "--columns", "requests,discount", "--columns", "total")
    head = next(line for line in out.splitlines() if line.startswith("model")).split()
    assert code == 0 and head == ["model", "requests", "discount", "$", "total", "$"]
    code, _, err = run(capsys, "price", usage, "-c", cfg, "--columns", "totl")
    assert code == 2 and "unknown column 'totl'" in err


# -- loud mistakes ---------------------------------------------------------------------------------------

ONE = b'{"model": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 100}\n'  # 0.0025 + 0.001 = 0.0035


def _stdin(monkeypatch, data: bytes) -> None:
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))


def _total(out: str) -> Decimal:
    return json.loads(out, parse_float=Decimal)["totals"]["cost"]["total"]


@pytest.mark.parametrize("kind", ["gzip", "bz2"])
def test_compressed_input_is_recognised_by_its_bytes_on_stdin_and_in_files(capsys, monkeypatch, tmp_path, kind):
    import bz2
    import gzip

    data = (gzip.compress if kind == "gzip" else bz2.compress)(ONE * 2)
    _stdin(monkeypatch, data)
    code, out, _ = run(capsys, "price", "-", "-f", "json")
    assert code == 0 and _total(out) == Decimal("0.007")
    path = tmp_path / "misnamed.jsonl"  # the name says plain text, the bytes say compressed
    path.write_bytes(data)
    code, out, _ = run(capsys, "price", str(path), "-f", "json")
    assert code == 0 and _total(out) == Decimal("0.007")


def test_zstd_is_read_or_named_with_what_to_do(capsys, tmp_path):
    import importlib.util

    path = tmp_path / "u.jsonl.zst"
    if importlib.util.find_spec("compression") and importlib.util.find_spec("compression.zstd"):
        from compression import zstd  # Python 3.14+

        path.write_bytes(zstd.compress(ONE))
        code, out, _ = run(capsys, "price", str(path), "-f", "json")
        assert code == 0 and _total(out) == Decimal("0.0035")
    else:
        path.write_bytes(b"\x28\xb5\x2f\xfd" + b"\x00" * 16)  # a zstd frame header
        code, out, err = run(capsys, "price", str(path))
        assert code == 2 and out == ""
        assert "zstd-compressed" in err and "zstd -dc" in err and "Traceback" not in err


def test_a_directory_without_usage_files_is_an_error(capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    code, _, err = run(capsys, "price", str(tmp_path))
    assert code == 2 and "holds no usage files" in err
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.ndjson.gz").write_bytes(__import__("gzip").compress(ONE))
    code, out, _ = run(capsys, "price", str(tmp_path), "-f", "json")
    assert code == 0 and _total(out) == Decimal("0.0035")


def test_a_json_array_of_records_is_read_as_records(capsys, tmp_path):
    # what LiteLLM's /spend/logs API returns: a JSON array of spend-log rows (pretty-printed here)
    rows = [json.loads(ONE), json.loads(ONE), "not a record"]  # (a file [1, 2] is one bad JSONL line instead)
    path = tmp_path / "spend.json"
    path.write_text(json.dumps(rows, indent=2))
    code, out, _ = run(capsys, "price", str(path), "-f", "json")
    doc = json.loads(out, parse_float=Decimal)
    assert code == 0 and doc["totals"]["cost"]["total"] == Decimal("0.007")
    assert doc["accounting"]["priced"] == 2 and doc["accounting"]["rejected"] == 1
    assert doc["rejected"][0]["line"] == 3 and "array element 3" in doc["rejected"][0]["reason"]


def test_line_past_the_end_is_an_error(capsys, files):
    usage, cfg = files
    code, _, err = run(capsys, "price", usage, "-c", cfg, "--explain", "--line", "9")
    assert code == 2 and "--line 9: no such line" in err and "last line is 2" in err


def test_explain_as_json(capsys, files):
    usage, cfg = files
    code, out, _ = run(capsys, "price", usage, "-c", cfg, "--explain", "-f", "json")
    docs = json.loads(out, parse_float=Decimal)
    assert code == 0 and [d["line"] for d in docs] == [1, 2]
    sonnet = docs[1]
    assert [(c["part"], c["units"]) for c in sonnet["charges"]] == [
        ("input", 1000), ("cache write", 1000), ("cache write 1h", 500), ("output", 100)]
    assert sonnet["adjustment"]["discount"] == Decimal("-0.001125")
    assert sonnet["adjustment"]["margin"] == Decimal("0.00050625")
    assert sonnet["cost"] == Decimal("0.01063125")
    code, out, _ = run(capsys, "price", usage, "-c", cfg, "--explain", "--line", "1", "-f", "json")
    assert [d["line"] for d in json.loads(out)] == [1]


def test_since_after_until_is_an_error(capsys, files):
    usage, _ = files
    code, _, err = run(capsys, "price", usage, "--since", "2026-03-02", "--until", "2026-03-01")
    assert code == 2 and "is not before --until" in err


def test_a_group_key_no_record_has_is_an_error_with_suggestions(capsys, files):
    usage, cfg = files
    code, out, err = run(capsys, "price", usage, "-c", cfg, "-g", "metadata.user_api_key_tem_alias")
    assert code == 2 and out == ""
    assert "no record has it" in err and "did you mean metadata.user_api_key_team_alias" in err
    code, _, err = run(capsys, "price", usage, "-c", cfg, "-g", "customer")
    assert code == 2 and "looked for end_user" in err


# -- names people know --------------------------------------------------------------------------------------

def test_team_and_key_show_spend_log_aliases_and_fall_back_to_ids(capsys, files):
    usage, cfg = files
    _, out, _ = run(capsys, "price", usage, "-c", cfg, "-f", "json", "-g", "team", "-g", "key")
    keys = {(g["key"]["team"], g["key"]["key"]) for g in json.loads(out)["groups"]}
    # line 1 carries the aliases; line 2 only a team id and no key at all
    assert keys == {("Search", "search-prod"), ("77aa-uuid", "(none)")}


def test_user_customer_org_and_provider_names(capsys, tmp_path):
    rows = [
        {"model": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 100, "end_user": "acme-corp",
         "organization_id": "org-1", "metadata": {"user_api_key_user_email": "ann@example.com",
                                                  "user_api_key_user_id": "u-1",
                                                  "user_api_key_org_alias": "Retail"}},
        {"model": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 100, "user": "u-2",
         "organization_id": "org-2"},
    ]
    path = tmp_path / "u.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    found = {}
    for key in ("user", "customer", "org", "provider"):
        _, out, _ = run(capsys, "price", str(path), "-f", "json", "-g", key)
        found[key] = sorted(g["key"][key] for g in json.loads(out)["groups"])
    assert found == {"user": ["ann@example.com", "u-2"], "customer": ["(none)", "acme-corp"],
                     "org": ["Retail", "org-2"], "provider": ["openai"]}


# -- time -----------------------------------------------------------------------------------------------------

def _timed(tmp_path, rows: list[dict]) -> str:
    path = tmp_path / "timed.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return str(path)


# gpt-4o: 1000*2.5e-6 + 100*1e-5 = 0.0035; gpt-4o-mini: 10000*1.5e-7 + 5000*6e-7 = 0.0045
GPT4O = {"model": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 100}
MINI = {"model": "gpt-4o-mini", "prompt_tokens": 10000, "completion_tokens": 5000}


def test_time_groups_sort_by_time_and_every_format_states_the_period(capsys, tmp_path):
    usage = _timed(tmp_path, [{**MINI, "timestamp": "2026-03-02T08:00:00Z"},
                              {**GPT4O, "timestamp": "2026-03-01T10:00:00Z"},
                              {**GPT4O, "timestamp": "2026-03-03T10:00:00Z"}])
    _, out, _ = run(capsys, "price", usage, "-f", "json", "-g", "day", "--since", "2026-03-01")
    doc = json.loads(out)
    assert [g["key"]["day"] for g in doc["groups"]] == ["2026-03-01", "2026-03-02", "2026-03-03"]  # not by cost
    assert doc["period"] == {"first": "2026-03-01T10:00:00+00:00", "last": "2026-03-03T10:00:00+00:00",
                             "since": "2026-03-01T00:00:00+00:00", "until": None, "tz": "UTC"}
    _, out, _ = run(capsys, "price", usage, "-f", "json", "-g", "day", "--sort", "cost")
    assert json.loads(out)["groups"][0]["key"]["day"] == "2026-03-02"  # asked for: by cost
    for fmt in ("table", "markdown", "html"):
        _, out, _ = run(capsys, "price", usage, "-f", fmt, "--since", "2026-03-01")
        assert "period: 2026-03-01 10:00 to 2026-03-03 10:00 UTC" in out, fmt
        assert "window: from 2026-03-01 00:00 until the end UTC" in out, fmt
    _, _, err = run(capsys, "price", usage, "-f", "csv")
    assert "period: 2026-03-01 10:00 to 2026-03-03 10:00 UTC" in err and "window: every record" in err


def test_month_and_relative_windows(capsys, tmp_path):
    import time
    from datetime import datetime, timezone

    def iso(ts: float) -> str:
        return datetime.fromtimestamp(ts, timezone.utc).isoformat()

    now = time.time()
    usage = _timed(tmp_path, [{**GPT4O, "timestamp": iso(now - 2 * 86400)},    # 2 days ago
                              {**MINI, "timestamp": iso(now - 10 * 86400)},    # 10 days ago
                              {**GPT4O, "timestamp": "2026-03-31T23:30:00Z"},  # March in UTC, April in Berlin
                              {**MINI, "timestamp": "2026-04-01T12:00:00Z"}])
    assert _total(run(capsys, "price", usage, "-f", "json", "--since", "7d")[1]) == Decimal("0.0035")
    assert _total(run(capsys, "price", usage, "-f", "json", "--last", "30d")[1]) == Decimal("0.008")
    assert _total(run(capsys, "price", usage, "-f", "json", "--month", "2026-03")[1]) == Decimal("0.0035")
    assert _total(run(capsys, "price", usage, "-f", "json", "--month", "2026-04", "--tz", "Europe/Berlin")[1]) \
        == Decimal("0.008")
    code, _, err = run(capsys, "price", usage, "--month", "2026-13")
    assert code == 2 and "not a month" in err
    code, _, err = run(capsys, "price", usage, "--month", "2026-03", "--since", "7d")
    assert code == 2 and "give one window" in err


def test_compare_previous_period(capsys, tmp_path):
    usage = _timed(tmp_path, [{**GPT4O, "timestamp": "2026-03-01T10:00:00Z"},   # previous week
                              {**GPT4O, "timestamp": "2026-03-02T10:00:00Z"},   # previous week
                              {**MINI, "timestamp": "2026-03-09T10:00:00Z"},    # this week
                              {**GPT4O, "timestamp": "2026-03-10T10:00:00Z"}])  # this week
    code, out, _ = run(capsys, "price", usage, "-f", "json", "--since", "2026-03-08", "--until", "2026-03-15",
                       "--compare", "previous")
    doc = json.loads(out, parse_float=Decimal)
    assert code == 0 and doc["totals"]["cost"]["total"] == Decimal("0.008")
    assert doc["previous"]["since"] == "2026-03-01T00:00:00+00:00"
    assert doc["previous"]["totals"]["total"] == Decimal("0.007")  # 2 × 0.0035
    by = {g["key"]["model"]: g["previous"] for g in doc["groups"]}
    # gpt-4o: 0.0035 now against 0.007 before: -50%; gpt-4o-mini is new
    assert by["gpt-4o"] == {"requests": 2, "total": Decimal("0.007"), "change": Decimal("-0.5")}
    assert by["gpt-4o-mini"] is None
    _, out, _ = run(capsys, "price", usage, "--since", "2026-03-08", "--until", "2026-03-15", "--compare",
                    "previous")
    gpt = next(line for line in out.splitlines() if line.startswith("gpt-4o "))
    assert gpt.split()[-2:] == ["$0.0070", "-50.0%"]
    assert "compared with: 2026-03-01 00:00 until 2026-03-08 00:00 UTC" in out
    code, _, err = run(capsys, "price", usage, "--compare", "previous")
    assert code == 2 and "needs a window" in err


# -- filters ------------------------------------------------------------------------------------------------

def test_where_filters_before_pricing_and_is_shown(capsys, tmp_path):
    usage = _timed(tmp_path, [{**GPT4O, "team": "search-prod"},       # 0.0035
                              {**GPT4O, "team": "search-dev"},        # 0.0035
                              {**MINI, "team": "billing"},            # 0.0045
                              {**MINI, "team": "search-prod"},        # 0.0045
                              {"model": "no-such-model", "prompt_tokens": 5, "team": "billing"}])

    def total(*where: str) -> tuple[Decimal, dict]:
        args = [a for w in where for a in ("--where", w)]
        code, out, _ = run(capsys, "price", usage, "-f", "json", *args)
        assert code == 0
        doc = json.loads(out, parse_float=Decimal)
        return doc["totals"]["cost"]["total"], doc

    got, doc = total("team=search-*")
    assert got == Decimal("0.0115") and doc["where"] == ["team=search-*"]
    assert doc["accounting"]["excluded"] == 2 and doc["accounting"]["unpriced"] == 0  # dropped before pricing
    assert total("team=search-*", "model!=gpt-4o")[0] == Decimal("0.0045")
    assert total("team=billing", "team=search-dev")[0] == Decimal("0.008")  # one key twice: either value
    assert total("provider=openai")[0] == Decimal("0.0160")
    for fmt in ("table", "markdown", "html"):
        _, out, _ = run(capsys, "price", usage, "-f", fmt, "--where", "team=search-*", "--where", "model!=gpt-4o")
        assert "filters: team=search-*, model!=gpt-4o" in out, fmt
    code, _, err = run(capsys, "price", usage, "--where", "team")
    assert code == 2 and "not KEY=VALUE" in err


# -- each record counted once -------------------------------------------------------------------------------

def _spend_row(i: int) -> dict:
    # a LiteLLM spend-log row: gpt-4o, 1000 prompt and 100 completion tokens → 0.0035
    return {"request_id": f"chatcmpl-{i:06d}", "call_type": "acompletion", "model": "gpt-4o",
            "model_group": "gpt-4o", "custom_llm_provider": "openai", "prompt_tokens": 1000,
            "completion_tokens": 100, "total_tokens": 1100, "spend": 0.0035,
            "startTime": "2026-03-01T10:00:00Z", "endTime": "2026-03-01T10:00:01Z",
            "metadata": {"user_api_key_team_alias": "Search"}}


def test_the_same_spend_logs_read_twice_are_counted_once(capsys, tmp_path):
    import gzip

    body = "\n".join(json.dumps(_spend_row(i)) for i in range(3)) + "\n"
    (tmp_path / "logs.jsonl").write_text(body)
    (tmp_path / "logs.jsonl.gz").write_bytes(gzip.compress(body.encode()))
    code, out, _ = run(capsys, "price", str(tmp_path), "-f", "json")
    doc = json.loads(out, parse_float=Decimal)
    assert code == 0 and doc["totals"]["cost"]["total"] == Decimal("0.0105")  # 3 × 0.0035, not 6
    assert doc["accounting"]["duplicates"] == 3 and doc["accounting"]["read"] == 6
    _, out, _ = run(capsys, "price", str(tmp_path))
    assert "3 duplicates dropped (same request id)" in out
    _, out, _ = run(capsys, "price", str(tmp_path), "-f", "jsonl")  # still one line per input line
    lines = [json.loads(line) for line in out.splitlines()]
    assert [x["status"] for x in lines] == ["priced"] * 3 + ["skipped"] * 3
    assert lines[3]["reason"] == f"duplicate of {tmp_path / 'logs.jsonl'}:1 (same request id chatcmpl-000000)"
    _, out, _ = run(capsys, "price", str(tmp_path), "-f", "json", "--no-dedupe")
    assert json.loads(out, parse_float=Decimal)["totals"]["cost"]["total"] == Decimal("0.021")


def test_duplicates_across_parallel_spans_are_counted_once(capsys, tmp_path):
    # 3000 rows, the last 1000 repeating the first 1000: in three spans or more, repeats cross spans
    rows = [_spend_row(i % 2000) for i in range(3000)]
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert path.stat().st_size > 4 * 65536  # large enough for --jobs 2 to cut it
    one = json.loads(run(capsys, "price", str(path), "-f", "json", "--jobs", "1")[1], parse_float=Decimal)
    two = json.loads(run(capsys, "price", str(path), "-f", "json", "--jobs", "2")[1], parse_float=Decimal)
    assert one["totals"]["cost"]["total"] == Decimal("7") == two["totals"]["cost"]["total"]  # 2000 × 0.0035
    assert one["accounting"] == two["accounting"] and two["accounting"]["duplicates"] == 1000


def test_per_record_csv_says_when_who_and_what(capsys, files, tmp_path):
    _, cfg = files
    rows = [dict(LINES[0], request_id="req-1", timestamp="2026-03-01T10:00:00Z", tags=["search", "prod"],
                 end_user="acme")]
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(rows[0]) + "\n")
    _, out, _ = run(capsys, "price", str(path), "-c", cfg, "-f", "csv", "--per-record")
    (row,) = list(csv.DictReader(io.StringIO(out)))
    assert {k: row[k] for k in ("timestamp", "request_id", "team", "key", "customer", "tags", "model",
                                "deployment", "provider")} == {
        "timestamp": "2026-03-01T10:00:00Z", "request_id": "req-1", "team": "Search", "key": "search-prod",
        "customer": "acme", "tags": "search;prod", "model": "gpt-4o", "deployment": "gpt-4o (#1)",
        "provider": "openai"}
    # the hand arithmetic of LINES[0]: parts 0.0015 + 0.0005 + 0.002, margin 0.0002, total 0.0042
    assert (row["uncached_input_tokens"], row["cache_read_tokens"], row["output_tokens"]) == ("600", "400", "200")
    assert (row["uncached_input_cost"], row["cache_read_cost"], row["output_cost"], row["margin_cost"],
            row["discount_cost"], row["total_cost"]) == ("0.0015", "0.0005", "0.002", "0.0002", "0", "0.0042")


def test_a_number_a_log_wrote_is_shown_as_the_decimal_it_means():
    """Recorded costs and rates are shown as their shortest repr, in plain notation: no float noise added, no
    exponent notation, the same digits as the exact path for a decimal the log wrote."""
    import random
    from decimal import Decimal

    from costcalc.reports.aggregate import exact
    from costcalc.reports.money import exact_text, float_text

    rng = random.Random(13)
    values = [round(rng.random() * 10 ** rng.randint(-9, 4), rng.randint(0, 12)) for _ in range(2000)]
    values += [0.47974500000000003, 5e-07, 2.5e-12, -0.0003, 1e-13, 0.0]
    assert [float_text(v) for v in values] == [exact_text(exact(v)) for v in values]
    assert [Decimal(float_text(v)) for v in values] == [Decimal(repr(v)) for v in values]
    assert float_text(5e-07) == "0.0000005" and float_text(0.47974500000000003) == "0.47974500000000003"

