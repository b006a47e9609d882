"""Per-record exports against a parse-only process, on LiteLLM spend-log rows with request ids (issue 22 item 5).

    python benchmarks/per_record.py [ROWS] [--jobs N] [--rss-4x] [--baseline SRC] [--pairs K] [--out benchmarks/out]

Generates ROWS spend-log rows (default 200k; benchmarks/run.py's generator: about 1 KB each, every one with a
request id, 1% repeated) and times, as whole processes on the same file:

  parse only            python + orjson reading every line (the baseline: Python's start-up on both sides)
  --format jsonl        one JSON line per record, with the rates that priced it
  --format csv --per-record
  --jobs N              each also with --jobs 1 and --jobs N (the default uses every core for large plain files)
  --rss-4x              each export also at 4 ROWS rows: peak RSS at 4x the rows over peak RSS at 1x
  --baseline SRC        each run also with PYTHONPATH=SRC (another checkout's ``src``: the code before a change)

Runs alternate (current, baseline) in K pairs and the median of each is shown, so that a change in the machine's
load hits both alike. It prints wall seconds, CPU seconds (user + system of the process and its workers), each as
a ratio to the parse-only process, and peak RSS (the largest single process: the main one or a worker). On a
machine that other work shares, CPU ratios are the steadier figure. Ratios, not seconds, carry across machines.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run import CONFIG, HERE, generate_spend_logs, parse_only_process

EXPORTS = {"--format jsonl": ["--format", "jsonl"], "--format csv --per-record": ["--format", "csv", "--per-record"]}


def timed(args: list[str], src: str | None) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (with the workers it waited for) and peak RSS (KiB) of ``python -m costcalc ARGS``,
    stdout to /dev/null; ``src``: a source tree to run instead of the installed package."""
    env = dict(os.environ)
    # as installed: modules compiled once and cached (with caching off, every run would time Python compiling
    # costcalc's sources, about 0.2 s)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if src is not None:
        env["PYTHONPATH"] = src
    with open(os.devnull, "wb") as devnull, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "costcalc", *args], stdout=devnull, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)  # its own rusage, which includes the workers it reaped
        elapsed = time.perf_counter() - t0
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            raise SystemExit(f"costcalc {' '.join(args)} failed: {err.read().decode()[-500:]}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def spend_logs(out: Path, rows: int) -> Path:
    data = out / f"spend-logs-{rows}.jsonl"
    if not data.exists():
        print(f"generating {rows:,} spend-log rows → {data}")
        generate_spend_logs(data, rows)
    return data


def median(values: list[tuple[float, float, int]]) -> tuple[float, float, int]:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def measure(data: Path, config: Path, jobs: int | None, sources: dict[str, str | None],
            pairs: int) -> dict[str, tuple[float, float, int]]:
    """Every run on ``data``: parse only, then each export (and each --jobs) per source, alternating."""
    parse = [parse_only_process(data) for _ in range(pairs)]
    parse_cpu = [_parse_cpu(data) for _ in range(pairs)]
    runs = {"parse only (whole process)": (sorted(p[0] for p in parse)[pairs // 2],
                                           sorted(parse_cpu)[pairs // 2], max(p[1] for p in parse))}
    base = ["price", str(data), "--config", str(config), "--quiet"]
    variants = {"": []} if not jobs else {"": [], " -j 1": ["--jobs", "1"], f" -j {jobs}": ["--jobs", str(jobs)]}
    for name, extra in EXPORTS.items():
        for suffix, more in variants.items():
            timings: dict[str, list[tuple[float, float, int]]] = {label: [] for label in sources}
            for _ in range(pairs):
                for label, src in sources.items():
                    timings[label].append(timed([*base, *extra, *more], src))
            for label, values in timings.items():
                runs[f"{name}{suffix}{label}"] = median(values)
    return runs


def _parse_cpu(data: Path) -> float:
    code = f"import orjson\nloads = orjson.loads\nfor line in open({str(data)!r}, 'rb'):\n    loads(line)\n"
    proc = subprocess.Popen([sys.executable, "-c", code])
    _, _, usage = os.wait4(proc.pid, 0)
    return usage.ru_utime + usage.ru_stime


def show(rows: int, data: Path, runs: dict[str, tuple[float, float, int]]) -> None:
    wall, cpu, _ = runs["parse only (whole process)"]
    print(f"\n{rows:,} spend-log rows ({data.stat().st_size / 1e6:,.0f} MB)")
    print(f"{'':44} {'wall s':>8} {'vs parse':>9} {'CPU s':>8} {'vs parse':>9} {'peak RSS':>10}")
    for name, (secs, used, rss) in runs.items():
        print(f"{name:44} {secs:8.2f} {secs / wall:8.2f}x {used:8.2f} {used / cpu:8.2f}x {rss / 1024:8.0f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int, nargs="?", default=200_000)
    parser.add_argument("--jobs", type=int, default=None, help="also time each export with --jobs 1 and --jobs N")
    parser.add_argument("--rss-4x", action="store_true", help="also run at 4x the rows: peak RSS 4x / 1x")
    parser.add_argument("--baseline", default=None, help="a source tree to time beside the current code")
    parser.add_argument("--pairs", type=int, default=1, help="alternating runs of each; medians")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    config = args.out / "config.yaml"
    config.write_text(CONFIG)
    sources: dict[str, str | None] = {"": str(HERE.parent / "src")}  # this checkout's code
    if args.baseline is not None:
        sources[" (baseline)"] = args.baseline
    measured = {}
    for rows in (args.rows, 4 * args.rows) if args.rss_4x else (args.rows,):
        data = spend_logs(args.out, rows)
        measured[rows] = runs = measure(data, config, args.jobs, sources, args.pairs)
        show(rows, data, runs)
    if args.rss_4x:
        small, big = measured[args.rows], measured[4 * args.rows]
        print("\npeak RSS at 4x the rows / at 1x: " + ", ".join(
            f"{name} {big[name][2] / small[name][2]:.2f}" for name in small if not name.startswith("parse")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
