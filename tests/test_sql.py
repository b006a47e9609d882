"""``costcalc sql``: the emitted query, run for real, against the Python engine (the reference) to the last
decimal, over every usage corpus under tests/ and sample_data/; the dialects it transpiles to keep exact types;
and Spark without its session setting rounds (the reason the setting is there)."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import sqlglot
import yaml
from sqlglot import exp

from costcalc.engines.dialects import DIALECTS, statements, transpile
from costcalc.engines.sqlcompile import PYTHON_ONLY, SqlOptions, compile_query, covered_keys
from costcalc.engines.streaming import PricingEngine
from costcalc.pricing.exact import decimal_text
from costcalc.rates.config import load_config
from costcalc.rates.costmap import load_cost_map
from costcalc.reading.jsonl import read_usage
from costcalc.reading.records import UsageRecord

from .conftest import ROOT, write_config
from .pg_cluster import postgres_url  # noqa: F401 - a fixture
from .runner import main

SAMPLE_CONFIG = str(ROOT / "sample_data" / "config.yaml")
CORPORA = [ROOT / "sample_data" / "usage.jsonl", ROOT / "sample_data" / "mixed.jsonl",
           *sorted((ROOT / "tests" / "data").glob("*.jsonl"))]
COLUMNS = (("id", "BIGINT"), ("model", "VARCHAR"), ("model_id", "VARCHAR"), ("service_tier", "VARCHAR"),
           ("prompt_tokens", "BIGINT"), ("completion_tokens", "BIGINT"), ("cache_read_input_tokens", "BIGINT"),
           ("cache_creation_input_tokens", "BIGINT"), ("reasoning_tokens", "BIGINT"), ("audio_input_tokens", "BIGINT"),
           ("audio_output_tokens", "BIGINT"), ("image_input_tokens", "BIGINT"), ("timestamp", "TIMESTAMP"),
           ("user", "VARCHAR"), ("team", "VARCHAR"), ("key", "VARCHAR"), ("end_user", "VARCHAR"))


def sql_expressible(r: UsageRecord) -> bool:
    """What the canonical columns carry: no duration, per-request price, batch line, 1-hour write or extra."""
    return (r.duration_s is None and not r.request_prices and not r.batch and not r.cache_write_1h_tokens
            and not r.extras)


def canonical_rows(paths: list[Path]) -> list[tuple]:
    rows = []
    for res in read_usage([str(p) for p in paths]):
        if isinstance(res, UsageRecord) and sql_expressible(res):
            ts = None if res.timestamp is None else datetime.fromtimestamp(res.timestamp, timezone.utc).replace(
                tzinfo=None)
            rows.append((len(rows) + 1, res.model, res.model_id, res.service_tier, res.prompt_tokens,
                         res.completion_tokens, res.cache_read_tokens, res.cache_write_tokens, res.reasoning_tokens,
                         res.audio_input_tokens, res.audio_output_tokens, res.image_input_tokens, ts, None, None,
                         None, None))
    return rows


def write_jsonl(path: Path, rows: list[tuple]) -> None:
    """The same records as canonical JSONL, for the Python engine."""
    with open(path, "w") as f:
        for row in rows:
            rec = {name: value for (name, _), value in zip(COLUMNS, row) if value is not None and name != "id"}
            if rec.get("timestamp") is not None:
                rec["timestamp"] = rec["timestamp"].replace(tzinfo=timezone.utc).isoformat()
            f.write(json.dumps(rec) + "\n")


def duckdb_table(rows: list[tuple]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE usage (" + ", ".join(f'"{n}" {t}' for n, t in COLUMNS) + ")")
    con.executemany("INSERT INTO usage VALUES (" + ", ".join("?" * len(COLUMNS)) + ")", rows)
    return con


def emitted(capsys, tmp_path: Path, models: list[str], *args: str, dialect: str = "duckdb",
            config: str = SAMPLE_CONFIG) -> str:
    listing = tmp_path / "models.txt"
    listing.write_text("".join(m + "\n" for m in models))
    code = main(["sql", "--config", config, "--dialect", dialect, "--table", "usage", "--models", str(listing),
                 *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def python_csv(capsys, usage: Path, *args: str, config: str = SAMPLE_CONFIG) -> list[list[str]]:
    """The Python engine's CSV report: its groups and TOTAL row (nested groups' subtotal rows, which the query
    does not compute, and their level column left out)."""
    code = main(["price", str(usage), "--config", config, "--format", "csv", "--engine", "python", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    if rows[0][-1] != "level":
        return rows
    n_keys = rows[0].index("requests")
    return [rows[0][:-1], *(row[:-1] for row in rows[1:] if row[-1] in (str(n_keys), "0"))]


def as_text(v) -> str:
    if isinstance(v, Decimal):
        return decimal_text(v)
    return "" if v is None else str(v)


def compare(rows: list[tuple], names: list[str], expected: list[list[str]], n_keys: int) -> None:
    """Every priced group and the TOTAL row equal the Python engine's CSV in every column but ``share`` (the report
    rounds shares to 6 places so that they add up to 1, reports.money; the query keeps the ratio)."""
    share = names.index("share")
    got = {tuple(as_text(v) for v in r[:n_keys]): r for r in rows if r[names.index("status")] in ("priced", "total")}
    want = {tuple(row[:n_keys]): row for row in expected[1:]}
    assert expected[0] == names[:share + 1]
    assert set(got) == set(want)
    for key, row in want.items():
        mine = got[key]
        assert [as_text(v) for v in mine[:share]] == row[:share], key
        assert abs(float(mine[share]) - float(row[share])) <= 1e-6


def run_duckdb(con, script_text: str) -> tuple[list[tuple], list[str]]:
    cur = con.execute(script_text)
    return cur.fetchall(), [d[0] for d in cur.description]


@pytest.mark.parametrize("group", [["model"], ["provider", "model"], ["deployment"], ["day", "model"], ["month"]])
def test_duckdb_query_equals_the_python_engine_on_every_corpus(capsys, tmp_path, group):
    rows = canonical_rows(CORPORA)
    assert len(rows) >= 58  # the corpora's records without extras (grounded Gemini searches have a tool charge)
    usage = tmp_path / "usage.jsonl"
    write_jsonl(usage, rows)
    args = [a for g in group for a in ("-g", g)]
    query = emitted(capsys, tmp_path, sorted({r[1] for r in rows}), *args)
    result, names = run_duckdb(duckdb_table(rows), query)
    compare(result, names, python_csv(capsys, usage, *args), len(group))
    # the unpriced come back as rows with a NULL cost, as many records as the Python engine leaves unpriced
    unpriced = [r for r in result if r[names.index("status")] == "unpriced"]
    assert all(r[names.index("total_cost")] is None for r in unpriced)


def test_per_record_costs_sum_to_the_report(capsys, tmp_path):
    rows = canonical_rows(CORPORA)
    models = sorted({r[1] for r in rows})
    con = duckdb_table(rows)
    per, names = run_duckdb(con, emitted(capsys, tmp_path, models, "--per-record"))
    assert len(per) == len(rows)
    agg, anames = run_duckdb(con, emitted(capsys, tmp_path, models))
    total = next(r for r in agg if r[0] == "TOTAL")[anames.index("total_cost")]
    assert sum(r[names.index("total_cost")] for r in per if r[names.index("status")] == "priced") == total


def test_hand_worked_margin_and_discount_and_unpriced_rows(capsys, tmp_path):
    # rates 0.000001 in / 0.000003 out per token, discount 10 %, margin 5 %:
    # 1000 in + 500 out = 0.001 + 0.0015 = 0.0025; discount 0.00025; after 0.00225; margin 0.0001125;
    # total 0.0023625 per record, two records 0.004725: discount 2 × 0.00025, margin 2 × 0.0001125
    config = write_config(tmp_path, yaml.safe_dump({
        "model_list": [{"model_name": "mine", "litellm_params": {"model": "openai/mine",
                                                                 "input_cost_per_token": 0.000001,
                                                                 "output_cost_per_token": 0.000003}}],
        "litellm_settings": {"cost_discount_config": {"openai": 0.1}, "cost_margin_config": {"openai": 0.05}}}))
    rows = [(i, m, None, None, 1000, 500, 0, 0, 0, 0, 0, 0, None, None, None, None, None)
            for i, m in ((1, "mine"), (2, "mine"), (3, "no-such-model"))]
    out, names = run_duckdb(duckdb_table(rows), emitted(capsys, tmp_path, ["mine", "no-such-model"],
                                                        config=str(config)))
    mine = next(r for r in out if r[0] == "mine")
    assert decimal_text(mine[names.index("total_cost")]) == "0.004725"
    assert decimal_text(mine[names.index("discount_cost")]) == "-0.0005"
    assert decimal_text(mine[names.index("margin_cost")]) == "0.000225"
    missing = next(r for r in out if r[0] == "no-such-model")
    assert missing[names.index("status")] == "unpriced" and missing[names.index("total_cost")] is None


@pytest.mark.parametrize("dialect", [d for d in DIALECTS if d != "duckdb"])
def test_every_dialect_parses_back_and_keeps_exact_types(capsys, tmp_path, dialect):
    text = emitted(capsys, tmp_path, ["gpt-4o", "claude-sonnet", "gpt-4o-mini"], "-g", "model", "-g", "day",
                   dialect=dialect)
    assert text.startswith("-- costcalc")
    body = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
    query = body[-1]
    types = {t.sql(dialect=dialect) for t in query.find_all(exp.DataType)}
    assert not any(k in t.upper() for t in types for k in ("FLOAT", "DOUBLE", "REAL")
                   if t.upper() not in ("DOUBLE", "FLOAT64", "DOUBLE PRECISION", "FLOAT"))
    casts = [c for c in query.find_all(exp.Cast) if isinstance(c.this, exp.Literal) and c.this.is_string
             and "." in c.this.this]
    assert casts, "rates are decimal strings cast to the exact type"
    exact = {c.to.sql(dialect=dialect).upper() for c in casts}
    if dialect == "bigquery":
        assert exact == {"BIGNUMERIC"}
    else:
        assert all(t.startswith(("DECIMAL(", "NUMERIC(", "NUMBER(")) for t in exact), exact
    # the only floating type is the share ratio (and, reading a row, the test that a count written 1.2e3 is whole:
    # dialects.whole_count, whose results are integers)
    reads = {id(n) for cte in query.find_all(exp.CTE) if cte.alias.startswith("src") for n in cte.walk()}
    floats = [c for c in query.find_all(exp.Cast) if c.to.is_type(*exp.DataType.FLOAT_TYPES) and id(c) not in reads]
    assert all("total_cost" in c.this.sql() or c.this.sql() == "1" or "SUM" in c.this.sql().upper()
               for c in floats)
    if dialect == "spark":
        assert "SET spark.sql.decimalOperations.allowPrecisionLoss=false;" in text


def test_the_default_query_covers_config_and_cost_map_names():
    engine = PricingEngine(load_cost_map(), load_config(SAMPLE_CONFIG))
    keys = covered_keys(engine)
    names = {k[0] for k in keys}
    assert {d.model_name for d in engine.config.deployments if not d.is_wildcard} <= names
    assert ("gpt-4o" in names and "anthropic/claude-sonnet-4-5" in names) or "claude-sonnet-4-5" in names
    q = compile_query(engine, keys[:400], SqlOptions("usage"))
    assert q.sql.count("CAST(") > q.bands


# -- Spark (pyspark in local mode) ----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def spark():
    try:
        import pyspark
        from pyspark.sql import SparkSession
    except ImportError:
        if os.environ.get("COSTCALC_REQUIRE_SERVICES") == "1":
            pytest.fail("pyspark is required (COSTCALC_REQUIRE_SERVICES=1)")
        pytest.skip("pip install pyspark (and a Java 17 runtime: apt-get install -y openjdk-17-jre-headless)")

    session = (SparkSession.builder.master("local[1]").appName("costcalc-sql")
               .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC").getOrCreate())
    assert pyspark.__version__
    yield session
    session.stop()


def spark_table(spark, rows: list[tuple]) -> None:
    from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampNTZType

    kinds = {"BIGINT": LongType(), "VARCHAR": StringType(), "TIMESTAMP": TimestampNTZType()}
    schema = StructType([StructField(n, kinds[t]) for n, t in COLUMNS])
    spark.createDataFrame(rows, schema).createOrReplaceTempView("usage")


def run_spark(spark, text: str, setting: bool = True) -> tuple[list[tuple], list[str]]:
    """Run the printed script in the shared session, from Spark's default (precision loss allowed) each time;
    ``setting`` False skips the session settings the script starts with."""
    parts = statements_from(text)
    spark.conf.set("spark.sql.decimalOperations.allowPrecisionLoss", "true")
    if setting:
        for s in parts[:-1]:
            spark.sql(s)
    df = spark.sql(parts[-1])
    return [tuple(r) for r in df.collect()], df.columns


def run_on_usage(dialect: str, query: str, columns: list[tuple[str, str]], values: list[tuple], request
                 ) -> tuple[list[tuple], list[str]]:
    """Run ``query`` over a table ``usage`` of ``columns`` (name, DuckDB type: VARCHAR, BIGINT, TIMESTAMP or JSON)
    holding ``values``, in ``dialect`` (duckdb, postgres: JSON as jsonb, spark: JSON as text)."""
    if dialect == "duckdb":
        con = duckdb.connect()
        con.execute("CREATE TABLE usage (" + ", ".join(f'"{n}" {t}' for n, t in columns) + ")")
        con.executemany("INSERT INTO usage VALUES (" + ", ".join("?" * len(columns)) + ")", values)
        return run_duckdb(con, query)
    if dialect == "postgres":
        psycopg = pytest.importorskip("psycopg", reason="pip install 'psycopg[binary]'")
        pg = {"VARCHAR": "TEXT", "BIGINT": "BIGINT", "TIMESTAMP": "TIMESTAMP(3)", "JSON": "JSONB"}
        with psycopg.connect(request.getfixturevalue("postgres_url"), autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS usage")
            conn.execute("CREATE TABLE usage (" + ", ".join(f'"{n}" {pg[t]}' for n, t in columns) + ")")
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO usage VALUES (" + ", ".join(["%s"] * len(columns)) + ")", values)
                cur.execute(statements_from(query)[-1])
                return cur.fetchall(), [d.name for d in cur.description]
    from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampNTZType

    session = request.getfixturevalue("spark")
    kinds = {"BIGINT": LongType(), "VARCHAR": StringType(), "TIMESTAMP": TimestampNTZType(), "JSON": StringType()}
    session.createDataFrame(values, StructType([StructField(n, kinds[t]) for n, t in columns])
                            ).createOrReplaceTempView("usage")
    return run_spark(session, query)


def statements_from(text: str) -> list[str]:
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    return [s.strip() for s in body.split(";\n") if s.strip()]


def test_spark_query_equals_the_python_engine(capsys, tmp_path, spark):
    rows = canonical_rows(CORPORA)
    usage = tmp_path / "usage.jsonl"
    write_jsonl(usage, rows)
    spark_table(spark, rows)
    query = emitted(capsys, tmp_path, sorted({r[1] for r in rows}), "-g", "provider", "-g", "model",
                    dialect="spark")
    result, names = run_spark(spark, query)
    compare(result, names, python_csv(capsys, usage, "-g", "provider", "-g", "model"), 2)


def test_spark_without_the_session_setting_rounds(capsys, tmp_path, spark):
    # 0.77301125: 1 record of 12345 input tokens at 0.0000625 = 0.7715625 plus 7 output tokens at 0.00021
    # = 0.00147 -> 0.7730325; with a 0.5 % discount (0.0038651625) and 0 margin the total is 0.7691673375,
    # which needs 10 places; Spark's default precision loss keeps 6 of a DECIMAL(38, S) product.
    config = write_config(tmp_path, yaml.safe_dump({
        "model_list": [{"model_name": "m", "litellm_params": {"model": "openai/m", "input_cost_per_token": 0.0000625,
                                                              "output_cost_per_token": 0.00021}}],
        "litellm_settings": {"cost_discount_config": {"openai": 0.005}}}))
    rows = [(1, "m", None, None, 12345, 7, 0, 0, 0, 0, 0, 0, None, None, None, None, None)]
    spark_table(spark, rows)
    query = emitted(capsys, tmp_path, ["m"], dialect="spark", config=str(config))
    good, names = run_spark(spark, query)
    total = names.index("total_cost")
    assert decimal_text(next(r for r in good if r[0] == "m")[total]) == "0.7691673375"
    bad, _ = run_spark(spark, query, setting=False)
    wrong = next(r for r in bad if r[0] == "m")[total]
    assert wrong is None or decimal_text(wrong) != "0.7691673375"


# -- PostgreSQL (Debian's binaries; a throwaway cluster) --------------------------------------------------------

def test_postgres_query_equals_the_python_engine(capsys, tmp_path, postgres_url):  # noqa: F811
    psycopg = pytest.importorskip("psycopg", reason="pip install 'psycopg[binary]'")
    rows = canonical_rows(CORPORA)
    usage = tmp_path / "usage.jsonl"
    write_jsonl(usage, rows)
    query = emitted(capsys, tmp_path, sorted({r[1] for r in rows}), "-g", "model", dialect="postgres")
    pg_types = {"BIGINT": "BIGINT", "VARCHAR": "TEXT", "TIMESTAMP": "TIMESTAMP"}
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS usage")
        conn.execute("CREATE TABLE usage (" + ", ".join(f'"{n}" {pg_types[t]}' for n, t in COLUMNS) + ")")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO usage VALUES (" + ", ".join(["%s"] * len(COLUMNS)) + ")", rows)
            cur.execute(statements_from(query)[-1])
            result = cur.fetchall()
            names = [d.name for d in cur.description]
    compare(result, names, python_csv(capsys, usage, "-g", "model"), 1)


def test_statements_put_session_settings_first():
    assert statements("SELECT 1", "spark")[0].startswith("SET spark.sql.decimalOperations.allowPrecisionLoss")
    assert transpile("SELECT CAST('0.1' AS DECIMAL(38, 18))", "bigquery") == "SELECT CAST('0.1' AS BIGNUMERIC)"
    assert os.environ.get("COSTCALC_NEVER_SET_THIS") is None


# -- --schema spendlogs ---------------------------------------------------------------------------------------

SPEND_COLUMNS = (("request_id", "VARCHAR"), ("call_type", "VARCHAR"), ("api_key", "VARCHAR"),
                 ("prompt_tokens", "BIGINT"), ("completion_tokens", "BIGINT"), ("startTime", "TIMESTAMP"),
                 ("model", "VARCHAR"), ("model_id", "VARCHAR"), ("model_group", "VARCHAR"),
                 ("custom_llm_provider", "VARCHAR"), ("user", "VARCHAR"), ("metadata", "JSON"),
                 ("cache_hit", "VARCHAR"), ("team_id", "VARCHAR"), ("end_user", "VARCHAR"), ("status", "VARCHAR"))
SPEND_LOGS = ROOT / "tests" / "data" / "litellm_spend_logs.jsonl"


def spend_rows() -> list[tuple]:
    """tests/data/litellm_spend_logs.jsonl as LiteLLM_SpendLogs rows (metadata an object, as the jsonb column
    holds it, even where the export wrote it as a JSON string)."""
    rows = []
    for line in SPEND_LOGS.read_text().splitlines():
        obj = json.loads(line)
        meta = obj.get("metadata")
        obj["metadata"] = json.dumps(json.loads(meta) if isinstance(meta, str) else meta)
        if obj.get("startTime"):
            obj["startTime"] = datetime.fromisoformat(obj["startTime"].replace("Z", "+00:00")).replace(tzinfo=None)
        rows.append(tuple(None if obj.get(n) is None else (str(obj[n]) if t == "VARCHAR" else obj[n])
                          for n, t in SPEND_COLUMNS))
    return rows


@pytest.mark.parametrize("group", [["model"], ["team"], ["key"], ["day"]])
def test_spendlogs_query_equals_the_python_engine(capsys, tmp_path, group):
    rows = spend_rows()
    con = duckdb.connect()
    con.execute("CREATE TABLE usage (" + ", ".join(f'"{n}" {t}' for n, t in SPEND_COLUMNS) + ")")
    con.executemany("INSERT INTO usage VALUES (" + ", ".join("?" * len(SPEND_COLUMNS)) + ")", rows)
    args = [a for g in group for a in ("-g", g)]
    models = ["gpt-4o", "claude-sonnet", "openai/gpt-4o-mini", "text-embedding-3-small"]
    query = emitted(capsys, tmp_path, models, "--schema", "spendlogs", *args)
    result, names = run_duckdb(con, query)
    compare(result, names, python_csv(capsys, SPEND_LOGS, *args), len(group))


def test_spendlogs_query_runs_on_postgres_jsonb(capsys, tmp_path, postgres_url):  # noqa: F811
    psycopg = pytest.importorskip("psycopg", reason="pip install 'psycopg[binary]'")
    rows = spend_rows()
    models = ["gpt-4o", "claude-sonnet", "openai/gpt-4o-mini", "text-embedding-3-small"]
    query = emitted(capsys, tmp_path, models, "--schema", "spendlogs", "-g", "team", dialect="postgres")
    pg = {"VARCHAR": "TEXT", "BIGINT": "BIGINT", "TIMESTAMP": "TIMESTAMP(3)", "JSON": "JSONB"}
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute('DROP TABLE IF EXISTS usage')
        conn.execute("CREATE TABLE usage (" + ", ".join(f'"{n}" {pg[t]}' for n, t in SPEND_COLUMNS) + ")")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO usage VALUES (" + ", ".join(["%s"] * len(SPEND_COLUMNS)) + ")", rows)
            cur.execute(statements_from(query)[-1])
            result = cur.fetchall()
            names = [d.name for d in cur.description]
    compare(result, names, python_csv(capsys, SPEND_LOGS, "-g", "team"), 1)


# -- the generated differential corpora (discounts, margins, custom prices, provider formulas) -----------------

@pytest.mark.parametrize("name", ["custom", "adjusted", "rules"])
def test_generated_differential_corpora_equal_the_python_engine(capsys, tmp_path, name):
    import random

    from .test_differential import (
        ADJUSTED_CONFIG,
        ADJUSTED_MODELS,
        CUSTOM_MODELS,
        CUSTOM_PRICING_CONFIG,
        PROVIDER_RULES_CONFIG,
        PROVIDER_RULES_MODELS,
        generate,
    )

    rng = random.Random(20261129)
    config_text, records = {
        "custom": (CUSTOM_PRICING_CONFIG, [r for m in CUSTOM_MODELS for r in generate(rng, m, 30)]),
        "adjusted": (ADJUSTED_CONFIG, [r for m in ADJUSTED_MODELS for r in generate(rng, m, 40)]),
        "rules": (PROVIDER_RULES_CONFIG, [r for m in PROVIDER_RULES_MODELS for r in generate(rng, m, 20)]),
    }[name]
    source = tmp_path / "generated.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records))
    rows = canonical_rows([source])
    assert len(rows) > len(records) // 3
    config = str(write_config(tmp_path, config_text))
    args = ["-g", "model", "-g", "deployment"]
    # cards whose price depends on more than the prompt size are left to costcalc price, by name
    first, names = run_duckdb(duckdb_table(rows), emitted(capsys, tmp_path, sorted({r[1] for r in rows}),
                                                          config=config))
    python_only = {r[0] for r in first if r[names.index("reason")] == PYTHON_ONLY}
    assert python_only == ({"ds", "vtx-128k", "offpeak-custom"} if name == "rules" else set())
    rows = [r for r in rows if r[1] not in python_only]
    usage = tmp_path / "usage.jsonl"
    write_jsonl(usage, rows)
    result, names = run_duckdb(duckdb_table(rows), emitted(capsys, tmp_path, sorted({r[1] for r in rows}), *args,
                                                           config=config))
    compare(result, names, python_csv(capsys, usage, *args, config=config), 2)
    # every record is accounted for: the SQL's unpriced requests are the Python engine's unpriced records
    code = main(["price", str(usage), "--config", config, "--format", "json", "--engine", "python"])
    doc = json.loads(capsys.readouterr().out)
    assert code in (0, 1)
    status = names.index("status")
    unpriced = sum(r[names.index("requests")] for r in result if r[status] == "unpriced")
    assert unpriced == doc["accounting"]["unpriced"]
    assert sum(r[names.index("requests")] for r in result if r[status] != "total") == len(rows)


def test_a_card_needing_more_scale_than_the_type_keeps_comes_out_unpriced(capsys, tmp_path):
    # a rate with 18 places, a discount with 9 and a margin with 9: its exact money needs 36 places, more than
    # MAX_SCALE (30); the other card (1 place rates, no adjustment) is priced: 10 x 0.5 + 10 x 0.5 = 10
    config = write_config(tmp_path, yaml.safe_dump({
        "model_list": [
            {"model_name": "fine", "litellm_params": {"model": "openai/fine", "input_cost_per_token": 0.5,
                                                      "output_cost_per_token": 0.5}},
            {"model_name": "deep", "litellm_params": {"model": "anthropic/deep",
                                                      "input_cost_per_token": 0.000000000000000003,
                                                      "output_cost_per_token": 0.5}}],
        "litellm_settings": {"cost_discount_config": {"anthropic": 0.123456789},
                             "cost_margin_config": {"anthropic": 0.987654321}}}))
    rows = [(1, "fine", None, None, 10, 10, 0, 0, 0, 0, 0, 0, None, None, None, None, None),
            (2, "deep", None, None, 10, 10, 0, 0, 0, 0, 0, 0, None, None, None, None, None)]
    out, names = run_duckdb(duckdb_table(rows), emitted(capsys, tmp_path, ["fine", "deep"], config=str(config)))
    fine = next(r for r in out if r[0] == "fine")
    assert decimal_text(fine[names.index("total_cost")]) == "10"
    deep = next(r for r in out if r[0] == "deep")
    assert deep[names.index("status")] == "unpriced" and deep[names.index("total_cost")] is None
    assert "decimal places" in deep[names.index("reason")]


def test_a_group_key_sql_cannot_compute_is_a_one_line_error(capsys, tmp_path):
    code = main(["sql", "--config", SAMPLE_CONFIG, "--table", "usage", "-g", "tag"])
    _, err = capsys.readouterr()
    assert code == 2 and "--group-by tag" in err


def test_bigquery_time_keys_format_datetimes_and_weeks_start_on_monday(capsys, tmp_path):
    text = emitted(capsys, tmp_path, ["gpt-4o"], "-g", "week", "-g", "hour", dialect="bigquery")
    query = statements_from(text)[-1]
    assert "DATETIME_TRUNC(CAST(`timestamp` AS DATETIME), WEEK(MONDAY))" in query
    assert "FORMAT_DATE(" not in query and "FORMAT_DATETIME(" in query
    sqlglot.parse_one(query, read="bigquery")


def test_spark_spendlogs_query_equals_the_python_engine(capsys, tmp_path, spark):
    from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampNTZType

    kinds = {"BIGINT": LongType(), "VARCHAR": StringType(), "TIMESTAMP": TimestampNTZType(), "JSON": StringType()}
    schema = StructType([StructField(n, kinds[t]) for n, t in SPEND_COLUMNS])
    spark.createDataFrame(spend_rows(), schema).createOrReplaceTempView("usage")
    models = ["gpt-4o", "claude-sonnet", "openai/gpt-4o-mini", "text-embedding-3-small"]
    query = emitted(capsys, tmp_path, models, "--schema", "spendlogs", "-g", "team", dialect="spark")
    result, names = run_spark(spark, query)
    compare(result, names, python_csv(capsys, SPEND_LOGS, "-g", "team"), 1)


@pytest.mark.parametrize("window", [["--since", "2025-09-15T09:30:00Z"], ["--until", "2025-09-16"],
                                    ["--since", "2025-09-15", "--until", "2026-11-03T09:00:00Z"]])
def test_time_windows_equal_the_python_engine(capsys, tmp_path, window):
    rows = canonical_rows(CORPORA)
    usage = tmp_path / "usage.jsonl"
    write_jsonl(usage, rows)
    query = emitted(capsys, tmp_path, sorted({r[1] for r in rows}), "-g", "model", *window)
    result, names = run_duckdb(duckdb_table(rows), query)
    expected = python_csv(capsys, usage, "-g", "model", *window)
    total = next(r for r in expected if r[0] == "TOTAL")
    assert 0 < int(total[1]) < len(rows)  # the window keeps some records and drops others
    compare(result, names, expected, 1)


def test_spendlogs_call_types_as_the_python_reader_reads_them(capsys, tmp_path):
    # gpt-4o at 0.0000025 in / 0.00001 out, no cache (sample config margin 5 % on openai):
    # 1000 x 0.0000025 + 100 x 0.00001 = 0.0035, margin 0.000175 -> 0.003675 for the aanthropic_messages row;
    # the batch row is unpriced (costcalc price prices it at batch rates), so is the image row (priced per image)
    base = dict(zip([n for n, _ in SPEND_COLUMNS], spend_rows()[0]))
    base.update(prompt_tokens=1000, completion_tokens=100, metadata="{}")
    rows = []
    for i, call in enumerate(("aanthropic_messages", "aretrieve_batch", "aimage_generation")):
        row = {**base, "request_id": f"r{i}", "call_type": call}
        rows.append(tuple(row[n] for n, _ in SPEND_COLUMNS))
    # a chat call with web searches: tokens and a search charge, which only costcalc price books
    searched = {**base, "request_id": "r3", "call_type": "acompletion", "metadata": json.dumps(
        {"usage_object": {"prompt_tokens": 1000, "completion_tokens": 100,
                          "server_tool_use": {"web_search_requests": 2}}})}
    rows.append(tuple(searched[n] for n, _ in SPEND_COLUMNS))
    # a call the proxy books at $0 (skipped, as the Python engine skips it) and a pass-through call without usage
    # (logged with model "unknown": priced by its endpoint's cost_per_request, which only costcalc price books)
    rows.append(tuple({**base, "request_id": "r4", "call_type": "acreate_file"}[n] for n, _ in SPEND_COLUMNS))
    passed = {**base, "request_id": "r5", "call_type": "pass_through_endpoint", "model": "unknown",
              "model_group": None, "custom_llm_provider": None, "prompt_tokens": 0, "completion_tokens": 0}
    rows.append(tuple(passed[n] for n, _ in SPEND_COLUMNS))
    con = duckdb.connect()
    con.execute("CREATE TABLE usage (" + ", ".join(f'"{n}" {t}' for n, t in SPEND_COLUMNS) + ")")
    con.executemany("INSERT INTO usage VALUES (" + ", ".join("?" * len(SPEND_COLUMNS)) + ")", rows)
    out, names = run_duckdb(con, emitted(capsys, tmp_path, ["gpt-4o"], "--schema", "spendlogs", "--per-record"))
    by_id = {r[0]: r for r in out}
    assert set(by_id) == {"r0", "r1", "r2", "r3", "r5"}
    assert by_id["r5"][names.index("status")] == "unpriced" and "pass-through" in by_id["r5"][names.index("reason")]
    assert by_id["r3"][names.index("status")] == "unpriced" and "tool charge" in by_id["r3"][names.index("reason")]
    assert decimal_text(by_id["r0"][names.index("total_cost")]) == "0.003675"
    assert by_id["r1"][names.index("status")] == "unpriced" and by_id["r1"][names.index("total_cost")] is None
    assert "batch" in by_id["r1"][names.index("reason")]
    # the image row is counted unpriced, not dropped: the proxy prices it per image
    assert by_id["r2"][names.index("status")] == "unpriced" and "other units than tokens" in by_id["r2"][
        names.index("reason")]


def _zero_call_rows() -> list[dict]:
    """Vector-store searches and MCP tool calls as the proxy's spend-log writer stores them (metadata as JSON text,
    the MCP server's cost info in metadata.mcp_tool_call_metadata), each one the row's own data classes."""
    base = {"api_key": "k", "prompt_tokens": 0, "completion_tokens": 0, "startTime": datetime(2026, 11, 2, 9),
            "model_id": None, "model_group": None, "user": None, "cache_hit": None, "team_id": None,
            "end_user": None, "status": "success"}

    def mcp(i: str, info: dict | None, name: str = "lookup") -> dict:
        meta = {} if info is None else {"mcp_tool_call_metadata": {"name": name, "mcp_server_cost_info": info}}
        return {**base, "request_id": i, "call_type": "call_mcp_tool", "model": name,
                "custom_llm_provider": None, "metadata": json.dumps(meta)}

    def search(i: str, call_type: str, model: str, provider: str) -> dict:
        return {**base, "request_id": i, "call_type": call_type, "model": model, "custom_llm_provider": provider,
                "metadata": "{}"}

    return [search("v1", "avector_store_search", "gpt-4o", "openai"),  # $0: skipped
            search("v2", "vector_store_search", "rag_api", "vertex_ai"),  # Vertex RAG: $0, skipped
            search("v3", "avector_store_search", "search_api", "vertex_ai"),  # $0.0015 a query: priced by Python
            mcp("m1", {}),  # no price set: skipped
            mcp("m2", {"default_cost_per_query": 0, "tool_name_to_cost_per_query": {}}),  # $0: skipped
            mcp("m3", {"default_cost_per_query": 0.02}),  # priced by Python
            mcp("m4", None),  # the cost info is not in the log: unpriced everywhere
            # per-tool prices, looked up by the tool's name: this tool's $0.05 (priced by Python); only another
            # tool priced and no default (skipped); this tool at $0 over a $0.02 default (skipped: the tool's own
            # price rules); a name that would break a JSON path
            mcp("m5", {"tool_name_to_cost_per_query": {"lookup": 0.05, "other": 0}}),
            mcp("m6", {"default_cost_per_query": 0, "tool_name_to_cost_per_query": {"other": 0.05}}),
            mcp("m7", {"default_cost_per_query": 0.02, "tool_name_to_cost_per_query": {"lookup": 0}}),
            mcp("m8", {"tool_name_to_cost_per_query": {"it's a \"tool\".x": 0.5}}, name="it's a \"tool\".x")]


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "spark"])
def test_vector_store_searches_and_mcp_calls_booked_at_zero_are_skipped_as_the_python_engine_does(
        capsys, tmp_path, dialect, request):
    rows = _zero_call_rows()
    usage = tmp_path / "calls.jsonl"
    usage.write_text("".join(json.dumps({**r, "startTime": r["startTime"].isoformat()}) + "\n" for r in rows))
    code = main(["price", str(usage), "--config", SAMPLE_CONFIG, "--format", "jsonl", "--engine", "python"])
    out, err = capsys.readouterr()
    assert code == 0, err
    python = {rows[r["line"] - 1]["request_id"]: r for r in map(json.loads, out.splitlines())}
    assert {i: r["status"] for i, r in python.items()} == {
        "v1": "skipped", "v2": "skipped", "v3": "priced", "m1": "skipped", "m2": "skipped", "m3": "priced",
        "m4": "unpriced", "m5": "priced", "m6": "skipped", "m7": "skipped", "m8": "priced"}
    query = emitted(capsys, tmp_path, ["gpt-4o"], "--schema", "spendlogs", "--per-record", dialect=dialect)
    values = [tuple(r[n] for n, _ in SPEND_COLUMNS) for r in rows]
    result, names = run_on_usage(dialect, query, SPEND_COLUMNS, values, request)
    statuses = {r[0]: r[names.index("status")] for r in result}
    # record by record: what Python skips the query drops; what it cannot price is unpriced in both; a call priced
    # by other units than tokens is priced only by costcalc price, and the query says so
    assert set(statuses) == {i for i, r in python.items() if r["status"] != "skipped"}
    assert statuses == {"v3": "unpriced", "m3": "unpriced", "m4": "unpriced", "m5": "unpriced", "m8": "unpriced"}
    reasons = {r[0]: r[names.index("reason")] for r in result}
    assert "other units than tokens" in reasons["v3"] and "other units than tokens" in reasons["m3"]


# -- hostile names: identifiers and literals quoted by construction, in every dialect --------------------------

# every name is a model name (a string literal in the query's rate table) and, where the engine can hold it, the
# table's name (an identifier)
HOSTILE = ['us"age', "it's", "back\\slash", "trail\\", "new\nline", "x';--", "drop\nDROP TABLE victims;--",
           "uniçödé 中文", "dollar$$x$$", "tab\there", "q'\\'; SELECT 1; --", "`tick`", "[br]"]
HOSTILE_TABLE = 'usage"\n;DROP TABLE victims;--\\ $$ é'
# 1000 prompt tokens at $1e-6 + 100 completion tokens at $2e-6 = $0.0012 per record, one record per name
HOSTILE_COST = Decimal("0.0012")


def hostile_config(tmp_path: Path) -> str:
    return write_config(tmp_path, yaml.safe_dump({"model_list": [
        {"model_name": name, "litellm_params": {"model": "openai/gpt-4o", "input_cost_per_token": 1e-6,
                                                "output_cost_per_token": 2e-6}} for name in HOSTILE]}))


def hostile_rows() -> list[tuple]:
    return [(i + 1, name, None, None, 1000, 100, 0, 0, 0, 0, 0, 0, datetime(2026, 10, 1 + i), None, None, None, None)
            for i, name in enumerate(HOSTILE)]


def hostile_script(capsys, tmp_path: Path, dialect: str, table: str) -> str:
    # a one-model cost map: the query covers the config's names (one a line would not hold "new\nline")
    tiny = tmp_path / "map.json"
    tiny.write_text(json.dumps({"gpt-4o": {"litellm_provider": "openai", "mode": "chat",
                                           "input_cost_per_token": 2.5e-6, "output_cost_per_token": 1e-5}}))
    code = main(["sql", "--config", hostile_config(tmp_path), "--cost-map", str(tiny), "--dialect", dialect,
                 "--table", table, "-g", "model"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def query_of(script: str, dialect: str) -> tuple[list[str], str]:
    """(the session statements, the query) of a printed script: comment lines first (one line each, whatever the
    names), then the session settings, then the query and its final ';'."""
    lines = script.split("\n")
    header = [ln for ln in lines if ln.startswith("-- ")]
    body = "\n".join(lines[len(header):])
    session = statements("SELECT 1", dialect)[:-1]
    for s in session:
        assert body.startswith(s + ";\n")
        body = body[len(s) + 2:]
    assert body.endswith(";\n")
    return session, body[:-2]


def check_hostile_result(rows: list[tuple], names: list[str]) -> None:
    got = {r[0]: Decimal(str(r[names.index("total_cost")])) for r in rows
           if r[names.index("status")] == "priced"}
    assert got == {name: HOSTILE_COST for name in HOSTILE}
    total = next(r for r in rows if r[names.index("status")] == "total")
    assert Decimal(str(total[names.index("total_cost")])) == HOSTILE_COST * len(HOSTILE)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_hostile_table_names_stay_one_quoted_name_in_every_dialect(capsys, tmp_path, dialect):
    for table in (HOSTILE_TABLE, "usage\nDROP TABLE victims;--", 'db.sch"ema.t`a\\ble'):
        script = hostile_script(capsys, tmp_path, dialect, table)
        assert all(ln.startswith("-- ") for ln in script.split("\n")[:5]), script[:400]
        _, query = query_of(script, dialect)
        parsed = [s for s in sqlglot.parse(query, read=dialect) if s is not None]
        assert len(parsed) == 1  # no statement smuggled in
        tables = {t.sql(dialect="duckdb") for t in parsed[0].find_all(exp.Table)}
        ctes = {c.alias for c in parsed[0].find_all(exp.CTE)}
        named = [t for t in parsed[0].find_all(exp.Table) if t.name not in ctes]
        assert [[p.name for p in t.parts] for t in named] == [table.split(".")], tables
        literals = {lit.this for lit in parsed[0].find_all(exp.Literal) if lit.is_string}
        if dialect == "postgres":  # a backslash in a string is CHR(92), whatever standard_conforming_strings
            assert not any("\\" in lit for lit in literals) and "CHR(92)" in query
            assert {n for n in HOSTILE if "\\" not in n} <= literals
        else:
            assert set(HOSTILE) <= literals


def test_empty_or_nul_table_name_parts_are_refused(capsys):
    for table in ("", "a..b", "a.", " .t", "a.b.c.d", "t\x00x"):
        code = main(["sql", "--table", table])
        _, err = capsys.readouterr()
        assert code == 2 and "--table" in err, (table, err)


def test_hostile_names_on_duckdb(capsys, tmp_path):
    con = duckdb.connect()
    con.execute("CREATE TABLE victims (x INT)")
    ident = exp.to_identifier(HOSTILE_TABLE, quoted=True).sql(dialect="duckdb")
    con.execute(f"CREATE TABLE {ident} (" + ", ".join(f'"{n}" {t}' for n, t in COLUMNS) + ")")
    con.executemany(f"INSERT INTO {ident} VALUES (" + ", ".join("?" * len(COLUMNS)) + ")", hostile_rows())
    script = hostile_script(capsys, tmp_path, "duckdb", HOSTILE_TABLE)
    rows, names = run_duckdb(con, script)  # the whole script, as `duckdb my.db < query.sql` runs it
    check_hostile_result(rows, names)
    assert con.execute("SELECT count(*) FROM victims").fetchone() == (0,)


@pytest.mark.parametrize("conforming", ["on", "off"])
def test_hostile_names_on_postgres(capsys, tmp_path, postgres_url, conforming):  # noqa: F811
    psycopg = pytest.importorskip("psycopg", reason="pip install 'psycopg[binary]'")
    from psycopg import sql as pgsql

    pg_types = {"BIGINT": "BIGINT", "VARCHAR": "TEXT", "TIMESTAMP": "TIMESTAMP"}
    table = HOSTILE_TABLE.replace(" é", "")  # PostgreSQL names hold 63 bytes
    script = hostile_script(capsys, tmp_path, "postgres", table)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS victims")
        conn.execute("CREATE TABLE victims (x INT)")
        conn.execute(pgsql.SQL("DROP TABLE IF EXISTS {}").format(pgsql.Identifier(table)))
        conn.execute(pgsql.SQL("CREATE TABLE {} (").format(pgsql.Identifier(table))
                     + pgsql.SQL(", ").join(pgsql.SQL(f'"{n}" {pg_types[t]}') for n, t in COLUMNS) + pgsql.SQL(")"))
        with conn.cursor() as cur:
            cur.executemany(pgsql.SQL("INSERT INTO {} VALUES (").format(pgsql.Identifier(table))
                            + pgsql.SQL(", ".join(["%s"] * len(COLUMNS)) + ")"), hostile_rows())
        conn.execute(f"SET standard_conforming_strings = {conforming}")
        # the whole script in one simple-protocol call, as psql -f sends it
        result = conn.pgconn.exec_(script.encode())
        assert result.status == psycopg.pq.ExecStatus.TUPLES_OK, result.error_message
        names = [result.fname(i).decode() for i in range(result.nfields)]
        rows = [tuple(None if result.get_value(r, c) is None else result.get_value(r, c).decode()
                      for c in range(result.nfields)) for r in range(result.ntuples)]
        check_hostile_result(rows, names)
        assert conn.execute("SELECT count(*) FROM victims").fetchone() == (0,)


def test_hostile_names_on_spark(capsys, tmp_path, spark):
    from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampNTZType

    kinds = {"BIGINT": LongType(), "VARCHAR": StringType(), "TIMESTAMP": TimestampNTZType()}
    schema = StructType([StructField(n, kinds[t]) for n, t in COLUMNS])
    spark.createDataFrame(hostile_rows(), schema).createOrReplaceTempView("hostile_base")
    table = "usage`s \"quoted\"; DROP"  # a name Spark can hold as a temporary view
    spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {exp.to_identifier(table, quoted=True).sql(dialect='spark')} "
              "AS SELECT * FROM hostile_base")
    script = hostile_script(capsys, tmp_path, "spark", table)
    session, query = query_of(script, "spark")
    for s in session:
        spark.sql(s)
    df = spark.sql(query)
    check_hostile_result([tuple(r) for r in df.collect()], df.columns)


@pytest.mark.parametrize("per_record", [False, True])
def test_rate_rows_spliced_per_dialect_read_as_sqlglot_writes_the_whole_query(tmp_path: Path, per_record: bool):
    """Only the skeleton goes through sqlglot; the rate rows are written per dialect and spliced in. On a small
    query (hostile names, a tier, a deployment id) the result is, byte for byte, sqlglot's transpile of the whole
    inline query, in every dialect (BigQuery writes rows as named STRUCTs, PostgreSQL a backslash as CHR(92))."""
    tiny = tmp_path / "map.json"
    tiny.write_text(json.dumps({"gpt-4o": {"litellm_provider": "openai", "mode": "chat",
                                           "input_cost_per_token": 2.5e-6, "output_cost_per_token": 1e-5,
                                           "input_cost_per_token_priority": 5e-6}}))
    engine = PricingEngine(load_cost_map(str(tiny)), load_config(hostile_config(tmp_path)))
    q = compile_query(engine, covered_keys(engine, None),
                      SqlOptions(HOSTILE_TABLE, group_by=["model", "day"], per_record=per_record))
    assert len(q.rows["rate_keys"]) >= len(HOSTILE) and len(q.skeleton) < len(q.sql)
    for dialect in DIALECTS:
        assert transpile(q.skeleton, dialect, q.rows) == transpile(q.sql, dialect), dialect


# -- --rates-table: the rate cards as data, the query reading them -------------------------------------------

RATES_TABLE = 'cost "rates"'


def rates_table_query(capsys, tmp_path: Path, rows: list[tuple], dialect: str, out: str) -> tuple[str, str, Path]:
    """(the inline query, the rates-table query, the rates file) for the corpus models."""
    models = sorted({r[1] for r in rows})
    inline = emitted(capsys, tmp_path, models, "-g", "model", dialect=dialect)
    path = tmp_path / out
    query = emitted(capsys, tmp_path, models, "-g", "model", "--rates-table", RATES_TABLE, "--rates-out", str(path),
                    dialect=dialect)
    assert "VALUES" not in query.upper() and "UNNEST" not in query.upper()
    return inline, query, path


@pytest.mark.parametrize("out", ["rates.csv", "rates.parquet"])
def test_duckdb_rates_table_equals_the_inline_query_and_the_python_engine(capsys, tmp_path, out):
    rows = canonical_rows(CORPORA)
    usage = tmp_path / "usage.jsonl"
    write_jsonl(usage, rows)
    inline, query, path = rates_table_query(capsys, tmp_path, rows, "duckdb", out)
    con = duckdb_table(rows)
    con.execute(Path(str(path.with_suffix(".duckdb.sql"))).read_text())
    reader = "read_csv" if out.endswith(".csv") else "read_parquet"
    con.execute(f"INSERT INTO {exp.to_identifier(RATES_TABLE, quoted=True).sql('duckdb')} SELECT * FROM "
                f"{reader}(?)", [str(path)])
    got, names = run_duckdb(con, statements_from(query)[-1])
    want, _ = run_duckdb(con, statements_from(inline)[-1])
    assert got == want and len(got) > 3
    compare(got, names, python_csv(capsys, usage, "-g", "model"), 1)


def test_whole_map_rates_table_query_is_small(capsys, tmp_path):
    code = main(["sql", "--config", SAMPLE_CONFIG, "--table", "usage", "--dialect", "spark", "--rates-table", "r",
                 "--rates-out", str(tmp_path / "r.csv")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert len(out.encode()) < 50_000
    # one line a key, card and band, plus the header: thousands of rows for the whole map
    with open(tmp_path / "r.csv", newline="") as f:
        assert sum(1 for _ in csv.reader(f)) > 5_000


def test_postgres_rates_table_equals_the_inline_query(capsys, tmp_path, postgres_url):  # noqa: F811
    psycopg = pytest.importorskip("psycopg", reason="pip install 'psycopg[binary]'")
    rows = canonical_rows(CORPORA)
    usage = tmp_path / "usage.jsonl"
    write_jsonl(usage, rows)
    inline, query, path = rates_table_query(capsys, tmp_path, rows, "postgres", "rates.csv")
    pg_types = {"BIGINT": "BIGINT", "VARCHAR": "TEXT", "TIMESTAMP": "TIMESTAMP"}
    name = exp.to_identifier(RATES_TABLE, quoted=True).sql("postgres")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS usage")
        conn.execute(f"DROP TABLE IF EXISTS {name}")
        conn.execute("CREATE TABLE usage (" + ", ".join(f'"{n}" {pg_types[t]}' for n, t in COLUMNS) + ")")
        conn.execute(path.with_suffix(".postgres.sql").read_text())
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO usage VALUES (" + ", ".join(["%s"] * len(COLUMNS)) + ")", rows)
            with cur.copy(f"COPY {name} FROM STDIN (FORMAT csv, HEADER true)") as copy:
                copy.write(path.read_bytes())
            cur.execute(statements_from(query)[-1])
            got = cur.fetchall()
            names = [d.name for d in cur.description]
            cur.execute(statements_from(inline)[-1])
            want = cur.fetchall()
    assert got == want and len(got) > 3
    compare(got, names, python_csv(capsys, usage, "-g", "model"), 1)


def test_spark_rates_table_equals_the_inline_query(capsys, tmp_path, spark):
    rows = canonical_rows(CORPORA)
    usage = tmp_path / "usage.jsonl"
    write_jsonl(usage, rows)
    spark_table(spark, rows)
    inline, query, path = rates_table_query(capsys, tmp_path, rows, "spark", "rates.parquet")
    assert path.with_suffix(".spark.sql").read_text().startswith("CREATE TABLE `cost \"rates\"`")
    spark.read.parquet(str(path)).createOrReplaceTempView(f"`{RATES_TABLE}`")
    got, names = run_spark(spark, query)
    want, _ = run_spark(spark, inline)
    assert got == want and len(got) > 3
    compare(got, names, python_csv(capsys, usage, "-g", "model"), 1)


def test_a_query_covering_no_model_prices_nothing(capsys, tmp_path):
    # an empty --models file: every record is outside the rate table, unpriced with that reason
    query = emitted(capsys, tmp_path, [])
    con = duckdb_table([(1, "gpt-4o", None, None, 10, 1, 0, 0, 0, 0, 0, 0, None, None, None, None, None)])
    got, names = run_duckdb(con, statements_from(query)[-1])
    assert [(r[names.index("status")], r[names.index("reason")]) for r in got if r[0] != "TOTAL"] == [
        ("unpriced", "not in this query's rate table (regenerate the query with this model in --models)")]
