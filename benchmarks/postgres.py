"""Price a LiteLLM_SpendLogs table in the database (--engine postgres) vs streamed to Python (--engine python):
wall time and bytes of result payload that cross the connection (row values as text; protocol framing not
counted). Starts a throwaway cluster like tests/test_postgres.py (Debian's binaries, LiteLLM's migrations).

    .venv/bin/python benchmarks/postgres.py --rows 1000000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pg_server import start_server  # noqa: E402
from tests.spendlog_data import generate, load  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=100_000)
    args = ap.parse_args()
    from costcalc.engines.contract import KeySpec
    from costcalc.engines.postgres_engine import aggregate_sql, lanes_sql, routed_pick
    from costcalc.reading.postgres import check_schema, connect, export_names, export_sql, parse_source

    servers = start_server()
    server = next(servers)
    try:
        t = time.perf_counter()
        with server.connect() as conn:
            for start in range(0, args.rows, args.batch):
                load(conn, generate(min(args.batch, args.rows - start), seed=start + 1))
            conn.execute('VACUUM ANALYZE "LiteLLM_SpendLogs"')
            size = conn.execute("SELECT pg_total_relation_size('\"LiteLLM_SpendLogs\"')").fetchone()[0]
        print(f"loaded {args.rows:,} rows ({size / 1e6:.0f} MB with indexes) in {time.perf_counter() - t:.0f} s")
        config = str(ROOT / "sample_data" / "config.yaml")
        for engine in ("postgres", "python"):
            for group in (["model"], ["team", "key"]):
                cmd = [sys.executable, "-m", "costcalc", "price", server.url(), "--config", config, "--engine",
                       engine, "--format", "json", "-q"] + [x for g in group for x in ("-g", g)]
                t = time.perf_counter()
                proc = subprocess.run(cmd, capture_output=True)
                elapsed = time.perf_counter() - t
                assert proc.returncode == 0, proc.stderr
                print(f"engine {engine:8s} -g {','.join(group):9s} {elapsed:6.1f} s")
        source = parse_source(server.url())
        conn = connect(source)
        columns = check_schema(conn, source)
        streamed = conn.execute(f"SELECT sum(octet_length(row_to_json(e)::text)) FROM ({export_sql(columns)}) e"
                                ).fetchone()[0]
        sql, _, _ = aggregate_sql(columns, [KeySpec("record", ("team", "team_id", "user_api_key_team_id"))],
                                  [0, 1, 200_001], None, None, None)
        summed = conn.execute(f"SELECT sum(octet_length(x::text)), count(*) FROM ({sql}) x").fetchone()
        slow = conn.execute(f"WITH {lanes_sql(columns)} SELECT count(*), sum(octet_length((SELECT row_to_json(x) "
                            f"FROM (SELECT {', '.join(f'k.{chr(34)}{c}{chr(34)}' for c in export_names())}) x)::text)) "
                            f"FROM k WHERE {routed_pick([], None, None)}").fetchone()
        conn.close()
        print(f"bytes: streamed {streamed / 1e6:.1f} MB; in-database {summed[0] / 1e3:.1f} kB in {summed[1]} "
              f"aggregate rows (-g team) + {slow[1] / 1e6:.1f} MB for the {slow[0]:,} rows Python prices")
    finally:
        next(servers, None)


if __name__ == "__main__":
    main()
