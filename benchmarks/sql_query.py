"""`costcalc sql`: how big the query gets and how long compiling, transpiling and running it take.

    python benchmarks/sql_query.py [ROWS]

Compiles the default query (every config and cost-map name) and a --models query for the sample config, transpiles
each to every dialect (the skeleton through sqlglot, the rate rows spliced in), and runs the --models query on
DuckDB over ROWS synthetic canonical records (default 1M). ``--inline`` also times sqlglot over the whole inline
query (the way before the splice: about a minute and a gigabyte per dialect for the default query).

First it times ``costcalc sql --table usage --dialect D`` as whole processes (Python's start-up included), the way a
user runs it: seconds and peak RSS per dialect (issue 22's bar: under 2 s and 300 MB each).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from costcalc.engines.dialects import DIALECTS, transpile
from costcalc.engines.sqlcompile import SqlOptions, compile_query, covered_keys
from costcalc.engines.streaming import PricingEngine
from costcalc.rates.config import load_config
from costcalc.rates.costmap import load_cost_map

ROOT = Path(__file__).resolve().parent.parent
MODELS = ["gpt-4o", "gpt4o", "claude-sonnet", "gemini-pro", "qwen", "azure-gpt4o-mini", "gpt5", "openai/gpt-4o-mini"]


def whole_processes() -> None:
    """``costcalc sql`` per dialect as a user runs it: wall seconds and peak RSS of the process."""
    print("costcalc sql --table usage --dialect D, whole process (the default query: every cost-map name)")
    for d in DIALECTS:
        with open(os.devnull, "wb") as devnull:
            t = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-m", "costcalc", "sql", "--table", "usage", "--dialect", d],
                                    stdout=devnull)
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - t
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"costcalc sql --dialect {d} failed")
        print(f"  {d:<10} {elapsed:6.2f} s  {usage.ru_maxrss / 1024:6.0f} MiB")


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--inline"]
    inline = "--inline" in sys.argv
    rows = int(args[0]) if args else 1_000_000
    whole_processes()
    engine = PricingEngine(load_cost_map(), load_config(str(ROOT / "sample_data" / "config.yaml")), suggestions=False)
    for label, models in (("default", None), (f"--models ({len(MODELS)})", MODELS)):
        t = time.perf_counter()
        q = compile_query(engine, covered_keys(engine, models), SqlOptions("usage", group_by=["model"]))
        print(f"{label}: {q.keys} keys, {q.bands} bands, {len(q.sql):,} bytes (skeleton {len(q.skeleton):,}), "
              f"compiled in {time.perf_counter() - t:.2f} s")
        for d in DIALECTS:
            t = time.perf_counter()
            text = transpile(q.skeleton, d, q.rows)
            line = f"  {d:<10} {len(text):>11,} bytes  {time.perf_counter() - t:6.2f} s"
            if inline:
                t = time.perf_counter()
                transpile(q.sql, d)
                line += f"  (whole query through sqlglot: {time.perf_counter() - t:6.2f} s)"
            print(line)
    con = duckdb.connect()
    names = ", ".join(f"'{m}'" for m in MODELS)
    con.execute(f"""CREATE TABLE usage AS SELECT i AS id, [{names}][1 + (i % {len(MODELS)})] AS model,
      NULL::VARCHAR AS model_id, NULL::VARCHAR AS service_tier, 1000 + (i % 5000) AS prompt_tokens,
      100 + (i % 700) AS completion_tokens, (i % 500) AS cache_read_input_tokens,
      (i % 7) AS cache_creation_input_tokens,
      0 AS reasoning_tokens, 0 AS audio_input_tokens, 0 AS audio_output_tokens, 0 AS image_input_tokens,
      TIMESTAMP '2026-01-01' + to_seconds(i) AS "timestamp", NULL::VARCHAR AS "user", NULL::VARCHAR AS team,
      NULL::VARCHAR AS "key", NULL::VARCHAR AS end_user FROM range({rows}) AS r(i)""")
    t = time.perf_counter()
    con.execute(q.sql).fetchall()
    print(f"DuckDB, {rows:,} records, --models query grouped by model: {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
