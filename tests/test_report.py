"""Grouping, filters and formats of `costcalc price`, on a small usage file whose costs are worked by hand."""

from __future__ import annotations

import csv
import io
import json
import math
from html.parser import HTMLParser

import pytest

from .runner import costcalc

# gpt-4o: input 2.5e-6, cached 1.25e-6, output 1e-5; gpt-4o-mini: input 1.5e-7, output 6e-7 (embedded map).
LINES = [
    # 1000*2.5e-6 + 100*1e-5 = 0.0035
    {"model": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 100, "user": "ann", "team": "red",
     "tags": ["a", "b"], "timestamp": "2026-03-01T10:00:00Z", "metadata": {"project": "x"}},
    # 600*2.5e-6 + 400*1.25e-6 + 200*1e-5 = 0.0015 + 0.0005 + 0.002 = 0.004
    {"model": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 200, "cache_read_input_tokens": 400,
     "user": "bob", "team": "red", "tags": ["a"], "timestamp": "2026-03-02T23:30:00Z"},
    # 10000*1.5e-7 + 5000*6e-7 = 0.0015 + 0.003 = 0.0045
    {"model": "gpt-4o-mini", "prompt_tokens": 10000, "completion_tokens": 5000, "user": "ann", "team": "blue",
     "timestamp": "2026-03-09T08:00:00Z", "metadata": {"project": "y"}},
    # 2000*1.5e-7 + 1000*6e-7 = 0.0003 + 0.0006 = 0.0009
    {"model": "gpt-4o-mini", "prompt_tokens": 2000, "completion_tokens": 1000, "user": "<script>alert(1)</script>",
     "team": "blue", "timestamp": 1773532800},  # 2026-03-15T00:00:00Z
]
COSTS = [0.0035, 0.004, 0.0045, 0.0009]


@pytest.fixture
def usage(tmp_path):
    path = tmp_path / "u.jsonl"
    body = "\n".join(json.dumps(line) for line in LINES)
    body += '\n{"model": "<script>alert(1)</script>", "prompt_tokens": 5}\nnot json\n'
    path.write_text(body)
    return str(path)


def run(capsys, *args: str) -> tuple[int, str, str]:
    code, out, err = costcalc(capsys, *args)
    return code, out, err


def groups(capsys, usage, *keys: str, extra: tuple[str, ...] = ()) -> dict[tuple[str, ...], float]:
    args = ["price", usage, "-f", "json"]
    for k in keys:
        args += ["-g", k]
    _, out, _ = run(capsys, *args, *extra)
    doc = json.loads(out)
    return {tuple(g["key"][k] for k in keys): g["cost"]["total"] for g in doc["groups"]}


@pytest.mark.parametrize("key,expected", [
    ("model", {("gpt-4o",): 0.0075, ("gpt-4o-mini",): 0.0054}),
    ("user", {("ann",): 0.008, ("bob",): 0.004, ("<script>alert(1)</script>",): 0.0009}),
    ("team", {("red",): 0.0075, ("blue",): 0.0054}),
    ("provider", {("openai",): 0.0129}),
    ("deployment", {("(no deployment)",): 0.0129}),
    ("tag", {("a",): 0.0075, ("b",): 0.0035, ("(none)",): 0.0054}),
    ("day", {("2026-03-01",): 0.0035, ("2026-03-02",): 0.004, ("2026-03-09",): 0.0045, ("2026-03-15",): 0.0009}),
    # 2026-03-01 is a Sunday (week of Monday 02-23); 03-02 and 03-09 are Mondays; 03-15 is a Sunday (week of 03-09)
    ("week", {("2026-02-23 (week)",): 0.0035, ("2026-03-02 (week)",): 0.004, ("2026-03-09 (week)",): 0.0045 + 0.0009}),
    ("month", {("2026-03",): 0.0129}),
    ("metadata.project", {("x",): 0.0035, ("y",): 0.0045, ("(none)",): 0.0049}),
])
def test_group_by_each_key(capsys, usage, key, expected):
    got = groups(capsys, usage, key)
    assert got.keys() == expected.keys()
    for k, v in expected.items():
        assert got[k] == pytest.approx(v, rel=1e-12), k


def test_hour_buckets_follow_tz(capsys, usage):
    # 2026-03-02T23:30Z is 2026-03-03 00:30 in Berlin (UTC+1 in March)
    got = groups(capsys, usage, "day", extra=("--tz", "Europe/Berlin"))
    assert ("2026-03-03",) in got and ("2026-03-02",) not in got


def test_tags_overlap_is_flagged(capsys, usage):
    _, out, _ = run(capsys, "price", usage, "-f", "json", "-g", "tag")
    doc = json.loads(out)
    assert doc["groups_overlap"] is True
    assert sum(g["cost"]["total"] for g in doc["groups"]) > doc["totals"]["cost"]["total"]


def test_nested_groups(capsys, usage):
    got = groups(capsys, usage, "team", "user")
    assert got == pytest.approx({("red", "ann"): 0.0035, ("red", "bob"): 0.004, ("blue", "ann"): 0.0045,
                                 ("blue", "<script>alert(1)</script>"): 0.0009})


def test_top_folds_the_rest_into_other(capsys, usage):
    _, out, _ = run(capsys, "price", usage, "-f", "json", "-g", "user", "--top", "1")
    doc = json.loads(out)
    assert [(g["key"]["user"], g["requests"]) for g in doc["groups"]] == [("ann", 2), ("(other)", 2)]
    assert doc["groups"][1]["cost"]["total"] == pytest.approx(0.004 + 0.0009, rel=1e-12)


def test_sort_by_name_and_requests(capsys, usage):
    _, out, _ = run(capsys, "price", usage, "-f", "json", "-g", "user", "--sort", "name")
    assert [g["key"]["user"] for g in json.loads(out)["groups"]] == ["<script>alert(1)</script>", "ann", "bob"]


def test_since_until_skip_records_before_pricing(capsys, usage):
    _, out, _ = run(capsys, "price", usage, "-f", "json", "--since", "2026-03-02", "--until", "2026-03-10")
    doc = json.loads(out)
    # lines 2 and 3 are in [03-02, 03-10); the timestamp-less unknown model line is outside the window
    assert doc["totals"]["cost"]["total"] == pytest.approx(0.004 + 0.0045, rel=1e-12)
    acc = doc["accounting"]
    assert acc == {"read": 6, "priced": 2, "unpriced": 0, "rejected": 1, "skipped": 0, "filtered": 3, "excluded": 0,
                   "duplicates": 0, "approximate": 0}


@pytest.mark.parametrize("fmt", ["json", "csv", "markdown", "table", "html"])
def test_every_format_totals_the_per_record_costs(capsys, usage, fmt):
    code, out, _ = run(capsys, "price", usage, "-f", fmt)
    assert code == 0
    exact = math.fsum(COSTS)  # 0.0129
    if fmt == "json":
        assert json.loads(out)["totals"]["cost"]["total"] == exact
    elif fmt == "csv":
        total = next(row for row in csv.DictReader(io.StringIO(out)) if row["model"] == "TOTAL")
        assert float(total["total_cost"]) == exact
    else:
        assert "$0.0129" in out  # two significant digits of the smallest row ($0.0054): four decimals


def test_jsonl_costs_sum_to_the_json_total(capsys, usage):
    _, out, _ = run(capsys, "price", usage, "-f", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["status"] for r in rows] == ["priced"] * 4 + ["unpriced", "rejected"]
    assert [r["cost"] for r in rows[:4]] == pytest.approx(COSTS, rel=1e-12)
    _, out, _ = run(capsys, "price", usage, "-f", "json")
    assert json.loads(out)["totals"]["cost"]["total"] == math.fsum(r["cost"] for r in rows[:4])


def test_csv_per_record(capsys, usage):
    _, out, _ = run(capsys, "price", usage, "-f", "csv", "--per-record")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["status"] for r in rows] == ["priced"] * 4 + ["unpriced", "rejected"]
    assert float(rows[1]["total_cost"]) == pytest.approx(0.004, rel=1e-12)


class _Checker(HTMLParser):
    VOID = frozenset({"meta", "br", "img", "input", "link", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts += 1
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


def test_html_is_well_formed_self_contained_and_escaped(capsys, usage):
    _, out, _ = run(capsys, "price", usage, "-f", "html", "-g", "user")
    checker = _Checker()
    checker.feed(out)
    checker.close()
    assert checker.stack == []
    assert checker.scripts == 0
    assert "<script>alert(1)</script>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "<svg" in out and "http://" not in out.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_explain_shows_the_arithmetic(capsys, usage):
    _, out, _ = run(capsys, "price", usage, "--explain", "--line", "2")
    assert out.splitlines()[1:] == [
        "  input                    600 × 2.5e-06 = 0.0015   (input_cost_per_token; cost_map:gpt-4o)",
        "  cache read               400 × 1.25e-06 = 0.0005   (cache_read_input_token_cost; cost_map:gpt-4o)",
        "  output                   200 × 1e-05 = 0.002   (output_cost_per_token; cost_map:gpt-4o)",
        "  total 0.004 USD",
    ]


def test_chart_draws_bars(capsys, usage):
    _, out, _ = run(capsys, "price", usage, "--chart", "-g", "team")
    assert "████" in out


def test_reconcile_lists_groups_whose_recorded_spend_differs(capsys, tmp_path):
    path = tmp_path / "spend.jsonl"
    # gpt-4o 1000*2.5e-6 + 100*1e-5 = 0.0035 computed; recorded 0.0035 (agrees) and 0.005 (logs over-charge)
    path.write_text('{"model":"gpt-4o","prompt_tokens":1000,"completion_tokens":100,"team":"a","spend":0.0035}\n'
                    '{"model":"gpt-4o","prompt_tokens":1000,"completion_tokens":100,"team":"b","spend":0.005}\n'
                    '{"model":"gpt-4o","prompt_tokens":1000,"completion_tokens":100,"team":"c"}\n')
    code, out, _ = run(capsys, "price", str(path), "-g", "team", "--reconcile", "-f", "json")
    doc = json.loads(out)
    assert code == 0
    assert doc["reconcile"]["tolerance"] == 0.01
    (gap,) = doc["reconcile"]["groups"]
    assert gap["group"] == ["b"]
    assert gap["difference"] == pytest.approx(0.0035 - 0.005, rel=1e-12)
    code, out, _ = run(capsys, "price", str(path), "-g", "team", "--reconcile", "--tolerance", "0.5")
    assert "every group agrees within 50%" in out
    assert run(capsys, "price", str(path), "--reconcile", "-f", "csv")[0] == 2
