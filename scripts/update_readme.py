"""Regenerate the README's tour: every example command is run on sample_data/ and its real output pasted in.

    python scripts/update_readme.py          # rewrite the tour between the markers
    python scripts/update_readme.py --check  # exit 1 if the README's outputs are stale (tests/test_docs.py)

Each example is a ```console block: its first line is ``$ costcalc ...``, the rest is what that command
prints (stdout) when run from the repository root with COLUMNS=150 and NO_COLOR=1.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
START, END = "<!-- tour:start -->", "<!-- tour:end -->"

# (heading text, command) -- the tour, in order
TOUR: list[tuple[str, str]] = [
    ("The default report: spend per model, with the accounting line and the proxy-rule warnings. The table "
     "shows the widest set of columns that fits the terminal (here 150 columns).",
     "costcalc price sample_data/usage.jsonl --config sample_data/config.yaml"),
    ("The same at 80 columns: the compact set (label, requests, tokens in and out, total, share); long labels "
     "are shortened in the middle. `--wide` shows every column, `--columns` picks them.",
     "COLUMNS=80 costcalc price sample_data/usage.jsonl --config sample_data/config.yaml -g team -g model --quiet"),
    ("Nested groups, the 3 largest teams, as Markdown for a PR or a chat thread.",
     "costcalc price sample_data/usage.jsonl --config sample_data/config.yaml -g team -g model --top 3 "
     "--format markdown --quiet"),
    ("One team's bill for one month: `--where` filters before pricing, and the report states its period, window "
     "and filters.",
     "costcalc price sample_data/usage.jsonl --config sample_data/config.yaml --where team=research "
     "--month 2026-11 --quiet"),
    ("Spend per day as a terminal chart.",
     "costcalc price sample_data/usage.jsonl --config sample_data/config.yaml -g day --chart --quiet"),
    ("How one record's cost was reached.",
     "costcalc price sample_data/usage.jsonl --config sample_data/config.yaml --explain --line 2 --quiet"),
    ("One JSON line per input line (first three shown).",
     "costcalc price sample_data/usage.jsonl --config sample_data/config.yaml --format jsonl --quiet | head -n 3"),
    ("CSV for a spreadsheet.",
     "costcalc price sample_data/usage.jsonl --config sample_data/config.yaml -g provider --format csv --quiet"),
    ("Real log shapes, recognised per line (OpenAI, Anthropic, Gemini, LiteLLM spend logs, Claude Code, batch "
     "output), with the spend the logs recorded checked against the computed cost.",
     "costcalc price sample_data/mixed.jsonl -g shape --reconcile --quiet"),
    ("Where a model's prices come from.",
     "costcalc lookup claude-sonnet --config sample_data/config.yaml"),
    ("Searching the cost map.",
     "costcalc models gpt-4o-mini --limit 4"),
    ("The map in use.",
     "costcalc map info"),
]


def run(command: str) -> str:
    """Run one tour command in-process (a trailing ``| head -n N`` keeps the first N lines)."""
    from costcalc.cli import main

    head = None
    if "| head -n" in command:
        command, _, n = command.partition("| head -n")
        head = int(n)
    columns = "150"
    if command.startswith("COLUMNS="):
        setting, command = command.split(" ", 1)
        columns = setting.split("=", 1)[1]
    argv = shlex.split(command)[1:]
    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)  # has .buffer, like real stdout
    old_env, cwd, old_stdout = os.environ.copy(), os.getcwd(), sys.stdout
    os.environ.update({"COLUMNS": columns, "NO_COLOR": "1"})
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            sys.stdout = stdout
            main(argv)
    finally:
        sys.stdout = old_stdout
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(old_env)
    text = raw.getvalue().decode("utf-8")
    lines = [line.rstrip() for line in text.splitlines()]
    if head is not None:
        lines = lines[:head]
    return "\n".join(lines)


def tour() -> str:
    parts = [START]
    for text, command in TOUR:
        parts.append(f"\n{text}\n\n```console\n$ {command}\n{run(command)}\n```\n")
    parts.append(END)
    return "\n".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = README.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"README.md has no {START} ... {END} section")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    new = before + tour() + after
    if args.check:
        if new != text:
            print("README.md tour is stale: run python scripts/update_readme.py")
            return 1
        return 0
    README.write_text(new)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
