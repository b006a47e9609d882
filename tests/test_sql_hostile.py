"""``costcalc sql`` over hostile values: every place the emitted query reads a number, a price or a tier from a
spend-log row holds, in turn, text, a fraction, an exponent, a boolean, a 30-digit number, an object, a negative
number, ... The Python engine (the reference) prices, leaves unpriced, skips or rejects each row; the query, run
on DuckDB, PostgreSQL and Spark, does the same to each row, never failing as a whole. And no dialect's query casts
row data with a plain CAST that a hostile value could make fail."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from costcalc.engines.dialects import DIALECTS
from costcalc.engines.sqlcompile import NOT_BY_TOKEN, ONE_HOUR, TOOL_CHARGE

from .pg_cluster import postgres_url  # noqa: F401 - a fixture
from .runner import main
from .test_sql import SAMPLE_CONFIG, emitted, run_on_usage, spark, statements_from  # noqa: F401 - spark: a fixture

# the values a JSON number may be replaced with, as JSON text
HOSTILE_VALUES = ('"12x"', "1.5", "1e3", "true", '"NaN"', "123456789012345678901234567890", '{"a": 1}', "-5",
                  '"12"', "null", "1200.0", "[1]", '""', "0")
COLUMNS = (("request_id", "VARCHAR"), ("call_type", "VARCHAR"), ("prompt_tokens", "JSON"),
           ("completion_tokens", "JSON"), ("startTime", "VARCHAR"), ("model", "VARCHAR"), ("model_group", "VARCHAR"),
           ("custom_llm_provider", "VARCHAR"), ("model_id", "VARCHAR"), ("user", "VARCHAR"), ("team_id", "VARCHAR"),
           ("end_user", "VARCHAR"), ("api_key", "VARCHAR"), ("cache_hit", "VARCHAR"), ("status", "VARCHAR"),
           ("metadata", "JSON"))
TOKEN_COLUMNS = ("prompt_tokens", "completion_tokens")


def _usage(**parts: str) -> str:
    """A usage object's JSON text: gpt-4o's 1000 prompt tokens (200 read from the cache) and 100 completion
    tokens (10 reasoning), each part replaceable by raw JSON text (None drops it)."""
    fields = {"prompt_tokens": "1000", "completion_tokens": "100",
              "prompt_tokens_details": '{"cached_tokens": 200}',
              "completion_tokens_details": '{"reasoning_tokens": 10}'}
    fields.update(parts)
    return "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items() if v is not None) + "}"


def _in(holder: str, **parts: str) -> str:
    """``metadata`` holding a usage object under ``holder`` with ``parts`` replaced (``_usage``)."""
    return f'{{"{holder}": {_usage(**parts)}}}'


def _places(v: str) -> dict[str, tuple[str, str, str, str]]:
    """Each place a number is read from, holding ``v``: (call type, prompt tokens, completion tokens, metadata)."""
    chat, uo = "acompletion", "usage_object"

    def mcp(info: str) -> tuple[str, str, str, str]:
        return ("call_mcp_tool", "0", "0",
                f'{{"mcp_tool_call_metadata": {{"name": "lookup", "mcp_server_cost_info": {info}}}}}')

    def usage(**parts: str) -> tuple[str, str, str, str]:
        return (chat, "1000", "100", _in(uo, **parts))

    return {
        "prompt_tokens": (chat, v, "100", _in(uo, prompt_tokens=None)),
        "completion_tokens": (chat, "1000", v, _in(uo, completion_tokens=None)),
        "uo.prompt_tokens": usage(prompt_tokens=v),
        "uo.completion_tokens": usage(completion_tokens=v),
        "uo.cached_tokens": usage(prompt_tokens_details=f'{{"cached_tokens": {v}}}'),
        "uo.cache_write_tokens": usage(prompt_tokens_details=f'{{"cache_write_tokens": {v}}}'),
        "uo.cache_creation_tokens": usage(prompt_tokens_details=f'{{"cache_creation_tokens": {v}}}'),
        "uo.prompt_audio_tokens": usage(prompt_tokens_details=f'{{"audio_tokens": {v}}}'),
        "uo.image_tokens": usage(prompt_tokens_details=f'{{"image_tokens": {v}}}'),
        "uo.ephemeral_1h_input_tokens": usage(
            prompt_tokens_details=f'{{"cache_creation_token_details": {{"ephemeral_1h_input_tokens": {v}}}}}'),
        "uo.reasoning_tokens": usage(completion_tokens_details=f'{{"reasoning_tokens": {v}}}'),
        "uo.completion_audio_tokens": usage(completion_tokens_details=f'{{"audio_tokens": {v}}}'),
        "uo.cache_read_input_tokens": usage(prompt_tokens_details=None, cache_read_input_tokens=v),
        "uo.cache_creation_input_tokens": usage(cache_creation_input_tokens=v),
        "uo.prompt_tokens_details": usage(prompt_tokens_details=v),
        "uo.completion_tokens_details": usage(completion_tokens_details=v),
        "usage_object": (chat, "1000", "100", f'{{"usage_object": {v}}}'),
        "auv.cached_tokens": (chat, "1000", "100", _in("additional_usage_values",
                                                       prompt_tokens_details=f'{{"cached_tokens": {v}}}')),
        "uo.web_search_requests": usage(server_tool_use=f'{{"web_search_requests": {v}}}'),
        "cb.tool_usage_cost": (chat, "1000", "100",
                               f'{{"usage_object": {_usage()}, "cost_breakdown": {{"tool_usage_cost": {v}}}}}'),
        "cb.service_tier": (chat, "1000", "100", f'{{"usage_object": {_usage()}, "cost_breakdown": '
                                                 f'{{"total_cost": 0.01, "service_tier": {v}}}}}'),
        "uo.service_tier": usage(service_tier=v),
        "mcp.default_cost_per_query": mcp(f'{{"default_cost_per_query": {v}}}'),
        "mcp.tool_price": mcp(f'{{"default_cost_per_query": 0, "tool_name_to_cost_per_query": {{"lookup": {v}}}}}'),
    }


def hostile_corpus() -> list[dict[str, str | None]]:
    """One row per (place, value), the JSON columns as JSON text; tiers also hold real tier names."""
    rows = []
    for value in (*HOSTILE_VALUES, '"priority"', '"PRIORITY"', '"flex"'):
        for place, (call, prompt, completion, metadata) in _places(value).items():
            if value.startswith('"') and value[1:-1].isalpha() and "tier" not in place:
                continue
            model = "lookup" if call == "call_mcp_tool" else "gpt-4o"
            rows.append({"request_id": f"{place}={value}", "call_type": call, "prompt_tokens": prompt,
                         "completion_tokens": completion, "startTime": "2026-11-02T09:00:00Z", "model": model,
                         "model_group": None if call == "call_mcp_tool" else model,
                         "custom_llm_provider": None if call == "call_mcp_tool" else "openai", "model_id": None,
                         "user": None, "team_id": None, "end_user": None, "api_key": "k", "cache_hit": None,
                         "status": "success", "metadata": metadata})
    # and a model neither the config nor the cost map prices: unpriced everywhere
    rows.append({**rows[0], "request_id": "unknown model", "prompt_tokens": "1000", "model": "no-such-model",
                 "model_group": "no-such-model", "metadata": _in("usage_object")})
    return rows


def jsonl_line(row: dict[str, str | None]) -> str:
    """The row as a database export writes it: the JSON columns as JSON values, as written."""
    parts = []
    for name, kind in COLUMNS:
        v = row[name]
        parts.append(f'"{name}": ' + ("null" if v is None else v if kind == "JSON" else json.dumps(v)))
    return "{" + ", ".join(parts) + "}"


def python_results(capsys, tmp_path: Path, rows: list[dict]) -> dict[str, dict]:
    usage = tmp_path / "hostile.jsonl"
    usage.write_text("".join(jsonl_line(r) + "\n" for r in rows))
    code = main(["price", str(usage), "--config", SAMPLE_CONFIG, "--format", "jsonl", "--engine", "python"])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    return {rows[r["line"] - 1]["request_id"]: r for r in map(json.loads, out.splitlines())}


def run_query(dialect: str, query: str, rows: list[dict], request, top: str) -> tuple[list[tuple], list[str]]:
    """Run ``query`` over ``rows`` in ``dialect``, the token columns of type ``top`` (BIGINT as LiteLLM's table
    has them, or JSON: jsonb on PostgreSQL, text on Spark)."""
    columns = [(n, top if n in TOKEN_COLUMNS else t) for n, t in COLUMNS]
    values = [tuple(int(r[n]) if top == "BIGINT" and n in TOKEN_COLUMNS else r[n] for n, _ in COLUMNS) for r in rows]
    return run_on_usage(dialect, query, columns, values, request)


# what the query leaves to costcalc price: a row Python prices may come out unpriced with one of these reasons
LEFT_TO_PYTHON = (NOT_BY_TOKEN, ONE_HOUR, TOOL_CHARGE)


def disagreements(python: dict[str, dict], result: list[tuple], names: list[str]) -> list[str]:
    got = {r[0]: dict(zip(names, r)) for r in result}
    out = []
    for rid, want in python.items():
        mine = got.get(rid)
        if want["status"] == "skipped":
            if mine is not None:
                out.append(f"{rid}: Python skips it ({want['reason']}), the query has it {mine['status']}")
            continue
        if mine is None:
            out.append(f"{rid}: Python {want['status']}, the query drops it")
            continue
        status, reason = mine["status"], mine["reason"]
        if want["status"] == "rejected":
            field = want["reason"].split(": ", 1)[0]
            if status != "rejected" or (reason or "").split(": ", 1)[0] != field:
                out.append(f"{rid}: Python rejects it ({want['reason']}), the query: {status} ({reason})")
        elif want["status"] == "priced" and status == "unpriced" and reason in LEFT_TO_PYTHON:
            continue
        elif status != want["status"]:
            out.append(f"{rid}: Python {want['status']} ({want.get('reason') or want.get('cost')}), "
                       f"the query: {status} ({reason})")
        elif status == "priced" and abs(Decimal(str(want["cost"])) - Decimal(str(mine["total_cost"]))) > Decimal(
                "1e-15"):
            out.append(f"{rid}: Python prices it {want['cost']}, the query {mine['total_cost']}")
    return out


@pytest.mark.parametrize("top", ["BIGINT", "JSON"])
@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "spark"])
def test_hostile_values_read_as_the_python_engine_reads_them(capsys, tmp_path, dialect, top, request):
    rows = hostile_corpus()
    if top == "BIGINT":  # the rows a BIGINT column can hold
        rows = [r for r in rows if all(r[n].isdigit() and int(r[n]) < 2**63 for n in TOKEN_COLUMNS)]
    python = python_results(capsys, tmp_path, rows)
    statuses = {r["status"] for r in python.values()}
    assert statuses == {"priced", "unpriced", "rejected", "skipped"}  # the corpus reaches every outcome
    query = emitted(capsys, tmp_path, ["gpt-4o"], "--schema", "spendlogs", "--per-record", dialect=dialect)
    result, names = run_query(dialect, query, rows, request, top)
    found = disagreements(python, result, names)
    assert found == [], "\n".join(found)


def _row_casts(query: exp.Expression) -> list[exp.Cast]:
    """The plain CASTs (not TRY_CAST / SAFE_CAST) that read the table's own columns (the ``src`` CTE and the CTEs
    reading the table), other than to text and other than the guarded reads (a CAST inside a CASE branch whose
    condition matches the same text against a pattern first)."""
    found = []
    for cast in query.find_all(exp.Cast):
        if isinstance(cast, exp.TryCast) or cast.to.is_type(*exp.DataType.TEXT_TYPES):
            continue
        if not any(isinstance(c, exp.Column) for c in cast.this.find_all(exp.Column)):
            continue
        guarded = False
        node: exp.Expression | None = cast
        while node is not None and not guarded:
            parent = node.parent
            if isinstance(parent, exp.If) and node is parent.args.get("true"):
                cond = parent.this
                guarded = any(isinstance(m, (exp.RegexpLike, exp.RegexpILike)) for m in cond.find_all(exp.Expression))
            node = parent
        if not guarded:
            found.append(cast)
    return found


@pytest.mark.parametrize("schema", ["spendlogs", "canonical"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_no_plain_cast_reads_row_data(capsys, tmp_path, dialect, schema):
    text = emitted(capsys, tmp_path, ["gpt-4o"], "--schema", schema, "-g", "model", "-g", "day", dialect=dialect)
    query = statements_from(text)[-1]
    tree = sqlglot.parse_one(query, read=dialect)
    src = {c.alias: c.this for c in tree.find_all(exp.CTE)}
    reads = [src[name] for name in src if name.startswith("src")]
    assert reads
    bad = [c.sql(dialect=dialect) for r in reads for c in _row_casts(r)]
    # left: casts of time columns to a timestamp type (timestamps in LiteLLM's table), and PostgreSQL's casts to
    # json of the jsonb metadata column or of JSON text the query itself wrote (json_extract_path takes json)
    bad = [b for b in bad if not b.upper().rsplit(" AS ", 1)[-1].startswith(("TIMESTAMP", "DATETIME", "JSON"))]
    assert bad == []
