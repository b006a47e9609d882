"""LiteLLM's own PostgreSQL database as a usage source: ``postgresql://…``, ``postgres://…`` or ``db:`` ($DATABASE_URL).

Everything costcalc reads from the database goes through one SELECT over ``"LiteLLM_SpendLogs"`` (``EXPORT_SQL``):
the spend-log columns pricing and grouping read, plus three names people know, joined from LiteLLM's own tables
(``team``: the team alias, else the team id; ``key``: the key alias, else a short form of the hashed token;
``org``: the organisation alias, else its id). The README's ``psql \\copy`` command exports exactly these rows as
spend-log JSONL, and ``stream_rows`` reads them as that JSONL would be read (each row's ``row_to_json`` through
the same line parser), so a file export and the database give the same report.

A URL with ``?table=LiteLLM_DailyTeamSpend`` (or another of ``DAILY_TABLES``) reads that daily spend table instead:
each row as its ``row_to_json``, through the same line parser, which recognises the rows (``litellm_daily.py``);
a daily table is priced by the Python engine (the in-database engine prices spend logs).

Safe by construction: every session is a READ ONLY, REPEATABLE READ transaction (one snapshot for every query
of a run), with an optional statement timeout; nothing is created or written, not even a temporary table. The
password is never shown: sources print as ``postgresql://user:***@host:port/db`` and every error message is
scrubbed of it. Failures become one-line ``DatabaseError``s (exit 2).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from ..errors import CostcalcError
from .jsonl import parse_line
from .records import LineResult
from .shapes import TOKEN_CALL_TYPES, adapt

SCHEMES = ("postgresql://", "postgres://")
DB_PREFIX = "db:"
INSTALL_HINT = "pip install 'costcalc[postgres]'"
SPEND_LOGS = '"LiteLLM_SpendLogs"'
# Columns of LiteLLM_SpendLogs that pricing reads; missing ones make the database unreadable. All but status are
# in LiteLLM's baseline schema (migration 20250326162113_baseline, LiteLLM 1.65, March 2025).
REQUIRED_COLUMNS = ("request_id", "call_type", "api_key", "spend", "prompt_tokens", "completion_tokens",
                    "startTime", "endTime", "model", "model_id", "model_group", "custom_llm_provider", "api_base",
                    "user", "metadata", "cache_hit", "request_tags", "team_id", "end_user", "status")
# Columns for grouping only, added by later migrations: read as null when a database predates them.
OPTIONAL_COLUMNS = ("session_id", "organization_id", "agent_id")
# Stored bodies (kept only with store_prompts_in_spend_logs), read for the calls priced by the units they hold
# (an image response's data, a speech call's input text, a transcription's duration, a rerank's search units) and
# for token rows the proxy booked a built-in tool charge for (the response shows the searches), and for no other
# row, so a database of chat calls with stored prompts is not read whole.
UNIT_COLUMNS = ("response", "proxy_server_request", "messages")
# Which LiteLLM migration added each column that is not in the baseline: the schema's age when one is missing.
ADDED_BY = {
    "status": ("20250508072103_add_status_to_spendlogs", "May 2025 (LiteLLM 1.69)"),
    "session_id": ("20250425182129_add_session_id", "April 2025 (LiteLLM 1.67)"),
    "organization_id": ("20251122125322_Add organization_id to spend logs", "November 2025"),
}
ORDER = 'ORDER BY s."startTime", s.request_id'
# LiteLLM's daily spend tables (one row per day, entity, key and model; litellm/proxy/schema.prisma), read with
# ``?table=``: often all that is left once log retention deletes LiteLLM_SpendLogs
DAILY_TABLES = ("LiteLLM_DailyUserSpend", "LiteLLM_DailyTeamSpend", "LiteLLM_DailyTagSpend",
                "LiteLLM_DailyOrganizationSpend", "LiteLLM_DailyEndUserSpend", "LiteLLM_DailyAgentSpend")
TABLE_PARAMETER = "table"
# Connection-string parameters of Prisma (the proxy's ORM) that libpq rejects
PRISMA_PARAMETERS = frozenset({"schema", "connection_limit", "pool_timeout", "pgbouncer", "socket_timeout",
                               "statement_cache_size", "sslaccept", "sslidentity", "sslpassword"})


class DatabaseError(CostcalcError):
    """The database cannot be read (unreachable, refused, missing objects, timeout): exit 2."""

    exit_code = 2


class DriverMissing(DatabaseError):
    def __init__(self) -> None:
        super().__init__(f"reading a PostgreSQL database needs psycopg 3: {INSTALL_HINT}")


@dataclass(frozen=True)
class DatabaseSource:
    """A database to read: ``url`` (with its password: never print it) and ``shown`` (masked)."""

    url: str
    shown: str
    passwords: tuple[str, ...]  # in the URL's user part and its password= parameter
    statement_timeout_s: float | None = None
    # the longest wait for any answer from the server (client side: a frozen server or a dead network), seconds
    timeout_s: float = 300.0
    schema: str | None = None  # Prisma's ?schema= (LiteLLM's DATABASE_URL may carry it): the search path
    table: str | None = None  # ?table=: a daily spend table to read instead of LiteLLM_SpendLogs

    def scrub(self, text: str) -> str:
        """``text`` with every password (raw and percent-decoded) replaced by ``***``."""
        secrets = {p for pw in self.passwords for p in (pw, unquote(pw)) if p}
        for secret in sorted(secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


def is_database(arg: str) -> bool:
    return arg.startswith(SCHEMES) or arg.startswith(DB_PREFIX)


def parse_source(arg: str, environ: dict[str, str] | None = None) -> DatabaseSource:
    """A usage argument naming a database: a URL, ``db:`` ($DATABASE_URL, as LiteLLM's proxy reads it) or
    ``db:NAME`` (the URL in environment variable NAME)."""
    env = os.environ if environ is None else environ
    url = arg
    if arg.startswith(DB_PREFIX):
        name = arg[len(DB_PREFIX):] or "DATABASE_URL"
        url = env.get(name, "")
        if not url.strip():
            raise DatabaseError(f"{arg}: ${name} is not set (give the database URL there, or as the argument)")
        if not url.startswith(SCHEMES):
            raise DatabaseError(f"{arg}: ${name} is not a postgresql:// URL")
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    # the proxy's URL is Prisma's: parameters libpq does not know are Prisma's own; the schema is honoured
    schema = next((v for k, v in query if k == "schema" and v), None)
    table = next((v for k, v in query if k == TABLE_PARAMETER), None)
    libpq_query = [(k, v) for k, v in query if k not in PRISMA_PARAMETERS and k != TABLE_PARAMETER]
    if len(libpq_query) != len(query):
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(libpq_query), parts.fragment))
    passwords = tuple(p for p in [parts.password, *(v for k, v in query if k == "password")] if p)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}:***@{host}"
    shown_query = urlencode([(k, "***" if k == "password" else v) for k, v in query], safe="*")
    shown = urlunsplit((parts.scheme, netloc, parts.path, shown_query, ""))
    if table is not None and table not in DAILY_TABLES:
        raise DatabaseError(f"{shown}: ?table={table} is not a table costcalc reads (one of "
                            f"{', '.join(DAILY_TABLES)}; without ?table=, LiteLLM_SpendLogs)")
    return DatabaseSource(url, shown, passwords, schema=schema, table=table)


def hide_password(source: DatabaseSource) -> bool:
    """Overwrite the URL's password with ``*`` in this process's arguments (what ``ps`` and /proc/PID/cmdline
    show other users), through /proc/self/mem at the argument area /proc/self/stat names (Linux). True when no
    password is left there; False when it cannot be done (another OS, a locked-down /proc): warn then."""
    secrets = [p.encode("utf-8", "surrogateescape") for p in source.passwords if p]
    if not secrets:
        return True
    try:
        with open("/proc/self/stat", "rb") as f:
            stat = f.read()
        fields = stat[stat.rindex(b")") + 2:].split()
        start, end = int(fields[45]), int(fields[46])  # arg_start and arg_end: fields 48 and 49 of proc(5)
        with open("/proc/self/mem", "r+b", buffering=0) as mem:
            mem.seek(start)
            args = mem.read(end - start)
            for secret in secrets:
                at = args.find(secret)
                while at >= 0:
                    mem.seek(start + at)
                    mem.write(b"*" * len(secret))
                    at = args.find(secret, at + len(secret))
        with open("/proc/self/cmdline", "rb") as f:
            shown = f.read()
    except (OSError, ValueError, IndexError):
        return False
    return not any(secret in shown for secret in secrets)


PASSWORD_WARNING = ("the database URL holds a password, which other users of this machine can see in the process "
                    "list while costcalc runs: give it in $PGPASSWORD or ~/.pgpass, or the whole URL with db: "
                    "($DATABASE_URL)")


def connect(source: DatabaseSource) -> Any:
    """A psycopg connection in a READ ONLY, REPEATABLE READ transaction (begun by the first query)."""
    try:
        import psycopg
    except ImportError:
        raise DriverMissing() from None
    try:
        # TCP keepalives and tcp_user_timeout find a dead peer or network; answer_within a frozen server
        conn = psycopg.connect(source.url, autocommit=False, connect_timeout=max(2, int(min(source.timeout_s, 10))),
                               application_name="costcalc", keepalives=1, keepalives_idle=30,
                               keepalives_interval=10, keepalives_count=3,
                               tcp_user_timeout=int(source.timeout_s * 1000))
    except psycopg.Error as exc:
        raise DatabaseError(f"{source.shown}: {_connect_reason(source, exc)}") from None
    conn.read_only = True
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    try:
        with answer_within(conn, source), conn.cursor() as cur:
            cur.execute("SET TRANSACTION READ ONLY")  # begins the transaction; read_only above says it too
            # one scan with wide expressions: compiling them takes longer than running them
            cur.execute("SET LOCAL jit = off")
            if source.schema:
                from psycopg import sql

                cur.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(source.schema)))
            if source.statement_timeout_s:
                cur.execute(f"SET LOCAL statement_timeout = {int(source.statement_timeout_s * 1000)}")
    except psycopg.Error as exc:
        conn.close()
        raise query_error(source, exc) from None
    return conn


@contextlib.contextmanager
def answer_within(conn: Any, source: DatabaseSource) -> Iterator[None]:
    """The client-side timeout (``--db-timeout``): when the server has not answered within ``source.timeout_s``
    seconds, the connection's socket is shut, which ends the wait with one line (a frozen server or a network
    that drops packets silently is not waited on forever)."""
    seconds = source.timeout_s
    if not seconds:
        yield
        return
    fired = threading.Event()

    def shut() -> None:
        fired.set()
        with contextlib.suppress(OSError, ValueError, AttributeError):
            fd = os.dup(conn.pgconn.socket)
            with socket.socket(fileno=fd) as sock:
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(seconds, shut)
    timer.daemon = True
    timer.start()
    try:
        yield
    except Exception:
        if fired.is_set():
            raise DatabaseError(f"{source.shown}: no answer from the server within {seconds:g} s (--db-timeout; "
                                "the server may be frozen or the network down)") from None
        raise
    finally:
        timer.cancel()


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _connect_reason(source: DatabaseSource, exc: Exception) -> str:
    text = source.scrub(str(exc))
    if "password authentication failed" in text or "authentication failed" in text:
        m = re.search(r'for user "([^"]*)"', text)
        return "authentication failed" + (f" for user {m.group(1)}" if m else "")
    m = re.search(r'database "([^"]*)" does not exist', text)
    if m:
        return f"database {m.group(1)} does not exist"
    if "no password supplied" in text:
        return "authentication failed (the server wants a password and the URL has none)"
    if "Connection refused" in text or "could not connect" in text or "timeout expired" in text \
            or "could not translate host name" in text or "No route to host" in text:
        m = re.search(r"(Connection refused|timeout expired|could not translate host name[^\n]*|No route to host)",
                      text)
        return "server unreachable" + (f" ({m.group(1).strip()})" if m else "")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else type(exc).__name__


def query_error(source: DatabaseSource, exc: Exception) -> DatabaseError:
    """A failed query as one line: a statement timeout says which option to raise."""
    import psycopg

    if isinstance(exc, psycopg.errors.QueryCanceled):
        limit = f" after {source.statement_timeout_s:g} s" if source.statement_timeout_s else ""
        return DatabaseError(f"{source.shown}: query cancelled by the statement timeout{limit} "
                             "(raise --statement-timeout, or narrow the run with --since/--until)")
    if isinstance(exc, psycopg.OperationalError):
        return DatabaseError(f"{source.shown}: connection lost ({source.scrub(_first_line(exc))})")
    return DatabaseError(f"{source.shown}: {source.scrub(_first_line(exc))}")


def check_schema(conn: Any, source: DatabaseSource) -> frozenset[str]:
    """The spend-log columns the database has; a DatabaseError when the table or a required column is missing."""
    with answer_within(conn, source), conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", (SPEND_LOGS,))
        row = cur.fetchone()
        if row is None or row[0] is None:
            raise DatabaseError(f"{source.shown}: table LiteLLM_SpendLogs does not exist (not a LiteLLM proxy "
                                "database, or the proxy has not run its migrations)")
        cur.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                    "AND NOT attisdropped", (SPEND_LOGS,))
        have = frozenset(r[0] for r in cur.fetchall())
    missing = [c for c in REQUIRED_COLUMNS if c not in have]
    if missing:
        dated = [ADDED_BY[c] for c in missing if c in ADDED_BY]
        if len(dated) == len(missing):
            age = "older than " + min(d[1] for d in dated) + f" (migration {min(d[0] for d in dated)} adds them)"
        else:
            age = "not LiteLLM's: even its baseline schema (LiteLLM 1.65, March 2025) has them"
        raise DatabaseError(f"{source.shown}: LiteLLM_SpendLogs lacks column(s) {', '.join(missing)}; the schema "
                            f"looks {age}; costcalc reads the schema of LiteLLM 1.110.2")
    return have


# a row the proxy booked a built-in tool charge for (its stored response shows which searches: reading/tools.py)
_TOOL_BOOKED = ("CASE WHEN jsonb_typeof(s.metadata->'cost_breakdown'->'tool_usage_cost') = 'number' "
                "THEN (s.metadata->'cost_breakdown'->'tool_usage_cost')::numeric > 0 ELSE false END")


def export_sql(columns: frozenset[str] | None = None) -> str:
    """The SELECT every engine reads (no ORDER BY): the spend-log columns pricing and grouping use, and the
    names people know. ``columns``: what the table has (an optional column it lacks reads as null)."""
    def col(name: str) -> str:
        if columns is not None and name not in columns:
            return f'NULL::text AS "{name}"'
        return f's."{name}"'

    picked = ", ".join(col(c) for c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS if c != "api_key")
    tokens = ", ".join(f"'{c}'" for c in sorted(TOKEN_CALL_TYPES))
    for c in UNIT_COLUMNS:
        if columns is None or c in columns:
            picked += (f""", CASE WHEN COALESCE(s.call_type, '') NOT IN ('', {tokens}) OR {_TOOL_BOOKED} """
                       f'THEN s."{c}" END AS "{c}"')
        else:
            picked += f', NULL::jsonb AS "{c}"'
    org_id = col("organization_id").split(" AS ")[0]
    return (f"SELECT {picked},\n"
            "  COALESCE(NULLIF(t.team_alias, ''), NULLIF(s.team_id, '')) AS team,\n"
            "  COALESCE(NULLIF(k.key_alias, ''), CASE WHEN left(s.api_key, 3) = 'sk-' THEN s.api_key\n"
            "    ELSE left(NULLIF(s.api_key, ''), 8) || '...' END) AS key,\n"
            f"  COALESCE(NULLIF(o.organization_alias, ''), NULLIF({org_id}, '')) AS org\n"
            f"FROM {SPEND_LOGS} s\n"
            '  LEFT JOIN "LiteLLM_TeamTable" t ON t.team_id = s.team_id\n'
            '  LEFT JOIN "LiteLLM_VerificationToken" k ON k.token = s.api_key\n'
            f'  LEFT JOIN "LiteLLM_OrganizationTable" o ON o.organization_id = {org_id}')


def copy_command(columns: frozenset[str] | None = None) -> str:
    """The psql meta-command that writes the same rows as spend-log JSONL (the README shows it)."""
    inner = " ".join(export_sql(columns).split())
    return (f"\\copy (SELECT row_to_json(r) FROM ({inner} {ORDER}) r) TO 'spend_logs.jsonl' "
            "WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')")


def export_names() -> list[str]:
    """The export's columns, in order."""
    return [c for c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS if c != "api_key"] + list(UNIT_COLUMNS) + \
        ["team", "key", "org"]


def repeated_request_ids(conn: Any, source: DatabaseSource) -> set[str]:
    """The request ids more than one spend-log row carries: none when the column is unique (LiteLLM's schema makes
    it the primary key), else found by the database, so that de-duplication remembers only those."""
    import psycopg

    try:
        with conn.cursor() as cur:
            cur.execute("SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                        "AND a.attnum = i.indkey[0] WHERE i.indrelid = %s::regclass AND i.indisunique "
                        "AND i.indnkeyatts = 1 AND a.attname = 'request_id' AND i.indpred IS NULL)", (SPEND_LOGS,))
            row = cur.fetchone()
            if row is not None and row[0]:
                return set()
            cur.execute(f"SELECT request_id FROM {SPEND_LOGS} WHERE request_id <> '' GROUP BY request_id "
                        "HAVING count(*) > 1")
            return {r[0] for r in cur.fetchall()}
    except psycopg.Error as exc:
        raise query_error(source, exc) from None


def stream_rows(conn: Any, source: DatabaseSource, columns: frozenset[str], *, pick: str | None = None,
                lanes: str = "", ids: list[str] | None = None, batch: int = 2000) -> Iterator[LineResult]:
    """Every row as the spend-log JSONL line it exports to, numbered from 1 in export order, read through a
    server-side cursor ``batch`` rows at a time and parsed as that JSONL line is. ``pick``: only the rows of CTE
    ``k`` (defined by ``lanes``, numbered ``n``) it holds for; ``ids``: only the rows with these request ids. The
    JSON of a picked row is built for it only."""
    import psycopg

    params = None
    if ids is not None:
        sql = ('SELECT x.n, row_to_json(e)::text FROM (SELECT n, request_id FROM (SELECT row_number() OVER '
               f'(ORDER BY "startTime", request_id) AS n, request_id FROM {SPEND_LOGS}) a '
               f"WHERE request_id = ANY(%s)) x JOIN ({export_sql(columns)}) e ON e.request_id = x.request_id "
               "ORDER BY x.n")
        params = (ids,)
    elif pick is None:
        sql = f"SELECT row_to_json(e)::text FROM ({export_sql(columns)} {ORDER}) e"
    else:
        fields = ", ".join(f'k."{c}"' for c in export_names())
        sql = (f"WITH {lanes}\nSELECT n, (SELECT row_to_json(x)::text FROM (SELECT {fields}) x) FROM k "
               f"WHERE {pick} ORDER BY n")
    try:
        with conn.cursor(name="costcalc_rows") as cur:
            cur.itersize = batch
            with answer_within(conn, source):
                cur.execute(sql, params)
            n = 0
            while True:
                with answer_within(conn, source):
                    rows = cur.fetchmany(batch)
                if not rows:
                    break
                for row in rows:
                    if pick is None and ids is None:
                        n, text = n + 1, row[0]
                    else:
                        n, text = row
                    yield parse_line(source.shown, n, text.encode(), adapt)
    except psycopg.Error as exc:
        raise query_error(source, exc) from None


def stream_daily_rows(conn: Any, source: DatabaseSource, batch: int = 2000) -> Iterator[LineResult]:
    """Every row of the source's daily spend table as its ``row_to_json``, numbered from 1 by (date, id), parsed as
    that JSON line is; a DatabaseError when the table does not exist."""
    import psycopg
    from psycopg import sql

    assert source.table in DAILY_TABLES  # parse_source admits no other name
    name = sql.Identifier(source.table)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass(%s)", (f'"{source.table}"',))
            row = cur.fetchone()
        if row is None or row[0] is None:
            raise DatabaseError(f"{source.shown}: table {source.table} does not exist (not a LiteLLM proxy database, "
                                "or one whose migrations predate the table)")
        query = sql.SQL("SELECT row_to_json(t)::text FROM {} t ORDER BY t.date, t.id").format(name)
        with conn.cursor(name="costcalc_daily") as cur:
            cur.itersize = batch
            cur.execute(query)
            for n, (text,) in enumerate(cur, 1):
                yield parse_line(source.shown, n, text.encode(), adapt)
    except psycopg.Error as exc:
        raise query_error(source, exc) from None
