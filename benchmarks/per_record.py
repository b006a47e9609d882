"""Per-record exports against a parse-only process, on LiteLLM spend-log rows with request ids (issue 22 item 5).

    python benchmarks/per_record.py [ROWS] [--jobs N [--pairs K]] [--out benchmarks/out]

Generates ROWS spend-log rows (default 200k; benchmarks/run.py's generator: about 1 KB each, every one with a
request id, 1% repeated) and times, as whole processes on the same file:

  parse only            python + orjson reading every line (the baseline: Python's start-up on both sides)
  --format jsonl        one JSON line per record, with the rates that priced it
  --format csv --per-record
  (with --jobs N, each also with --jobs 1 and --jobs N, in K alternating pairs: the median of each)

It prints seconds, the ratio to parse-only and peak RSS. Ratios, not seconds, carry across machines.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from run import CONFIG, HERE, generate_spend_logs, parse_only_process, run_costcalc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int, nargs="?", default=200_000)
    parser.add_argument("--jobs", type=int, default=None, help="also time each export with --jobs 1 and --jobs N")
    parser.add_argument("--pairs", type=int, default=1, help="alternating (--jobs 1, --jobs N) pairs; medians")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    config = args.out / "config.yaml"
    config.write_text(CONFIG)
    data = args.out / f"spend-logs-{args.rows}.jsonl"
    if not data.exists():
        print(f"generating {args.rows:,} spend-log rows → {data}")
        generate_spend_logs(data, args.rows)
    base = ["price", str(data), "--config", str(config), "--quiet"]
    exports = {"--format jsonl": ["--format", "jsonl"], "--format csv --per-record": ["--format", "csv",
                                                                                     "--per-record"]}
    parse, parse_rss = parse_only_process(data)
    runs = {"parse only (whole process)": (parse, parse_rss)}
    for name, extra in exports.items():
        runs[name] = run_costcalc([*base, *extra])
        if args.jobs:
            timed: dict[str, list[tuple[float, int]]] = {"1": [], str(args.jobs): []}
            for _ in range(args.pairs):  # alternating, so that a change in the machine's load hits both alike
                for jobs, times in timed.items():
                    times.append(run_costcalc([*base, *extra, "--jobs", jobs]))
            for jobs, times in timed.items():
                runs[f"{name} -j {jobs}"] = sorted(times)[len(times) // 2]
    print(f"\n{args.rows:,} spend-log rows ({data.stat().st_size / 1e6:,.0f} MB)")
    print(f"{'':34} {'seconds':>9} {'vs parse':>9} {'peak RSS':>10}")
    for name, (secs, rss) in runs.items():
        print(f"{name:34} {secs:9.2f} {secs / parse:8.2f}x {rss / 1024:8.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
