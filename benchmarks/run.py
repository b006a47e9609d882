"""Throughput and memory of `costcalc price`, measured against baselines taken in the same run.

    python benchmarks/run.py [--records 1000000] [--rss-check] [--scale 10] [--jobs 2] [--out benchmarks/out]

Generates a deterministic canonical JSONL (a realistic mix of models, aliases, custom-priced deployments,
cache and reasoning tokens, a few bad lines) and measures on that same file:

  (a) parse only      every line through orjson.loads, nothing else (the floor)
  (b) price table     `costcalc price FILE --config CFG` grouped by model, table to /dev/null, with the DuckDB
                      engine (what --engine auto picks at this size) and with the Python engine
  (c) price jsonl     `costcalc price FILE --config CFG --format jsonl` to /dev/null (the Python engine)
  (d) user script     json.loads + litellm.cost_per_token per line, on a prefix, scaled (needs litellm)
  lookup              `costcalc lookup gpt-4o` wall time (median of 5)
  (e) with --audit    `--format focus`, and `--budget` with `--currency` (the per-day ledger beside the report)
  --spend-logs N      LiteLLM spend-log rows (about 1 KB, each with a request id, 1% repeated) at N and 4N rows:
                      the default `-g team` report, each engine and `--format jsonl` as ratios to a whole
                      process that only parses the lines, with peak RSS at both sizes
  --sweep [SIZES]     per shape (canonical records, with request ids, spend-log rows, standard logging payloads)
                      and size, each engine's time against what `--engine auto` picks

It prints records/s, each ratio against (a) and (d), and peak RSS, and writes the figures as JSON
(``results-<date>.json``) so runs can be compared. Ratios, not absolute times, are what carry across machines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

CONFIG = """
model_list:
  - model_name: gpt4o
    litellm_params: {model: openai/gpt-4o, api_key: os.environ/OPENAI_API_KEY}
  - model_name: mini
    litellm_params: {model: openai/gpt-4o-mini}
  - model_name: sonnet
    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929}
    model_info: {input_cost_per_token: 2.7e-6, output_cost_per_token: 1.35e-5}
  - model_name: azure-prod
    litellm_params: {model: azure/prod-eastus}
    model_info: {base_model: azure/gpt-4o}
  - model_name: gemini
    litellm_params: {model: gemini/gemini-2.5-pro}
litellm_settings:
  cost_margin_config: {global: 0.05}
"""
MODELS = ["gpt4o", "mini", "sonnet", "azure-prod", "gemini", "gpt-4o", "o3", "claude-haiku-4-5-20251001",
          "anthropic/claude-sonnet-4-5-20250929", "gemini/gemini-2.5-flash"]
WEIGHTS = [20, 25, 15, 10, 5, 8, 5, 6, 4, 2]
# what the user script calls litellm with for each alias (it has no config)
SCRIPT_MODEL = {"gpt4o": "gpt-4o", "mini": "gpt-4o-mini", "sonnet": "anthropic/claude-sonnet-4-5-20250929",
                "azure-prod": "azure/gpt-4o", "gemini": "gemini/gemini-2.5-pro"}


def generate(path: Path, n: int, seed: int = 1, request_ids: bool = False) -> None:
    """``n`` canonical records; ``request_ids``: each with a request id, about 1% of them an earlier one's."""
    rng = random.Random(seed)
    ids = random.Random(seed + 1)
    recent: list[str] = []
    users = [f"user{i}" for i in range(200)]
    teams = ["search", "agents", "support", "research", "voice", "ml"]
    start = dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc).timestamp()
    with path.open("w") as f:
        for i in range(n):
            if i % 50_000 == 49_999:
                f.write('{"model": "gpt4o", "prompt_tokens": 1.5}\n')
                continue
            model = rng.choices(MODELS, WEIGHTS)[0]
            prompt = rng.randint(50, 12_000)
            completion = rng.randint(1, 2_000)
            rec = {"model": model, "prompt_tokens": prompt, "completion_tokens": completion}
            if rng.random() < 0.4:
                rec["cache_read_input_tokens"] = rng.randint(0, prompt // 2)
            if rng.random() < 0.2:
                rec["reasoning_tokens"] = rng.randint(0, completion)
            rec["user"] = rng.choice(users)
            rec["team"] = rng.choice(teams)
            rec["timestamp"] = int(start + i * 2.5)
            if request_ids:
                rec["request_id"] = _request_id(ids, recent)
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")


def _request_id(rng: random.Random, recent: list[str]) -> str:
    """A new request id, or (1 time in 100) one of the last thousand: a record exported twice."""
    if recent and rng.random() < 0.01:
        return rng.choice(recent)
    rid = f"chatcmpl-{rng.getrandbits(128):032x}"
    if len(recent) < 1000:
        recent.append(rid)
    else:
        recent[rng.randrange(1000)] = rid
    return rid


SPEND_LOG_GROUPS = [("gpt4o", "openai/gpt-4o", "openai"), ("mini", "openai/gpt-4o-mini", "openai"),
                    ("sonnet", "anthropic/claude-sonnet-4-5-20250929", "anthropic"),
                    ("azure-prod", "azure/prod-eastus", "azure"), ("gemini", "gemini/gemini-2.5-pro", "gemini")]


def generate_spend_logs(path: Path, n: int, seed: int = 2) -> None:
    """``n`` LiteLLM spend-log rows as the proxy's /spend/logs export writes them, about 1 KB each: every one with
    a request id (about 1% repeat an earlier one, as overlapping exports do), ``metadata`` a JSON string holding
    the usage object, key and team aliases, a few failures and cache hits."""
    rng = random.Random(seed)
    teams = [(f"team-{i:04d}-5f1c-4e0b-9a53", name) for i, name in enumerate(
        ["search", "agents", "support", "research", "voice", "ml"])]
    keys = [(f"{rng.getrandbits(256):064x}", f"key-{i}") for i in range(40)]
    start = dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc)
    recent: list[str] = []
    deployment_ids = {group: f"{rng.getrandbits(256):064x}" for group, _, _ in SPEND_LOG_GROUPS}
    with path.open("w") as f:
        for i in range(n):
            group, model, provider = SPEND_LOG_GROUPS[rng.choices(range(5), [30, 30, 20, 12, 8])[0]]
            prompt, completion = rng.randint(50, 12_000), rng.randint(1, 2_000)
            cached = rng.choice([0, 0, prompt // 3])
            team, key = rng.choice(teams), rng.choice(keys)
            t = start + dt.timedelta(seconds=i * 1.3)
            rid = _request_id(rng, recent)
            usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
                     "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": None},
                     "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": None}}
            metadata = {"user_api_key": key[0], "user_api_key_alias": key[1], "user_api_key_team_id": team[0],
                        "user_api_key_team_alias": team[1], "user_api_key_user_id": f"user{rng.randrange(200)}",
                        "spend_logs_metadata": None, "requester_ip_address": f"10.0.{i % 250}.{i % 199}",
                        "applied_guardrails": [], "usage_object": usage, "model_map_information": {
                            "model_map_key": model.split("/", 1)[1], "model_map_value": None}}
            status, spend = "success", round(rng.random() / 20, 9)
            odd = rng.random()
            if odd < 0.01:
                status, prompt, completion, spend = "failure", 0, 0, 0.0
            row = {"request_id": rid, "call_type": "acompletion", "api_key": key[0], "spend": spend,
                   "total_tokens": prompt + completion, "prompt_tokens": prompt, "completion_tokens": completion,
                   "startTime": t.isoformat(), "endTime": (t + dt.timedelta(milliseconds=rng.randint(200, 9000)))
                   .isoformat(), "model": model.split("/", 1)[1],
                   "model_id": deployment_ids[group], "model_group": group, "custom_llm_provider": provider,
                   "api_base": f"https://api.{provider}.example.com/v1", "user": f"user{rng.randrange(200)}",
                   "metadata": json.dumps(metadata), "cache_hit": "True" if odd > 0.99 else "False",
                   "cache_key": "", "request_tags": json.dumps(["prod"] if i % 3 else []), "team_id": team[0],
                   "end_user": "", "requester_ip_address": "", "status": status}
            f.write(json.dumps(row, separators=(",", ":")) + "\n")


def generate_payloads(path: Path, n: int, seed: int = 3) -> None:
    """The calls ``generate_spend_logs`` writes, as standard logging payloads (what a CustomLogger or the proxy's
    logging callbacks receive): the request id under ``id``, ``response_cost``, epoch-second times, ``metadata``
    an object, ``cache_hit`` a boolean."""
    rows = path.with_suffix(".rows.tmp")
    generate_spend_logs(rows, n, seed)
    with rows.open() as src, path.open("w") as f:
        for line in src:
            r = json.loads(line)
            payload = {k: v for k, v in r.items() if k not in ("request_id", "spend", "metadata", "cache_hit")}
            payload.update(id=r["request_id"], response_cost=r["spend"], metadata=json.loads(r["metadata"]),
                           cache_hit=r["cache_hit"] == "True",
                           startTime=dt.datetime.fromisoformat(r["startTime"]).timestamp(),
                           endTime=dt.datetime.fromisoformat(r["endTime"]).timestamp())
            f.write(json.dumps(payload, separators=(",", ":")) + "\n")
    rows.unlink()


def parse_only(path: Path) -> float:
    import orjson

    loads = orjson.loads
    t0 = time.perf_counter()
    with path.open("rb") as f:
        for line in f:
            loads(line)
    return time.perf_counter() - t0


def parse_only_process(path: Path) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of a whole Python process that only parses every line with orjson: the
    baseline the spend-log figures are ratios to (Python's start-up on both sides)."""
    code = f"import orjson\nloads = orjson.loads\nfor line in open({str(path)!r}, 'rb'):\n    loads(line)\n"
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code])
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("the parse-only process failed")
    return time.perf_counter() - t0, usage.ru_maxrss


def spend_log_runs(out: Path, config: Path, n: int) -> dict[str, object]:
    """Spend-log rows (every one with a request id, about 1% repeated) at ``n`` and 4 ``n`` rows, whole
    processes: parse only, the default ``-g team`` report, each engine, ``--format jsonl``; peak RSS at both."""
    figures: dict[str, object] = {"rows": n}
    table = []
    for rows in (n, 4 * n):
        data = out / f"spend-logs-{rows}.jsonl"
        if not data.exists():
            print(f"generating {rows:,} spend-log rows → {data}")
            generate_spend_logs(data, rows)
        base = ["price", str(data), "--config", str(config), "--quiet", "-g", "team"]
        parse, parse_rss = parse_only_process(data)
        runs = {"parse only (whole process)": (parse, parse_rss)}
        runs["default (-g team)"] = run_costcalc(base)
        runs["--engine python"] = run_costcalc([*base, "--engine", "python"])
        runs["--engine python -j 1"] = run_costcalc([*base, "--engine", "python", "-j", "1"])
        runs["--engine duckdb"] = run_costcalc([*base, "--engine", "duckdb"])
        runs["--format jsonl"] = run_costcalc([*base, "--format", "jsonl"])
        size = data.stat().st_size
        print(f"\n{rows:,} spend-log rows ({size / 1e6:,.0f} MB)")
        print(f"{'':28} {'seconds':>9} {'vs parse':>9} {'peak RSS':>10}")
        for name, (secs, rss) in runs.items():
            print(f"{name:28} {secs:9.2f} {secs / parse:8.2f}x {rss / 1024:8.0f} MiB")
        table.append({"rows": rows, "bytes": size, "runs": {k: {"seconds": v[0], "rss_kib": v[1], "vs_parse":
                                                               v[0] / parse} for k, v in runs.items()}})
    small, big = table[0]["runs"], table[1]["runs"]  # type: ignore[index]
    print("\npeak RSS at 4x the rows / at 1x: " + ", ".join(
        f"{k} {big[k]['rss_kib'] / small[k]['rss_kib']:.2f}" for k in small if not k.startswith("parse")))
    figures["table"] = table
    return figures


def sweep(out: Path, config: Path, sizes: list[int]) -> list[dict[str, object]]:
    """What ``--engine auto`` picks against what each engine takes, per shape and size (whole processes, best
    of two): canonical records, the same with request ids, spend-log rows, standard logging payloads."""
    from costcalc.engines.choose import choose_engine

    shapes = {"canonical": lambda p, k: generate(p, k), "canonical + ids": lambda p, k: generate(
        p, k, request_ids=True), "spend-log rows": generate_spend_logs, "payloads": generate_payloads}
    results = []
    print(f"\n{'shape':16} {'records':>9} {'MB':>6} {'python':>8} {'duckdb':>8} {'auto':>8}  auto picked")
    for shape, make in shapes.items():
        for k in sizes:
            data = out / f"sweep-{shape.replace(' ', '').replace('+', '-')}-{k}.jsonl"
            if not data.exists():
                make(data, k)
            base = ["price", str(data), "--config", str(config), "--quiet", "-g", "team"]
            times = {e: min(run_costcalc([*base, "--engine", e])[0] for _ in range(2))
                     for e in ("python", "duckdb", "auto")}
            picked = choose_engine("auto", [str(data)], database=False, aggregate=True, dedupe=True).engine
            faster = min(("python", "duckdb"), key=lambda e: times[e])
            print(f"{shape:16} {k:9,} {data.stat().st_size / 1e6:6.1f} {times['python']:8.2f} "
                  f"{times['duckdb']:8.2f} {times['auto']:8.2f}  {picked}" + ("" if picked == faster else
                                                                            f" (the faster: {faster})"))
            results.append({"shape": shape, "records": k, "bytes": data.stat().st_size, "picked": picked, **times})
    return results


def _command(args: list[str]) -> list[str]:
    exe = shutil.which("costcalc")
    return [exe, *args] if exe else [sys.executable, "-m", "costcalc", *args]


def run_costcalc(args: list[str]) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of one costcalc run, stdout to /dev/null."""
    with open(os.devnull, "wb") as devnull, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(_command(args), stdout=devnull, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)  # reap it ourselves to get its own rusage
        elapsed = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"costcalc {' '.join(args)} failed: {err.read().decode()[-500:]}")
    return elapsed, usage.ru_maxrss


def user_script(path: Path, limit: int) -> float | None:
    """Seconds per record of json.loads + litellm.cost_per_token (import time excluded, in its favour)."""
    code = f"""
import json, os, sys, time
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
try:
    import litellm
except ImportError:
    print("none"); sys.exit(0)
names = {SCRIPT_MODEL!r}
t0 = time.perf_counter(); n = 0; total = 0.0
with open({str(path)!r}) as f:
    for line in f:
        if n >= {limit}: break
        n += 1
        try:
            r = json.loads(line)
            p, c = litellm.cost_per_token(model=names.get(r["model"], r["model"]),
                                          prompt_tokens=int(r["prompt_tokens"]),
                                          completion_tokens=int(r["completion_tokens"]))
            total += p + c
        except Exception:
            pass
print((time.perf_counter() - t0) / n)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    text = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "none"
    return None if text == "none" else float(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--script-records", type=int, default=20_000)
    parser.add_argument("--jobs", type=int, default=None, help="also time --jobs N (and --jobs 1)")
    parser.add_argument("--rss-check", action="store_true", help="compare peak RSS at N and 4N records")
    parser.add_argument("--scale", type=int, default=None, help="also time the DuckDB engine on N x records, "
                        "with peak RSS against N records")
    parser.add_argument("--audit", action="store_true", help="also time the audit outputs (issue 15): --format "
                        "focus, and budgets with a currency conversion")
    parser.add_argument("--spend-logs", type=int, default=None, metavar="N", help="also LiteLLM spend-log rows "
                        "(about 1 KB each, every one with a request id, 1%% repeated) at N and 4N rows, as ratios "
                        "to a parse-only whole process")
    parser.add_argument("--sweep", type=int, nargs="*", default=None, metavar="RECORDS",
                        help="what --engine auto picks against each engine's time, per shape, at these sizes "
                        "(default 25000 100000 200000)")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    data = args.out / f"usage-{args.records}.jsonl"
    config = args.out / "config.yaml"
    config.write_text(CONFIG)
    if not data.exists():
        print(f"generating {args.records:,} records → {data}")
        generate(data, args.records)
    n = args.records
    results: dict[str, object] = {"records": n, "date": dt.datetime.now().isoformat(timespec="seconds"),
                                  "python": sys.version.split()[0], "cpus": os.cpu_count()}

    parse = min(parse_only(data) for _ in range(2))
    base = ["price", str(data), "--config", str(config), "--quiet"]
    table, rss_table = run_costcalc([*base, "-g", "model", "--engine", "duckdb"])
    table_py, rss_table_py = run_costcalc([*base, "-g", "model", "--engine", "python"])
    jsonl, rss_jsonl = run_costcalc([*base, "--format", "jsonl"])
    per_record = user_script(data, args.script_records)
    lookups = []
    for _ in range(5):
        t, _ = run_costcalc(["lookup", "gpt-4o"])
        lookups.append(t)
    lookup = statistics.median(lookups)

    rows = [("(a) parse only", parse), ("(b) price table, duckdb", table), ("(b) price table, python", table_py),
            ("(c) price jsonl, python", jsonl)]
    engines = {"(b) price table, duckdb": "duckdb", "(b) price table, python": "python",
               "(c) price jsonl, python": "python"}
    if args.jobs:
        j1, _ = run_costcalc([*base, "-g", "model", "--jobs", "1"])
        jn, _ = run_costcalc([*base, "-g", "model", "--jobs", str(args.jobs)])
        rows += [("(b) --jobs 1", j1), (f"(b) --jobs {args.jobs}", jn)]
    if args.audit:
        focus, _ = run_costcalc([*base, "--format", "focus"])
        audit, _ = run_costcalc([*base, "-g", "team", "--budget", "total:1000", "--currency", "EUR",
                                 "--fx-rate", "0.92"])
        rows += [("(e) price --format focus", focus), ("(e) --budget + --currency", audit)]
    script_total = per_record * n if per_record is not None else None
    if script_total is not None:
        rows.append((f"(d) user script (x{n // args.script_records} of {args.script_records:,})", script_total))

    print(f"\n{n:,} records, Python {results['python']}, {results['cpus']} cores")
    print(f"{'':34} {'seconds':>9} {'records/s':>12} {'vs (a)':>8} {'(d) /':>8}")
    timings = {}
    for name, secs in rows:
        ratio_d = f"{script_total / secs:8.1f}" if script_total else "       -"
        print(f"{name:34} {secs:9.2f} {n / secs:12,.0f} {secs / parse:7.2f}x {ratio_d}")
        timings[name] = secs
    print(f"peak RSS: table {rss_table / 1024:.0f} MiB (duckdb), {rss_table_py / 1024:.0f} MiB (python), "
          f"jsonl {rss_jsonl / 1024:.0f} MiB")
    print(f"costcalc lookup gpt-4o: {lookup:.3f} s (median of 5)")
    if per_record is None:
        print("(d) skipped: litellm is not installed (pip install 'costcalc[test]')")
    results.update(timings=timings, engines=engines, ratio_b_vs_a=table / parse,
                   ratio_b_python_vs_a=table_py / parse, ratio_c_vs_a=jsonl / parse,
                   ratio_d_vs_b=(script_total / table) if script_total else None,
                   peak_rss_kib={"table_duckdb": rss_table, "table_python": rss_table_py, "jsonl": rss_jsonl},
                   lookup_seconds=lookup)

    if args.scale:
        big = args.out / f"usage-{args.scale * n}.jsonl"
        if not big.exists():
            print(f"generating {args.scale * n:,} records → {big}")
            generate(big, args.scale * n)
        secs, rss = run_costcalc(["price", str(big), "--config", str(config), "--quiet", "-g", "model",
                                  "--engine", "duckdb"])
        print(f"duckdb engine, {args.scale * n:,} records: {secs:.2f} s ({args.scale * n / secs:,.0f} records/s), "
              f"peak RSS {rss / 1024:.0f} MiB = {rss / rss_table:.2f}x that of {n:,} records")
        results["scale"] = {"records": args.scale * n, "seconds": secs, "engine": "duckdb", "rss_kib": rss,
                            "rss_vs_base": rss / rss_table}

    if args.rss_check:
        big = args.out / f"usage-{4 * n}.jsonl"
        if not big.exists():
            print(f"generating {4 * n:,} records → {big}")
            generate(big, 4 * n)
        small_rss = rss_table
        _, big_rss = run_costcalc(["price", str(big), "--config", str(config), "--quiet", "-g", "model"])
        print(f"peak RSS: {n:,} records {small_rss / 1024:.0f} MiB, {4 * n:,} records {big_rss / 1024:.0f} MiB "
              f"({100 * (big_rss - small_rss) / small_rss:+.1f}%)")
        results["rss_check"] = {"records": n, "rss_kib": small_rss, "records_4x": 4 * n, "rss_4x_kib": big_rss}

    if args.spend_logs:
        results["spend_logs"] = spend_log_runs(args.out, config, args.spend_logs)
    if args.sweep is not None:
        results["sweep"] = sweep(args.out, config, args.sweep or [25_000, 100_000, 200_000])

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.out / f"results-{stamp}.json"
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"figures written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
