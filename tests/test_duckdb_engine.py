"""The DuckDB engine against the Python engine (the reference): the same report, byte for byte, for every usage
corpus under tests/ and sample_data/, the generated differential corpora, every group key, format, time window
and ordering; bad lines routed so that each rejection keeps its file, line and reason; and the exactness traps of
ENGINES.md §4, with the hand arithmetic beside each."""

from __future__ import annotations

import gzip
import json
import random
from decimal import Decimal
from pathlib import Path

import pytest

from costcalc.engines.contract import KeySpec
from costcalc.engines.duckdb_engine import run_aggregate
from costcalc.engines.streaming import PricingEngine
from costcalc.rates.config import load_config
from costcalc.rates.costmap import load_cost_map

from .conftest import ROOT, write_config
from .runner import main
from .test_differential import (
    ADJUSTED_CONFIG,
    ADJUSTED_MODELS,
    CUSTOM_MODELS,
    CUSTOM_PRICING_CONFIG,
    PROVIDER_RULES_CONFIG,
    PROVIDER_RULES_MODELS,
    SDK_MODELS,
    _timed,
    generate,
)

SAMPLE_CONFIG = str(ROOT / "sample_data" / "config.yaml")
CORPORA = [str(ROOT / "sample_data" / "usage.jsonl"), str(ROOT / "sample_data" / "mixed.jsonl"),
           str(ROOT / "tests" / "data")]


def both(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``costcalc`` with each engine; they must agree on exit code, stdout and stderr to the byte."""
    results = []
    for engine in ("python", "duckdb"):
        code = main([*args, "--engine", engine])
        out, err = capsys.readouterr()
        results.append((code, out, err))
    assert results[0] == results[1]
    return results[1]


@pytest.mark.parametrize("group", [["model"], ["deployment", "team"], ["provider", "user"], ["key"], ["end_user"],
                                   ["tag"], ["day", "model"], ["week"], ["month"], ["hour"], ["shape"],
                                   ["metadata.project"], ["team", "tag", "month"]])
def test_every_group_key_gives_the_same_report(capsys, group):
    args = ["price", *CORPORA, "--config", SAMPLE_CONFIG, "--format", "json"]
    for g in group:
        args += ["-g", g]
    code, out, _ = both(capsys, *args)
    assert code == 0
    assert json.loads(out)["accounting"]["priced"] > 40


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown", "html"])
def test_every_aggregate_format_gives_the_same_bytes(capsys, fmt):
    code, out, _ = both(capsys, "price", *CORPORA, "--config", SAMPLE_CONFIG, "--format", fmt, "-g", "provider",
                        "-g", "model")
    assert code == 0 and out


@pytest.mark.parametrize("extra", [["--since", "2025-09-15T09:30:00Z"], ["--until", "2025-09-16"],
                                   ["--since", "2025-09-15", "--until", "2025-09-15T10:00:00Z"],
                                   ["--top", "3", "--sort", "tokens"], ["--sort", "name"], ["--tz", "Asia/Kolkata",
                                                                                            "-g", "day"],
                                   ["--reconcile"], ["--strict"]])
def test_windows_ordering_and_options_give_the_same_report(capsys, extra):
    both(capsys, "price", *CORPORA, "--config", SAMPLE_CONFIG, "--format", "json", *extra)


def _corpus(tmp_path: Path, name: str, records: list[dict]) -> str:
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


@pytest.mark.parametrize("name", ["custom", "adjusted", "bare", "rules"])
def test_generated_differential_corpora_give_the_same_report(capsys, tmp_path, name):
    rng = random.Random(20261129)
    config, records = {
        "custom": (CUSTOM_PRICING_CONFIG, [r for m in CUSTOM_MODELS for r in generate(rng, m, 30)]),
        "adjusted": (ADJUSTED_CONFIG, [r for m in ADJUSTED_MODELS for r in generate(rng, m, 40)]),
        "bare": (None, [r for m in SDK_MODELS for r in generate(rng, m, 25, prices=True)]),
        "rules": (PROVIDER_RULES_CONFIG, [r for m in PROVIDER_RULES_MODELS
                                          for r in _timed(rng, generate(rng, m, 12), batch=True)]),
    }[name]
    # half the records without a duration (the fast lane), the rest with one (the Python engine's lane)
    for i, r in enumerate(records):
        if i % 2:
            r.pop("duration_s", None)
    usage = _corpus(tmp_path, name, records)
    args = ["price", usage, "--format", "json", "-g", "model", "-g", "deployment"]
    if config is not None:
        args += ["--config", str(write_config(tmp_path, config))]
    _, out, _ = both(capsys, *args)
    doc = json.loads(out)
    assert doc["accounting"]["read"] == len(records)
    assert doc["accounting"]["priced"] > len(records) // 2


def test_the_fast_lane_prices_canonical_records_in_sql(tmp_path):
    """Most canonical records are summed by DuckDB itself; only the unusual lines reach the Python engine."""
    rng = random.Random(3)
    records = [r for m in ADJUSTED_MODELS for r in generate(rng, m, 40)]
    for r in records:
        r.pop("duration_s", None)
        r.pop("cache_creation_1h_input_tokens", None)
    usage = _corpus(tmp_path, "fast", records)
    engine = PricingEngine(load_cost_map(), load_config(write_config(tmp_path, ADJUSTED_CONFIG)))
    done = run_aggregate(engine, [usage], [KeySpec("model")])
    summed = sum(row.count for row in done.sums) + sum(n for _, n in done.unpriced)
    assert summed == len(records)
    assert done.files == [("duckdb", usage, [])]


BAD_LINES = [
    '{"model": "gpt-4o", "prompt_tokens": 1.5, "completion_tokens": 3}',  # not whole
    '{"model": "gpt-4o", "prompt_tokens": "12", "completion_tokens": 3}',  # a string
    '{"model": "gpt-4o", "prompt_tokens": -5}',  # negative
    '{"model": "gpt-4o", "prompt_tokens": 10, "cache_read_input_tokens": 20}',  # breaks its convention
    '{"model": "gpt-4o", "prompt_tokens": 100, "completion_tokens": 5, "reasoning_tokens": 9}',
    '{"model": 5, "prompt_tokens": 1}',  # model not a string
    '{"model": " gpt-4o ", "prompt_tokens": 1000}',  # padded: Python strips it, and prices it
    '{"model": "gpt-4o", "prompt_tokens": 1000, "model_id": 7}',  # a number for an id: Python reads "7"
    '{"model": "gpt-4o", "prompt_tokens": 1000, "timestamp": "yesterday"}',
    '{"model": "gpt-4o", "prompt_tokens": 1000, "timestamp": "2025-09-15T25:00:00Z"}',
    '{"model": "gpt-4o", "prompt_tokens": 1000, "timestamp": 1757926800123}',  # milliseconds
    '{"model": "gpt-4o", "prompt_tokens": 1000, "input_cost_per_token": 0.001}',  # a per-request price
    '{"model": "gpt-4o", "prompt_tokens": 1000, "duration_s": 0.05}',
    '{"model": "gpt-4o", "prompt_tokens": 1000, "spend": 0.5}',
    '{"model": "gpt-4o", "prompt_tokens": 1000, "user": {"id": 1}}',  # a group-key field that is an object
    '{"model": "gpt-4o", "prompt_tokens": 1e3}',  # a whole float: Python reads 1000
    '{"model": "gpt-4o" "prompt_tokens": 1}',  # not JSON
    '[1, 2]',
    '',
    '   ',
    '\ufeff{"model": "gpt-4o", "prompt_tokens": 7}',  # a BOM mid-file
    '{"model": "gpt-4o", "prompt_tokens": 1000, "prompt_tokens": 2}',  # a repeated key (see the module docstring)
]


def test_bad_lines_are_rejected_with_the_same_file_line_and_reason(capsys, tmp_path):
    rng = random.Random(5)
    good = [json.dumps(r) for r in generate(rng, "gpt-4o", 60, tiers=False)]
    lines = []
    for i, text in enumerate(good):
        lines.append(text)
        if i < len(BAD_LINES) - 1:  # all but the repeated key, which DuckDB reads differently (documented)
            lines.append(BAD_LINES[i])
    usage = tmp_path / "bad.jsonl"
    usage.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejects = {e: tmp_path / f"rejects-{e}.txt" for e in ("python", "duckdb")}
    results = []
    for engine in ("python", "duckdb"):
        code = main(["price", str(usage), "--format", "json", "--engine", engine, "--rejects", str(rejects[engine])])
        results.append((code, *capsys.readouterr()))
    assert results[0] == results[1]
    assert rejects["python"].read_bytes() == rejects["duckdb"].read_bytes()
    doc = json.loads(results[0][1])
    assert doc["accounting"]["rejected"] >= 10
    # the bad lines stand at lines 2, 4, 6, ...: the first is not whole, the second a string
    by_line = {r["line"]: r["reason"] for r in doc["rejected"]}
    assert "whole number" in by_line[2] and '"12"' in by_line[4]


# What DuckDB's JSON reader accepts and JSON (orjson, the Python engine) does not, and keys the query does not read
# that change the price: each line must reach the Python engine, which rejects or prices it.
LENIENT_LINES = [
    '{"model": "gpt-4o", "prompt_tokens": 10, "completion_tokens": 5, "latency": NaN}',
    '{"model": "gpt-4o", "prompt_tokens": 10, "completion_tokens": 5, "latency": Infinity}',
    '{"model": "gpt-4o", "prompt_tokens": 10, "completion_tokens": 5, "latency": -Infinity}',
    '{"model": "gpt-4o", "prompt_tokens": 10, "completion_tokens": 5, "latency": [1, nan]}',
    '{"model": "gpt-4o", "prompt_tokens": 10, "completion_tokens": 5, "latency":inf}',
    '{"model": "gpt-4o", "prompt_tokens": 10, "completion_tokens": 5, "latency": +INF}',
    '{"model": "gpt-4o", "prompt_tokens": 10, "completion_tokens": 5,}',
    '{"model": "gpt-4o", "prompt_tokens": 10, "completion_tokens": 5, "tags": ["a", ] }',
    '{"model": "gpt-4o", "prompt_tokens": 10, "completion_tokens": 5 ,\t}',
    '{"model": "gpt-4o", "prompt_tokens": 1000, "duration\\u005fs": 0.05}',  # a slow key spelled with an escape
    '{"model": "gpt-4o", "prompt_tokens": 1000, "input_cost_per_token": 1e-6}',
    '{"model": "gpt-4o", "prompt_tokens": 1000, "tags": ["cost-centre-7", "Infinity war"]}',  # harmless: priced
    '{"model": "NaN", "prompt_tokens": 1000}',  # harmless: a model named NaN, unpriced
]


def test_what_duckdb_reads_and_json_does_not_is_rejected_as_python_rejects_it(capsys, tmp_path):
    rng = random.Random(6)
    records = generate(rng, "gpt-4o", 30, tiers=False)
    for r in records:  # keys that leave a line to the Python engine anyway
        r.pop("duration_s", None)
        r.pop("cache_creation_1h_input_tokens", None)
    good = [json.dumps(r) for r in records]
    lines = [x for pair in zip(good, LENIENT_LINES + [""] * len(good)) for x in pair]
    usage = tmp_path / "lenient.jsonl"
    usage.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, out, _ = both(capsys, "price", str(usage), "--format", "json", "-g", "model", "-g", "tag")
    doc = json.loads(out)
    # lines 2, 4, ..., 18 break JSON; 20 and 22 carry a per-request duration and price; 24 and 26 are harmless
    assert sorted(r["line"] for r in doc["rejected"]) == list(range(2, 19, 2))
    assert doc["accounting"]["priced"] == 30 + 3
    engine = PricingEngine(load_cost_map(), load_config(write_config(tmp_path, "model_list: []\n")))
    done = run_aggregate(engine, [str(usage)], [KeySpec("model")])
    assert [x.line for x in done.files[0][2]] == list(range(2, 25, 2))  # each left to the Python engine


def _random_lines(rng: random.Random, n: int) -> list[str]:
    """Canonical records and broken ones, as a fuzzer writes them: numbers in every spelling (NaN, Infinity,
    hex, leading zeros, strings, booleans), values of every type under keys the query reads and keys it does
    not, trailing commas, stray text, single quotes, a BOM, blank lines (no repeated key, nor the spellings
    the module docstring lists as known differences)."""
    models = ["gpt-4o", "gpt-4o-mini", " gpt-4o", "claude-sonnet-4-5-20250929", "unknown-model", "gpt4o", "",
              "gpt-4o\u00e9"]
    numbers = ["0", "1", "12", "1000", "-0", "-5", "1.0", "1.5", "1e3", "1E3", "12345678901234567890", "true",
               "null", '"12"', "[1]", "{}", "NaN", "Infinity", "-Infinity", "0x10", "01", "9007199254740993"]
    values = ['"a"', "1", "null", "true", '{"x": 1}', "[1, 2]", '"\\u00e9"', '"cost"', '"NaN"', '"x\\"y"', "-0.0"]
    keys = ["user", "team", "tags", "metadata", "key", "end_user", "timestamp", "model_id", "service_tier",
            "cache_read_input_tokens", "reasoning_tokens", "cache_creation_input_tokens", "latency", "foo",
            "duration_s", "spend", "request_id", "id", "response", "input_cost_per_token", "batch"]
    lines = []
    for i in range(n):
        if rng.random() < 0.5:
            d: dict = {"model": rng.choice(models), "prompt_tokens": rng.randint(0, 5000),
                       "completion_tokens": rng.randint(0, 500)}
            if rng.random() < 0.3:
                d["cache_read_input_tokens"] = rng.randint(0, 100)
            if rng.random() < 0.3:
                d["user"] = rng.choice(["alice", "bob", None, 5])
            if rng.random() < 0.3:
                d["timestamp"] = rng.choice([1790812800 + i, "2026-11-02T09:15:00Z", "2026-11-02", 1790812800123,
                                             "2026-11-02T09:15:00.123+02:00"])
            lines.append(json.dumps(d, ensure_ascii=rng.random() < 0.5))
            continue
        parts = [f'"model": "{rng.choice(models)}"']
        for name, chance in (("prompt_tokens", 0.9), ("completion_tokens", 0.7)):
            if rng.random() < chance:
                parts.append(f'"{name}": {rng.choice(numbers)}')
        for k in rng.sample(keys, rng.randint(0, 3)):
            parts.append(f'"{k}": {rng.choice(values) if rng.random() < 0.6 else rng.choice(numbers)}')
        rng.shuffle(parts)
        text = "{" + rng.choice([", ", ",", "  ,\t"]).join(parts) + rng.choice(["}", "}", ",}", " }", "} x", "}}", ""])
        if rng.random() < 0.05:
            text = text.replace('"', "'", 1)
        if rng.random() < 0.03:
            text = "\ufeff" + text
        if rng.random() < 0.03:
            text = rng.choice(["", "  ", "[]", "null", "1", '"s"'])
        lines.append(text)
    return lines


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_lines_give_the_same_report(capsys, tmp_path, seed):
    usage = tmp_path / "fuzz.jsonl"
    usage.write_text("\n".join(_random_lines(random.Random(seed), 300)) + "\n", encoding="utf-8")
    rejects = {e: tmp_path / f"rejects-{e}.txt" for e in ("python", "duckdb")}
    results = []
    for engine in ("python", "duckdb"):
        code = main(["price", str(usage), "--config", SAMPLE_CONFIG, "--format", "json", "-g", "model", "-g", "user",
                     "--engine", engine, "--rejects", str(rejects[engine])])
        results.append((code, *capsys.readouterr()))
    assert results[0] == results[1]
    assert rejects["python"].read_bytes() == rejects["duckdb"].read_bytes()
    accounting = json.loads(results[0][1])["accounting"]
    assert accounting["priced"] > 50 and accounting["rejected"] > 50


def test_lines_found_by_the_full_query_when_traces_are_too_many(capsys, tmp_path, monkeypatch):
    """Above _MAX_TRACES distinct lines outside the fast lane, their numbers come from a second full scan."""
    from costcalc.engines import duckdb_engine

    rng = random.Random(8)
    good = [json.dumps(r) for r in generate(rng, "gpt-4o-mini", 40, tiers=False)]
    lines = [x for pair in zip(good, BAD_LINES[:-1] + [""] * len(good)) for x in pair]
    usage = tmp_path / "many.jsonl"
    usage.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, before, _ = both(capsys, "price", str(usage), "--format", "json")
    monkeypatch.setattr(duckdb_engine, "_MAX_TRACES", 0)
    _, after, _ = both(capsys, "price", str(usage), "--format", "json")
    assert before == after


@pytest.mark.parametrize("layout", ["crlf", "blank-lines", "no-final-newline", "gzip", "stray-cr", "several"])
def test_file_layouts_give_the_same_report(capsys, tmp_path, layout):
    rng = random.Random(9)
    texts = [json.dumps(r) for r in generate(rng, "gpt-4o-mini", 80, tiers=False)]
    texts.insert(20, '{"model": "gpt-4o-mini", "prompt_tokens": -1}')
    paths = [tmp_path / "usage.jsonl"]
    if layout == "crlf":
        data = "\r\n".join(texts) + "\r\n"
    elif layout == "blank-lines":
        data = "\n\n".join(texts[:40]) + "\n  \n\t\n" + "\n".join(texts[40:]) + "\n"
    elif layout == "no-final-newline":
        data = "\n".join(texts)
    elif layout == "stray-cr":
        data = "\n".join(texts[:30]) + "\n" + texts[30] + "\r" + texts[31] + "\n" + "\n".join(texts[32:]) + "\n"
    else:
        data = "\n".join(texts) + "\n"
    if layout == "gzip":
        paths = [tmp_path / "usage.jsonl.gz"]
        paths[0].write_bytes(gzip.compress(data.encode()))
    elif layout == "several":
        paths = [tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "empty.jsonl"]
        paths[0].write_text("\n".join(texts[:50]) + "\n")
        paths[1].write_text("\n".join(texts[50:]) + "\n")
        paths[2].write_text("")
    else:
        paths[0].write_bytes(data.encode())
    both(capsys, "price", *map(str, paths), "--format", "json", "-g", "model")


def test_off_peak_and_vertex_128k_cards_are_priced_by_the_python_engine_in_the_same_run(capsys, tmp_path):
    records = []
    for i in range(40):
        records.append({"model": "offpeak-custom", "prompt_tokens": 1000 + i, "completion_tokens": 50,
                        "timestamp": 1796031000 + 1800 * i})  # half-hourly, across the off-peak window
        records.append({"model": "vtx-128k", "prompt_tokens": 100 + 5000 * i,
                        "completion_tokens": 130_000 * (i % 2)})
        records.append({"model": "gpt-4o", "prompt_tokens": 500, "completion_tokens": i})
    usage = _corpus(tmp_path, "routed", records)
    config = write_config(tmp_path, PROVIDER_RULES_CONFIG)
    _, out, _ = both(capsys, "price", usage, "--format", "json", "--config", str(config))
    assert json.loads(out)["accounting"]["priced"] == len(records)
    engine = PricingEngine(load_cost_map(), load_config(config))
    done = run_aggregate(engine, [usage], [KeySpec("model")])
    routed = done.files[0][2]
    assert len(routed) == 80  # the off-peak and 128k records, read and priced by the Python engine
    assert sum(row.count for row in done.sums) == 40


def test_explicit_duckdb_says_when_it_cannot_take_the_run(capsys):
    code = main(["price", str(ROOT / "sample_data" / "usage.jsonl"), "--format", "jsonl", "--engine", "duckdb",
                 "--config", SAMPLE_CONFIG])
    _, err = capsys.readouterr()
    assert code == 0
    assert "--engine duckdb: it prints aggregate reports only" in err


# -- exactness (ENGINES.md §4) -----------------------------------------------------------------------------

def _exact_total(capsys, usage: str, config: str) -> Decimal:
    _, out, _ = both(capsys, "price", usage, "--config", config, "--format", "json")
    return json.loads(out, parse_float=Decimal)["totals"]["cost"]["total"]


def test_a_rate_with_18_decimals_survives(capsys, tmp_path):
    # input $0.000000123456789012 per token (18 decimal places), output $0.000001000000000001
    config = write_config(tmp_path, """
model_list:
  - model_name: fine
    litellm_params: {model: openai/fine, input_cost_per_token: 0.000000123456789012,
                     output_cost_per_token: 0.000001000000000001}
""")
    usage = _corpus(tmp_path, "fine", [{"model": "fine", "prompt_tokens": 3, "completion_tokens": 7}] * 5)
    # 5 x (3 x 0.000000123456789012 + 7 x 0.000001000000000001) = 5 x 0.000007370370367043 = 0.000036851851835215
    assert _exact_total(capsys, usage, str(config)) == Decimal("0.000036851851835215")


def test_a_cost_over_100_dollars_with_discount_and_margin_does_not_overflow(capsys, tmp_path):
    # $0.00006 / input token; discount 5% on openai; margin 10% + $0.25 per request
    config = write_config(tmp_path, """
model_list:
  - model_name: big
    litellm_params: {model: openai/big, input_cost_per_token: 0.00006, output_cost_per_token: 0.00012}
litellm_settings:
  cost_discount_config: {openai: 0.05}
  cost_margin_config: {global: {percentage: 0.1, fixed_amount: 0.25}}
""")
    usage = _corpus(tmp_path, "big", [{"model": "big", "prompt_tokens": 2_000_000, "completion_tokens": 500_000}] * 3)
    # base per record: 2,000,000 x 0.00006 + 500,000 x 0.00012 = 120 + 60 = 180
    # discounted: 180 - 9 = 171; margin: 17.1 + 0.25; total 188.35 per record, 565.05 for three
    assert _exact_total(capsys, usage, str(config)) == Decimal("565.05")


def test_a_50_millisecond_duration_stays_exact(capsys, tmp_path):
    # $0.0001 per second of a per-second deployment, 0.05 s: 0.000005 exactly (a float product is 5.000000000000001e-06)
    config = write_config(tmp_path, """
model_list:
  - model_name: persec
    litellm_params: {model: sagemaker/endpoint, input_cost_per_second: 0.0001}
""")
    usage = _corpus(tmp_path, "persec", [{"model": "persec", "prompt_tokens": 10, "duration_s": 0.05}] * 7)
    assert _exact_total(capsys, usage, str(config)) == Decimal("0.000035")


def _parquet(tmp_path: Path, name: str, records: list[dict]) -> str:
    """A Parquet file with the canonical columns, written by DuckDB from the records' JSONL."""
    import duckdb

    source = _corpus(tmp_path, name, records)
    target = tmp_path / f"{name}.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_json_auto('{source}')) TO '{target}' (FORMAT parquet)")
    con.close()
    return str(target)


def test_parquet_is_read_like_its_jsonl_by_both_engines(capsys, tmp_path):
    rng = random.Random(12)
    records = [r for m in ADJUSTED_MODELS for r in generate(rng, m, 30, tiers=False)]
    for i, r in enumerate(records):
        r.pop("duration_s", None)
        r["timestamp"] = 1757926800 + 3600 * i
        r["team"] = ["search", "agents"][i % 2]
    config = str(write_config(tmp_path, ADJUSTED_CONFIG))
    usage = _corpus(tmp_path, "usage", records)
    table = _parquet(tmp_path, "usage", records)
    _, from_jsonl, _ = both(capsys, "price", usage, "--config", config, "--format", "json", "-g", "team", "-g", "day")
    _, from_parquet, _ = both(capsys, "price", table, "--config", config, "--format", "json", "-g", "team", "-g", "day")
    assert json.loads(from_parquet)["groups"] == json.loads(from_jsonl)["groups"]
    assert json.loads(from_parquet)["accounting"]["priced"] == len(records)


def test_parquet_rows_that_break_the_rules_are_rejected_by_row_number(capsys, tmp_path):
    records = [{"model": "gpt-4o", "prompt_tokens": 100 + i, "completion_tokens": 10} for i in range(30)]
    records[7]["cache_read_input_tokens"] = 500  # more cache reads than prompt tokens
    records[19]["completion_tokens"] = -3
    _, out, _ = both(capsys, "price", _parquet(tmp_path, "bad", records), "--format", "json")
    doc = json.loads(out)
    assert [r["line"] for r in doc["rejected"]] == [8, 20]
    assert doc["accounting"]["priced"] == 28


def test_a_group_key_no_record_has_gets_the_same_suggestions(capsys, tmp_path):
    """The suggestions come from the first priced record's fields (here line 2; line 1 is unpriced and has
    other fields), in both engines, each key once."""
    usage = tmp_path / "u.jsonl"
    usage.write_text('{"model": "no-such-model", "prompt_tokens": 1, "end_usr": "x", "usr": "y"}\n'
                     '{"model": "gpt-4o", "prompt_tokens": 5, "user": "a", "team": "t"}\n')
    code, _, err = both(capsys, "price", str(usage), "-g", "end_user")
    assert code == 2
    assert err.strip().endswith("did you mean user?")
    # the first priced record is summed by DuckDB, a later one is read by Python (it carries a recorded spend)
    usage.write_text('{"model": "gpt-4o", "prompt_tokens": 5, "teams": "a"}\n'
                     '{"model": "gpt-4o", "prompt_tokens": 5, "spend": 0.1, "other": "b"}\n')
    code, _, err = both(capsys, "price", str(usage), "-g", "team")
    assert code == 2
    assert err.strip().endswith("did you mean teams?")


@pytest.mark.parametrize("block", [16, 64, 1 << 20])
def test_picking_lines_by_seeking_finds_what_reading_finds(tmp_path, monkeypatch, block):
    """pick_rows seeks past whole blocks using count_lines' newline counts: lines shorter and longer than a
    block, targets at block edges, a last line without a newline; the same lines as reading every line."""
    from costcalc.engines import duckdb_files

    monkeypatch.setattr(duckdb_files, "_BLOCK", block)
    rng = random.Random(block)
    texts = [("x" * rng.choice([0, 1, 5, 15, 16, 17, 63, 64, 65, 200])).encode() for _ in range(400)]
    path = tmp_path / "lines.jsonl"
    path.write_bytes(b"\n".join(texts))  # no final newline
    total, blocks = duckdb_files.count_lines(str(path), "none")
    assert total == len(texts)
    for wanted in ([1], [len(texts)], sorted(rng.sample(range(1, len(texts) + 1), 60)), list(range(1, 401, 7))):
        seeking = list(duckdb_files.pick_rows(str(path), "none", wanted, True, blocks))
        reading = list(duckdb_files.pick_rows(str(path), "none", wanted, True, None))
        assert [n for n, _ in seeking] == wanted
        assert seeking == reading
        assert [t.rstrip(b"\n") for _, t in seeking] == [texts[n - 1] for n in wanted]


def test_parquet_rows_of_cards_python_prices_are_found_by_row_number(capsys, tmp_path):
    """Off-peak and Vertex 128k cards in a Parquet file: their rows are numbered by the full query (Parquet rows
    carry their numbers) and priced by the Python engine, beside rows DuckDB sums and a row it rejects."""
    records = []
    for i in range(20):
        records.append({"model": "offpeak-custom", "prompt_tokens": 1000 + i, "completion_tokens": 50,
                        "timestamp": 1796031000 + 1800 * i})
        records.append({"model": "gpt-4o", "prompt_tokens": 500, "completion_tokens": i,
                        "timestamp": 1796031000 + 60 * i})
    # more cached tokens than prompt tokens: rejected (a negative count would make the column DOUBLE)
    records.append({"model": "gpt-4o", "prompt_tokens": 10, "cache_read_input_tokens": 20, "timestamp": 1796031000})
    table = _parquet(tmp_path, "routed", records)
    config = str(write_config(tmp_path, PROVIDER_RULES_CONFIG))
    _, out, _ = both(capsys, "price", table, "--format", "json", "--config", config, "-g", "model")
    doc = json.loads(out)
    assert (doc["accounting"]["priced"], doc["accounting"]["rejected"]) == (40, 1)
    engine = PricingEngine(load_cost_map(), load_config(config))
    done = run_aggregate(engine, [table], [KeySpec("model")])
    assert [x.line for x in done.files[0][2]] == [*range(1, 40, 2), 41]  # the off-peak rows and the rejected one
    assert sum(row.count for row in done.sums) == 20
