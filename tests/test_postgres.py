"""`costcalc price postgresql://…` against a real PostgreSQL server (a throwaway cluster from Debian's binaries,
LiteLLM's schema from the litellm-proxy-extras migrations): the in-database engine, the streamed Python engine
and the JSONL export of the same rows (the README's psql \\copy command) give one report, byte for byte apart
from the source name; names people know; safety and one-line errors."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT
from .pg_server import pg_bin, start_server
from .runner import main
from .spendlog_data import generate, load

SAMPLE_CONFIG = str(ROOT / "sample_data" / "config.yaml")


@pytest.fixture(scope="module")
def server():
    yield from start_server()


@pytest.fixture(scope="module")
def db(server):
    with server.connect() as conn:
        conn.execute('TRUNCATE "LiteLLM_SpendLogs"')
        load(conn, generate(2500))
    return server


def both(capsys, *args: str) -> tuple[int, str, str]:
    """Run with each database engine: the same exit code, stdout and stderr, byte for byte."""
    results = []
    for engine in ("python", "postgres"):
        code = main([*args, "--engine", engine])
        out, err = capsys.readouterr()
        results.append((code, out, err))
    assert results[0] == results[1]
    return results[1]


@pytest.mark.parametrize("group", [["model"], ["team"], ["key"], ["user"], ["end_user"], ["org"], ["tag"],
                                   ["deployment", "team"], ["provider", "key"], ["day", "model"], ["week"],
                                   ["month"], ["hour"], ["metadata.project"], ["team", "tag", "month"]])
def test_both_engines_give_the_same_report_for_every_group_key(db, capsys, group):
    args = ["price", db.url(), "--config", SAMPLE_CONFIG, "--format", "json"]
    for g in group:
        args += ["-g", g]
    code, out, _ = both(capsys, *args)
    doc = json.loads(out)
    acc = doc["accounting"]
    assert code == 0 and acc["read"] == 2500 and acc["priced"] > 1500
    assert acc["skipped"] > 100 and acc["rejected"] > 20 and acc["unpriced"] > 100


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown", "html"])
def test_every_aggregate_format_gives_the_same_bytes(db, capsys, fmt):
    code, out, _ = both(capsys, "price", db.url(), "--config", SAMPLE_CONFIG, "--format", fmt, "-g", "team",
                        "-g", "model")
    assert code == 0 and out


@pytest.mark.parametrize("extra", [["--since", "2026-03-10T09:30:00Z"], ["--until", "2026-03-20"],
                                   ["--since", "2026-03-05", "--until", "2026-03-06T10:00:00Z"],
                                   ["--top", "3", "--sort", "tokens"], ["--tz", "Asia/Kolkata", "-g", "day"],
                                   ["--reconcile"], ["--reconcile", "--format", "table"]])
def test_windows_and_options_give_the_same_report(db, capsys, extra):
    code, out, _ = both(capsys, "price", db.url(), "--config", SAMPLE_CONFIG, "--format", "json", *extra)
    assert code == 0
    if "--since" in extra or "--until" in extra:
        assert json.loads(out)["accounting"]["filtered"] > 0


def test_names_people_know(db, capsys):
    code, out, _ = both(capsys, "price", db.url(), "--config", SAMPLE_CONFIG, "--format", "json", "-g", "team",
                        "-g", "key", "-g", "org")
    assert code == 0
    keys = {tuple(g["key"].values()) for g in json.loads(out)["groups"]}
    teams, api_keys, orgs = ({k[i] for k in keys} for i in range(3))
    # aliases from LiteLLM_TeamTable / LiteLLM_VerificationToken / LiteLLM_OrganizationTable; a team without an
    # alias shows its id, a key without one the start of its hashed token
    assert {"agents", "research", "team-uuid-3", "(none)"} == teams
    assert {"ci-bot", "notebook", "cccccccc..."} == api_keys
    assert {"acme", "org-2", "(none)"} == orgs


def test_per_record_formats_stream_the_rows(db, capsys):
    assert main(["price", db.url(), "--config", SAMPLE_CONFIG, "--format", "jsonl"]) == 0
    out, _ = capsys.readouterr()
    lines = [json.loads(x) for x in out.splitlines()]
    assert len(lines) > 2000
    assert main(["price", db.url(), "--config", SAMPLE_CONFIG, "--format", "jsonl", "--engine", "postgres"]) == 0
    out2, err = capsys.readouterr()
    assert out2 == out and "priced with the Python engine" in err


def _export(server, tmp_path: Path) -> Path:
    """The README's command, run by psql itself."""
    from costcalc.reading.postgres import copy_command

    psql = pg_bin() / "psql"
    target = tmp_path / "spend_logs.jsonl"
    command = copy_command().replace("'spend_logs.jsonl'", f"'{target}'")
    proc = subprocess.run([str(psql), server.url(), "-v", "ON_ERROR_STOP=1", "-c", command],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return target


@pytest.mark.parametrize("extra", [["-g", "team", "-g", "key"], ["-g", "day", "--since", "2026-03-08"],
                                   ["-g", "org", "-g", "tag"], ["--reconcile"]])
def test_the_jsonl_export_gives_the_same_report(db, capsys, tmp_path, extra):
    exported = _export(db, tmp_path)
    _, from_db, _ = both(capsys, "price", db.url(), "--config", SAMPLE_CONFIG, "--format", "json", *extra)
    assert main(["price", str(exported), "--config", SAMPLE_CONFIG, "--format", "json", "--engine", "python",
                 *extra]) == 0
    from_file, _ = capsys.readouterr()
    shown = db.url().replace(db.password, "***")
    assert from_file.replace(json.dumps(str(exported)), json.dumps(shown)) == from_db


def test_password_is_never_printed(db, capsys, tmp_path):
    rejects = tmp_path / "rejects.txt"
    for fmt in ("table", "json", "csv", "markdown", "html", "jsonl"):
        main(["price", db.url(), "--config", SAMPLE_CONFIG, "--format", fmt, "--rejects", str(rejects)])
        out, err = capsys.readouterr()
        assert db.password not in out + err + rejects.read_text()
        if fmt == "json":
            assert "postgresql://costcalc:***@127.0.0.1" in out
    code = main(["price", db.url(password="wrong-pw"), "--config", SAMPLE_CONFIG])
    _, err = capsys.readouterr()
    assert code == 2 and "wrong-pw" not in err
    assert err == (f"costcalc: error: postgresql://costcalc:***@127.0.0.1:{db.port}/litellm: authentication failed for "
                   "user costcalc\n")


def test_database_url_from_the_environment(db, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db.url())
    assert main(["price", "db:", "--config", SAMPLE_CONFIG, "--format", "json"]) == 0
    via_env, _ = capsys.readouterr()
    assert main(["price", db.url().replace("postgresql://", "postgres://"), "--config", SAMPLE_CONFIG,
                 "--format", "json"]) == 0
    via_url, _ = capsys.readouterr()
    assert via_env == via_url.replace("postgres://", "postgresql://")
    monkeypatch.delenv("DATABASE_URL")
    assert main(["price", "db:"]) == 2
    assert capsys.readouterr().err == ("costcalc: error: db:: $DATABASE_URL is not set (give the database URL "
                                       "there, or as the argument)\n")


def test_one_line_errors(server, capsys, tmp_path):
    def error(url: str, *extra: str) -> str:
        code = main(["price", url, *extra])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
        return err.strip()

    shown = f"postgresql://costcalc:***@127.0.0.1:{server.port}"
    assert error(server.url(db="nope")) == f"costcalc: error: {shown}/nope: database nope does not exist"
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    assert error(f"postgresql://x:pw@127.0.0.1:{closed}/db") == \
        f"costcalc: error: postgresql://x:***@127.0.0.1:{closed}/db: server unreachable (Connection refused)"
    with server.connect(db="postgres") as conn:
        conn.execute("DROP DATABASE IF EXISTS empty")
        conn.execute("CREATE DATABASE empty")
        conn.execute("DROP DATABASE IF EXISTS old")
        conn.execute("CREATE DATABASE old")
    assert error(server.url(db="empty")) == (f"costcalc: error: {shown}/empty: table LiteLLM_SpendLogs does not exist "
                                             "(not a LiteLLM proxy database, or the proxy has not run its "
                                             "migrations)")
    with server.connect(db="old") as conn:  # a proxy from before May 2025: no status column yet
        conn.execute('CREATE TABLE "LiteLLM_SpendLogs" (request_id text, call_type text, api_key text, '
                     'spend float8, prompt_tokens int, completion_tokens int, "startTime" timestamp(3), '
                     '"endTime" timestamp(3), model text, model_id text, model_group text, custom_llm_provider '
                     'text, api_base text, "user" text, metadata jsonb, cache_hit text, request_tags jsonb, '
                     'team_id text, end_user text)')
    assert error(server.url(db="old")) == (
        f"costcalc: error: {shown}/old: LiteLLM_SpendLogs lacks column(s) status; the schema looks older than May 2025 "
        "(LiteLLM 1.69) (migration 20250508072103_add_status_to_spendlogs adds them); costcalc reads the schema "
        "of LiteLLM 1.110.2")


def test_statement_timeout_cancels_with_a_clear_error(db, capsys):
    with db.connect() as conn:  # enough rows that the pricing query outlasts 1 ms
        n = conn.execute('SELECT count(*) FROM "LiteLLM_SpendLogs"').fetchone()[0]
    assert n >= 2500
    code = main(["price", db.url(), "--config", SAMPLE_CONFIG, "--statement-timeout", "0.001"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (f"costcalc: error: postgresql://costcalc:***@127.0.0.1:{db.port}/litellm: query cancelled by the "
                   "statement timeout after 0.001 s (raise --statement-timeout, or narrow the run with "
                   "--since/--until)\n")


def test_sessions_are_read_only_and_write_nothing(db, capsys):
    from costcalc.reading.postgres import connect, parse_source

    source = parse_source(db.url())
    conn = connect(source)
    try:
        import psycopg

        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TEMP TABLE x (a int)")
    finally:
        conn.close()
    with db.connect() as conn:
        before = conn.execute("SELECT n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables "
                              "WHERE relname = 'LiteLLM_SpendLogs'").fetchone()
    both(capsys, "price", db.url(), "--config", SAMPLE_CONFIG, "-g", "team")
    with db.connect() as conn:
        after = conn.execute("SELECT n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables "
                             "WHERE relname = 'LiteLLM_SpendLogs'").fetchone()
        tables = conn.execute("SELECT count(*) FROM pg_class WHERE relpersistence = 't'").fetchone()[0]
    assert before == after and tables == 0


def test_the_masked_url_hides_query_passwords_too():
    from costcalc.reading.postgres import parse_source

    s = parse_source("postgresql://u:p%40ss@h:5432/db?sslmode=require&password=other")
    assert s.shown == "postgresql://u:***@h:5432/db?sslmode=require&password=***"
    assert s.scrub("failed for p@ss, p%40ss and other") == "failed for ***, *** and ***"


def test_without_psycopg_the_message_names_the_extra(monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__

    def no_psycopg(name, *args, **kwargs):
        if name == "psycopg" or name.startswith("psycopg."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    assert main(["price", "postgresql://u:pw@127.0.0.1:1/db"]) == 2
    assert capsys.readouterr().err == ("costcalc: error: reading a PostgreSQL database needs psycopg 3: pip install "
                                       "'costcalc[postgres]'\n")


def test_ci_requires_the_server():
    text = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"apt-get install [^\n]*postgresql", text) and "export COSTCALC_REQUIRE_SERVICES=1" in text
    if os.environ.get("COSTCALC_REQUIRE_SERVICES") == "1":
        assert pg_bin() is not None


def test_readme_shows_the_export_command_costcalc_reads():
    from costcalc.reading.postgres import copy_command

    assert copy_command() in (ROOT / "README.md").read_text()


ROUTED_CONFIG = """
model_list:
  - model_name: gpt4o               # priced per second of the request: needs each row's start and end times
    litellm_params: {model: sagemaker/my-endpoint, input_cost_per_second: 0.00042, output_cost_per_second: 0.02}
  - model_name: gpt5                # off-peak windows by time of day: more than the prompt size decides
    litellm_params: {model: openai/gpt-4o}
    model_info: {input_cost_per_token: 2.0e-6, output_cost_per_token: 8.0e-6,
                 off_peak_pricing: {input_cost_per_token: 1.0e-6, hours_utc: "22:00-06:00"}}
  - model_name: gemini-pro
    litellm_params: {model: gemini/gemini-2.5-pro}
"""


@pytest.mark.parametrize("extra", [[], ["--since", "2026-03-10", "--until", "2026-03-20"], ["-g", "team"]])
def test_cards_sql_does_not_price_are_priced_by_python_in_the_same_run(db, capsys, tmp_path, extra):
    config = tmp_path / "config.yaml"
    config.write_text(ROUTED_CONFIG)
    _, out, _ = both(capsys, "price", db.url(), "--config", str(config), "--format", "json", "-g", "model", *extra)
    doc = json.loads(out)
    models = {g["key"]["model"]: g for g in doc["groups"]}
    # gpt4o rows are priced by their duration, gpt5 rows by their hour; only batch rows (no batch price for a
    # per-second deployment) and image calls (priced per image) stay unpriced
    assert models["gpt4o"]["requests"] > 20 and models["gpt5"]["requests"] > 20
    assert all("batch" in u["reason"] or "call type 'aimage_generation'" in u["reason"]
               for u in doc["unpriced_models"] if u["model"] in ("gpt4o", "gpt5"))


@pytest.mark.parametrize("extra", [["--format", "csv", "--per-record"], ["--format", "jsonl"],
                                   ["--format", "focus"], ["--format", "csv", "-g", "team"],
                                   ["--format", "markdown", "--budget", "team=agents:100"],
                                   ["--explain", "--line", "7"],
                                   ["--currency", "EUR", "--fx-rate", "0.92", "--format", "json"]])
def test_the_jsonl_export_gives_the_same_output_in_every_format(db, capsys, tmp_path, extra):
    exported = _export(db, tmp_path)
    assert main(["price", db.url(), "--config", SAMPLE_CONFIG, *extra]) == 0
    from_db, _ = capsys.readouterr()
    assert main(["price", str(exported), "--config", SAMPLE_CONFIG, *extra]) == 0
    from_file, _ = capsys.readouterr()
    assert from_db and from_file.replace(str(exported), db.url().replace(db.password, "***")) == from_db


def test_a_prisma_database_url_works(db, capsys, monkeypatch):
    """The proxy's DATABASE_URL is Prisma's: ?schema= picks the schema, and Prisma's own parameters (which libpq
    rejects) are left out."""
    assert main(["price", db.url(), "--config", SAMPLE_CONFIG, "--format", "json", "-q"]) == 0
    plain, _ = capsys.readouterr()
    monkeypatch.setenv("DATABASE_URL", db.url() + "?schema=public&connection_limit=5&pgbouncer=true")
    assert main(["price", "db:", "--config", SAMPLE_CONFIG, "--format", "json", "-q"]) == 0
    prisma, _ = capsys.readouterr()
    assert prisma.replace("?schema=public&connection_limit=5&pgbouncer=true", "") == plain
    monkeypatch.setenv("DATABASE_URL", db.url() + "?schema=elsewhere")
    assert main(["price", "db:", "--config", SAMPLE_CONFIG]) == 2
    assert "table LiteLLM_SpendLogs does not exist" in capsys.readouterr().err


HAND_CONFIG = """
model_list:
  - model_name: hand
    litellm_params: {model: openai/hand-model}
    model_info: {input_cost_per_token: 1.0e-6, output_cost_per_token: 2.0e-6, cache_read_input_token_cost: 1.0e-7,
                 cache_creation_input_token_cost: 1.25e-6}
"""


def test_hand_priced_rows(db, capsys, tmp_path):
    """Three rows priced by hand, in a database of their own (a copy of the schema)."""
    from datetime import datetime

    from psycopg.types.json import Jsonb

    with db.connect(db="postgres") as conn:
        conn.execute("DROP DATABASE IF EXISTS hand")
        conn.execute("CREATE DATABASE hand TEMPLATE litellm")
    usage = {"prompt_tokens": 1000, "completion_tokens": 500,
             "prompt_tokens_details": {"cached_tokens": 200, "cache_creation_tokens": 100},
             "completion_tokens_details": {"reasoning_tokens": 100}}
    with db.connect(db="hand") as conn:
        conn.execute('TRUNCATE "LiteLLM_SpendLogs"')
        for i, (metadata, cache_hit) in enumerate([({"usage_object": usage}, "False"),
                                                   ({"usage_object": None, "additional_usage_values": usage},
                                                    "False"),
                                                   ({"usage_object": usage}, "True")]):
            start = datetime(2026, 3, 1, 12, i)
            conn.execute('INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, prompt_tokens, '
                         'completion_tokens, "startTime", "endTime", model, model_group, metadata, cache_hit, '
                         "team_id) VALUES (%s, 'acompletion', %s, 0.002, 1000, 500, %s, %s, 'hand-model', 'hand', "
                         "%s, %s, 'team-uuid-1')", (f"h{i}", "a" * 64, start, start, Jsonb(metadata), cache_hit))
    config = tmp_path / "config.yaml"
    config.write_text(HAND_CONFIG)
    _, out, _ = both(capsys, "price", db.url(db="hand"), "--config", str(config), "--format", "json", "-g", "team",
                     "-g", "key")
    doc = json.loads(out)
    # per row: uncached input (1000 - 200 - 100) x 1e-6 = 0.0007; cache read 200 x 1e-7 = 0.00002; cache write
    # 100 x 1.25e-6 = 0.000125; output (500 - 100) x 2e-6 = 0.0008; reasoning 100 x 2e-6 = 0.0002
    # -> 0.001845 a row; two rows priced (the third is a proxy cache hit) = 0.00369; recorded 2 x 0.002 = 0.004
    assert doc["accounting"] == {"read": 3, "priced": 2, "unpriced": 0, "rejected": 0, "skipped": 1, "filtered": 0,
                                 "excluded": 0, "duplicates": 0, "approximate": 0}
    (group,) = doc["groups"]
    assert group["key"] == {"team": "agents", "key": "ci-bot"}
    assert group["cost"]["total"] == 0.00369
    assert group["recorded"]["recorded_cost"] == 0.004 and group["recorded"]["records"] == 2


def test_without_the_server_binaries_tests_skip_or_fail_under_ci(monkeypatch):
    from tests import pg_server

    monkeypatch.setattr(pg_server, "pg_bin", lambda: None)
    monkeypatch.delenv("COSTCALC_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y postgresql"):
        next(pg_server.start_server())
    monkeypatch.setenv("COSTCALC_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y postgresql"):
        next(pg_server.start_server())


def test_database_options_go_with_a_database(capsys, tmp_path):
    usage = ROOT / "sample_data" / "usage.jsonl"
    assert main(["price", str(usage), "--engine", "postgres"]) == 2
    assert "postgres prices a database" in capsys.readouterr().err
    assert main(["price", str(usage), "--statement-timeout", "5"]) == 2
    assert "goes with a database" in capsys.readouterr().err
    assert main(["price", "postgresql://u@h/db", str(usage)]) == 2
    assert "a database is priced on its own" in capsys.readouterr().err
    assert main(["price", "postgresql://u@h/db", "--engine", "duckdb"]) == 2
    assert "duckdb reads files" in capsys.readouterr().err


def test_both_engines_write_the_same_rejects(db, capsys, tmp_path):
    files = []
    for engine in ("python", "postgres"):
        path = tmp_path / f"{engine}.rejects"
        assert main(["price", db.url(), "--config", SAMPLE_CONFIG, "--engine", engine, "--rejects", str(path)]) == 0
        capsys.readouterr()
        files.append(path.read_bytes())
    assert files[0] == files[1] and files[0].count(b"\n# ") + files[0].startswith(b"# ") > 20


def test_a_schema_without_the_later_grouping_columns_still_prices(db, capsys):
    """organization_id, session_id and agent_id came with later LiteLLM migrations: read as null when absent."""
    with db.connect(db="postgres") as conn:
        conn.execute("DROP DATABASE IF EXISTS older")
        conn.execute("CREATE DATABASE older TEMPLATE litellm")
    with db.connect(db="older") as conn:
        conn.execute('ALTER TABLE "LiteLLM_SpendLogs" DROP COLUMN organization_id, DROP COLUMN session_id, '
                     "DROP COLUMN agent_id")
    _, older, _ = both(capsys, "price", db.url(db="older"), "--config", SAMPLE_CONFIG, "--format", "json", "-g",
                       "team")
    _, newer, _ = both(capsys, "price", db.url(), "--config", SAMPLE_CONFIG, "--format", "json", "-g", "team")
    assert json.loads(older)["totals"] == json.loads(newer)["totals"]
    # no row of the older schema has an organization: grouping by it is a mistake said as one, not a (none) column
    code, out, err = both(capsys, "price", db.url(db="older"), "--config", SAMPLE_CONFIG, "--format", "json",
                          "-g", "org")
    assert code == 2 and out == "" and "--group-by org: no record has it" in err


def test_rows_sharing_a_request_id_keep_the_first_in_export_order(db, capsys, tmp_path):
    """LiteLLM makes request_id the primary key; a copy of the table without it (a restore, a merged export) can
    hold a request twice. Both engines keep the first row of each id in export order (startTime, then request_id),
    as the JSONL export read from a file does; the copies differ in tokens and team, so the kept one shows."""
    from .spendlog_data import COLUMNS

    with db.connect(db="postgres") as conn:
        conn.execute("DROP DATABASE IF EXISTS copied")
        conn.execute("CREATE DATABASE copied TEMPLATE litellm")
    with db.connect(db="copied") as conn:
        conn.execute('ALTER TABLE "LiteLLM_SpendLogs" DROP CONSTRAINT "LiteLLM_SpendLogs_pkey"')
        names = ", ".join(f'"{c}"' for c in COLUMNS if c not in ("startTime", "endTime", "team_id"))
        # 300 rows again, an hour later, with another team: each is a duplicate
        conn.execute(f'INSERT INTO "LiteLLM_SpendLogs" ({names}, "startTime", "endTime", team_id) '
                     f'SELECT {names}, "startTime" + interval \'1 hour\', "endTime" + interval \'1 hour\', '
                     "CASE team_id WHEN 'team-uuid-1' THEN 'team-uuid-2' ELSE 'team-uuid-1' END "
                     'FROM "LiteLLM_SpendLogs" ORDER BY request_id LIMIT 300')
        # and 40 of them once more, an hour before the original, in a third team: that copy is the one kept
        conn.execute(f'INSERT INTO "LiteLLM_SpendLogs" ({names}, "startTime", "endTime", team_id) '
                     f'SELECT {names}, "startTime" - interval \'1 hour\', "endTime" - interval \'1 hour\', '
                     "'team-uuid-3' FROM \"LiteLLM_SpendLogs\" WHERE \"startTime\" IN "
                     '(SELECT min("startTime") FROM "LiteLLM_SpendLogs" GROUP BY request_id ORDER BY request_id '
                     "LIMIT 40)")
    url = db.url(db="copied")
    for extra in (["-g", "team", "-g", "model"], ["-g", "day", "--since", "2026-03-08"]):
        code, out, _ = both(capsys, "price", url, "--config", SAMPLE_CONFIG, "--format", "json", *extra)
        doc = json.loads(out)
        assert code == 0
        if "--since" not in extra:
            # 2,840 rows, 340 of them a request met before (skipped and rejected rows are not counted as either)
            assert doc["accounting"]["read"] == 2840 and 250 <= doc["accounting"]["duplicates"] <= 340
        # the file the database exports gives the same report: the same rows kept
        exported = tmp_path / "copied.jsonl"
        from costcalc.reading.postgres import copy_command

        command = copy_command().replace("'spend_logs.jsonl'", f"'{exported}'")
        proc = subprocess.run([str(pg_bin() / "psql"), url, "-v", "ON_ERROR_STOP=1", "-c", command],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert main(["price", str(exported), "--config", SAMPLE_CONFIG, "--format", "json", "--engine", "python",
                     *extra]) == 0
        from_file, _ = capsys.readouterr()
        shown = url.replace(db.password, "***")
        assert from_file.replace(json.dumps(str(exported)), json.dumps(shown)) == out


HOSTILE_MODELS = ["it's", "back\\slash", "trail\\", "q'\\'; SELECT pg_sleep(0); --", 'dq"x', "dollar$$x$$", "ü中"]


@pytest.mark.parametrize("where", ["url", "database"])
def test_hostile_model_names_and_group_paths_with_standard_conforming_strings_off(db, capsys, tmp_path, where):
    """Model names from the rows come back into the SQL that picks the rows Python prices (per-second prices
    route them there); a quote in a dotted group path is a JSON path key. Both read the same with the server's
    standard_conforming_strings off (set on the database, or in the URL's options) as with it on."""
    from datetime import datetime, timedelta

    from psycopg.types.json import Jsonb

    with db.connect(db="postgres") as conn:
        conn.execute("DROP DATABASE IF EXISTS hostile")
        conn.execute("CREATE DATABASE hostile TEMPLATE litellm")
        if where == "database":
            conn.execute("ALTER DATABASE hostile SET standard_conforming_strings = off")
    with db.connect(db="hostile") as conn:
        conn.execute('TRUNCATE "LiteLLM_SpendLogs"')
        for i, name in enumerate(HOSTILE_MODELS * 2):
            start = datetime(2026, 3, 1, 12, i)
            conn.execute('INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, prompt_tokens, '
                         'completion_tokens, "startTime", "endTime", model, model_group, metadata, cache_hit) '
                         "VALUES (%s, 'acompletion', 'k', 0, 1000, 500, %s, %s, 'm', %s, %s, 'False')",
                         (f"h{i}", start, start + timedelta(seconds=2), name,
                          Jsonb({"a\"b": f"v{i % 3}", "usage_object": {"prompt_tokens": 1000,
                                                                       "completion_tokens": 500}})))
    config = tmp_path / "config.yaml"
    config.write_text(yaml_dump({"model_list": [
        {"model_name": name, "litellm_params": {"model": "openai/gpt-4o", "input_cost_per_second": 0.001}}
        for name in HOSTILE_MODELS]}))
    url = db.url(db="hostile")
    if where == "url":
        url += "?options=-c%20standard_conforming_strings%3Doff"
    for group in (["model"], ['metadata.a"b']):
        code, out, err = both(capsys, "price", url, "--config", str(config), "--format", "json",
                              *(x for g in group for x in ("-g", g)))
        assert code == 0, err
        doc = json.loads(out)
        assert doc["accounting"]["priced"] == 2 * len(HOSTILE_MODELS), doc["accounting"]
        keys = sorted(g["key"][group[0]] for g in doc["groups"])
        assert keys == (sorted(HOSTILE_MODELS) if group == ["model"] else ["v0", "v1", "v2"])


def yaml_dump(doc: dict) -> str:
    import yaml

    return yaml.safe_dump(doc)


class FreezingProxy:
    """A TCP proxy to the server that stops passing the server's answers on once the client has sent ``after``
    (the server looks frozen: the connection stays open, nothing comes back)."""

    def __init__(self, port: int, after: bytes):
        import socket
        import threading

        self.target, self.after, self.frozen = port, after, threading.Event()
        self.sockets: list[Any] = []
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(5)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            self.sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, src, dst, upstream: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if upstream and self.after in data:
                    self.frozen.set()
                if not upstream and self.frozen.is_set():
                    continue  # swallowed: the client waits for an answer that never comes
                dst.sendall(data)
        except OSError:
            pass
        finally:  # one side gone: end both (the server's session ends, as the database's templates need)
            self._end(src, dst)

    def _end(self, *sockets: Any) -> None:
        import socket

        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the other pump's recv, unlike close()
            with contextlib.suppress(OSError):
                sock.close()

    def close(self) -> None:
        self.listener.close()
        self._end(*self.sockets)


@pytest.mark.parametrize("engine", ["python", "postgres"])
def test_a_frozen_server_is_given_up_on_after_the_db_timeout(db, capsys, engine):
    import time

    proxy = FreezingProxy(db.port, b"LiteLLM_SpendLogs")
    try:
        url = db.url().replace(f":{db.port}/", f":{proxy.port}/")
        t0 = time.monotonic()
        code = main(["price", url, "--engine", engine, "--db-timeout", "2", "--format", "json"])
        elapsed = time.monotonic() - t0
    finally:
        proxy.close()
    _, err = capsys.readouterr()
    assert proxy.frozen.is_set()
    assert code == 2 and err.count("\n") == 1
    assert "no answer from the server within 2 s (--db-timeout" in err and db.password not in err
    assert elapsed < 30


def test_a_row_nested_too_deep_is_rejected_by_both_engines(db, capsys):
    from datetime import datetime

    from psycopg.types.json import Jsonb

    with db.connect(db="postgres") as conn:
        conn.execute("DROP DATABASE IF EXISTS deep")
        # sessions other tests ended may take a moment to leave the template
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'litellm' "
                     "AND pid <> pg_backend_pid()")
        conn.execute("CREATE DATABASE deep TEMPLATE litellm")
    deep: Any = "x"
    for _ in range(70):
        deep = [deep]
    usage = {"prompt_tokens": 1000, "completion_tokens": 10}
    with db.connect(db="deep") as conn:
        conn.execute('TRUNCATE "LiteLLM_SpendLogs"')
        for i, extra in enumerate([deep, "shallow"]):
            start = datetime(2026, 3, 1, 12, i)
            conn.execute('INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, prompt_tokens, '
                         'completion_tokens, "startTime", "endTime", model, model_group, metadata, cache_hit) '
                         "VALUES (%s, 'acompletion', 'k', 0, 1000, 10, %s, %s, 'gpt-4o', 'gpt-4o', %s, 'False')",
                         (f"d{i}", start, start, Jsonb({"usage_object": usage, "extra": extra})))
    code, out, err = both(capsys, "price", db.url(db="deep"), "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["accounting"]["priced"] == 1 and doc["accounting"]["rejected"] == 1
    assert doc["rejected"][0]["reason"].startswith("nested deeper than 64 levels")


def test_a_renamed_team_is_one_group_from_the_database_and_from_its_export(db, capsys, tmp_path):
    """Team t-1 was called agents-old in October and agents since (its LiteLLM_TeamTable alias); team t-2 has no
    alias and is named with --alias. Both engines and the JSONL export give one group per team id."""
    from datetime import datetime

    from psycopg.types.json import Jsonb

    with db.connect(db="postgres") as conn:
        conn.execute("DROP DATABASE IF EXISTS renamed")
        conn.execute("CREATE DATABASE renamed TEMPLATE litellm")
    rows = [("t-1", "agents-old", datetime(2026, 10, 5, 12)), ("t-1", "agents-old", datetime(2026, 10, 20, 12)),
            ("t-1", "agents", datetime(2026, 11, 2, 12)), ("t-1", "agents", datetime(2026, 11, 9, 12)),
            ("t-2", None, datetime(2026, 11, 3, 12))]
    with db.connect(db="renamed") as conn:
        conn.execute('TRUNCATE "LiteLLM_SpendLogs"')
        conn.execute('DELETE FROM "LiteLLM_TeamTable"')
        conn.execute('INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, updated_at) VALUES (\'t-1\', '
                     "'agents', now())")
        for i, (team_id, alias, start) in enumerate(rows):
            metadata = {"user_api_key_team_id": team_id, **({"user_api_key_team_alias": alias} if alias else {})}
            conn.execute('INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, prompt_tokens, '
                         'completion_tokens, "startTime", "endTime", model, model_group, metadata, cache_hit, '
                         "team_id) VALUES (%s, 'acompletion', '', 0, 1000, 500, %s, %s, 'hand-model', 'hand', %s, "
                         "'False', %s)", (f"t{i}", start, start, Jsonb(metadata), team_id))
    config = tmp_path / "config.yaml"
    config.write_text(HAND_CONFIG)
    args = ["--config", str(config), "--format", "json", "-g", "team", "--alias", "team:t-2=billing"]
    _, from_db, _ = both(capsys, "price", db.url(db="renamed"), *args)
    doc = json.loads(from_db)
    # each row: 1000 x 1e-6 + 500 x 2e-6 = 0.002; t-1 has four rows, t-2 one
    assert {g["key"]["team"]: (g["requests"], g["cost"]["total"]) for g in doc["groups"]} == \
        {"agents": (4, 0.008), "billing": (1, 0.002)}
    assert doc["renamed"] == ["team t-1 renamed: agents-old → agents (shown as agents)"]
    exported = _export_db(db, "renamed", tmp_path)
    assert main(["price", str(exported), *args, "--engine", "python"]) == 0
    from_file, _ = capsys.readouterr()
    shown = db.url(db="renamed").replace(db.password, "***")
    assert from_file.replace(json.dumps(str(exported)), json.dumps(shown)) == from_db


def _export_db(server, name: str, tmp_path: Path) -> Path:
    from costcalc.reading.postgres import copy_command

    target = tmp_path / f"{name}.jsonl"
    command = copy_command().replace("'spend_logs.jsonl'", f"'{target}'")
    proc = subprocess.run([str(pg_bin() / "psql"), server.url(db=name), "-v", "ON_ERROR_STOP=1", "-c", command],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return target
