"""LiteLLM's daily spend tables read straight from the proxy's database (``postgresql://…?table=LiteLLM_Daily…``),
in a throwaway PostgreSQL cluster with LiteLLM's own schema (the litellm-proxy-extras migrations): the same report
as the rows exported to JSON lines, each row priced per row.

Rates (the embedded map): gpt-4o-mini in 1.5e-7, cache read 7.5e-8, out 6e-7; gemini/gemini-2.5-pro in 1.25e-6,
out 1e-5 (prompts up to 200k tokens).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .pg_server import start_server
from .runner import costcalc

ROWS = [
    # team-search: 1000 requests of 2000 prompt tokens (1000 cached), 100 output
    ("d1", "team-search", "2025-12-01", "openai", "gpt-4o-mini", "gpt-4o-mini", 2_000_000, 100_000, 1_000_000, 0,
     0.285, 1000, 1000, 0),
    # team-research: 10 requests of 150k prompt tokens: the base band, though the row sums 1.5M
    ("d2", "team-research", "2025-12-02", "gemini", "gemini-2.5-pro", None, 1_500_000, 30_000, 0, 0, 2.175, 10, 10,
     0),
    # only failed requests: nothing to price
    ("d3", "team-search", "2025-12-02", "openai", "gpt-4o-mini", "gpt-4o-mini", 0, 0, 0, 0, 0.0, 3, 0, 3),
]


@pytest.fixture(scope="module")
def server():
    yield from start_server()


@pytest.fixture(scope="module")
def db(server):
    with server.connect() as conn:
        conn.execute('TRUNCATE "LiteLLM_DailyTeamSpend"')
        for row in ROWS:
            conn.execute(
                'INSERT INTO "LiteLLM_DailyTeamSpend" (id, team_id, date, api_key, custom_llm_provider, model, '
                "model_group, prompt_tokens, completion_tokens, cache_read_input_tokens, cache_creation_input_tokens, "
                "spend, api_requests, successful_requests, failed_requests, updated_at) "
                "VALUES (%s, %s, %s, 'hashed-key-1', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())", row)
    return server


def test_a_daily_table_from_the_database(db, capsys, tmp_path):
    url = db.url() + "?table=LiteLLM_DailyTeamSpend"
    run = costcalc(capsys, "price", url, "-g", "team", "--format", "json")
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert doc["accounting"] == {**doc["accounting"], "read": 3, "priced": 2, "skipped": 1}
    groups = {g["key"]["team"]: (g["requests"], g["cost"]["total"]) for g in doc["groups"]}
    # 1M uncached x 1.5e-7 + 1M cached x 7.5e-8 + 100k x 6e-7; 1.5M x 1.25e-6 + 30k x 1e-5
    assert groups == {"team-search": (1000, 0.285), "team-research": (10, 2.175)}
    # the rows as JSON lines give the same report (the database's password never shown)
    with db.connect() as conn:
        lines = [r[0] for r in conn.execute('SELECT row_to_json(t)::text FROM "LiteLLM_DailyTeamSpend" t '
                                            "ORDER BY t.date, t.id")]
    exported = tmp_path / "team.jsonl"
    exported.write_text("".join(line + "\n" for line in lines))
    from_file = json.loads(costcalc(capsys, "price", exported, "-g", "team", "--format", "json").out)
    assert (from_file["accounting"], from_file["groups"], from_file["totals"]) == (
        doc["accounting"], doc["groups"], doc["totals"])
    assert db.password not in run.out + run.err


def test_the_postgres_engine_leaves_a_daily_table_to_python(db, capsys):
    run = costcalc(capsys, "price", db.url() + "?table=LiteLLM_DailyTeamSpend", "--engine", "postgres", "--format",
                   "json")
    assert run.code == 0
    assert "it prices LiteLLM_SpendLogs; a daily spend table is read by the Python engine" in run.err
    assert json.loads(run.out)["accounting"]["priced"] == 2


def test_only_daily_tables_are_read(db, capsys):
    run = costcalc(capsys, "price", db.url() + "?table=pg_authid")
    assert run.code == 2
    assert "?table=pg_authid is not a table costcalc reads (one of LiteLLM_DailyUserSpend" in run.err
    assert db.password not in run.err


def test_a_missing_daily_table_is_one_line(db, capsys, tmp_path: Path):
    with db.connect() as conn:
        conn.execute("CREATE DATABASE empty")
    url = db.url("empty") + "?table=LiteLLM_DailyTagSpend"
    run = costcalc(capsys, "price", url)
    assert run.code == 2
    assert run.err.strip().endswith("table LiteLLM_DailyTagSpend does not exist (not a LiteLLM proxy database, or "
                                    "one whose migrations predate the table)")
