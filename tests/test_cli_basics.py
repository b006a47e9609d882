"""CLI basics: --version, shell completion, help without type jargon, progress with percent and ETA, a closed
pipe exits 0 quietly, Ctrl-C with --jobs exits 130 without worker tracebacks."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from costcalc.version import __version__

from .runner import main

RUN = [sys.executable, "-c", "import sys; from costcalc.cli import main; sys.exit(main())"]


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"costcalc {__version__}\n"


def test_shell_completion_offers_commands_options_and_choices():
    def complete(words: str, index: int) -> list[str]:
        env = {**os.environ, "_COSTCALC_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(index)}
        result = subprocess.run(RUN, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    assert complete("costcalc pr", 1) == ["price"]
    assert "--format" in complete("costcalc price --fo", 2)
    assert complete("costcalc price --format ", 3) == ["table", "json", "jsonl", "csv", "markdown", "html", "focus"]
    result = subprocess.run([*RUN, "--show-completion", "bash"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "_COSTCALC_COMPLETE" in result.stdout


@pytest.mark.parametrize("command", [[], ["price"], ["lookup"], ["models"], ["diff"], ["validate"], ["map"],
                                     ["map", "info"], ["map", "update"]])
def test_help_has_no_type_jargon(capsys, monkeypatch, command):
    monkeypatch.setenv("COLUMNS", "200")
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage: costcalc" in out
    jargon = re.findall(r"<[a-z][^>]*>|\blist\[|\bINTEGER\b|\bFLOAT\b|\bTEXT\b|\bBOOLEAN\b|\{[a-z_]+\}", out)
    assert jargon == [], jargon


def test_progress_shows_percent_and_eta_when_the_size_is_known(tmp_path, monkeypatch):
    from rich.console import Console

    import costcalc.cli.output as cli
    from costcalc.reading.jsonl import ReadPosition, read_usage

    line = b'{"model": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 100}\n'
    plain, packed = tmp_path / "a.jsonl", tmp_path / "b.jsonl.gz"
    plain.write_bytes(line * 12000)
    packed.write_bytes(gzip.compress(line * 12000))
    paths = [str(plain), str(packed)]
    position = ReadPosition(paths)
    assert position.total == plain.stat().st_size + packed.stat().st_size
    seen = []
    for n, _ in enumerate(read_usage(paths, position=position), 1):
        if n in (6000, 18000):
            seen.append(position.bytes_read())
    assert 0 < seen[0] < plain.stat().st_size < seen[1] <= position.total  # (the small .gz is read at once)
    assert position.bytes_read() == position.total  # compressed files count their stored bytes
    assert ReadPosition(["-"]).total is None

    buf = io.StringIO()
    monkeypatch.setattr(cli, "console", lambda stderr=False: Console(file=buf, force_terminal=True, width=120,
                                                                       no_color=True))
    position = ReadPosition(paths)
    for _ in cli.progress_bar(read_usage(paths, position=position), position, lambda item: 1):
        pass
    shown = buf.getvalue()
    assert re.search(r"\d+%", shown) and "ETA" in shown and "lines" in shown


def _big(tmp_path, lines: int, groups: int = 1) -> str:
    path = tmp_path / "big.jsonl"
    with path.open("w") as fh:
        for i in range(lines):
            fh.write(json.dumps({"model": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 100,
                                 "user": f"user-{i % groups}"}) + "\n")
    return str(path)


@pytest.mark.parametrize("fmt", ["jsonl", "table", "csv"])
def test_a_closed_pipe_exits_0_quietly(tmp_path, fmt):
    usage = _big(tmp_path, 6000, groups=3000)  # every format writes well past a pipe's buffer
    proc = subprocess.Popen([*RUN, "price", usage, "-f", fmt, "-g", "user", "--quiet"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # what `| head -n 1` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert "Traceback" not in err and "Broken pipe" not in err and "error" not in err, err


def test_ctrl_c_with_jobs_exits_130_without_worker_tracebacks(tmp_path):
    usage = _big(tmp_path, 400_000)
    # --jobs forks workers of the Python engine (DuckDB would price this file in one process)
    proc = subprocess.Popen([*RUN, "price", usage, "--jobs", "2", "--engine", "python", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    # wait until the workers are forked and pricing, then Ctrl-C as a terminal sends it: to the whole group
    deadline = time.monotonic() + 60
    children: list[str] = []
    while time.monotonic() < deadline and len(children) < 2 and proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as fh:
                children = fh.read().split()
        except OSError:
            break
        time.sleep(0.05)
    assert proc.poll() is None and len(children) >= 2, "the run ended before it could be interrupted"
    time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    text = err.decode()
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
    assert text.strip() == "costcalc: interrupted"


def test_progress_with_jobs_follows_the_spans(tmp_path, monkeypatch):
    from rich.console import Console

    import costcalc.cli.output as cli
    from costcalc.engines.streaming import PricingEngine
    from costcalc.rates.config import ProxyConfig
    from costcalc.rates.costmap import load_cost_map
    from costcalc.reports.aggregate import ReportBuilder
    from costcalc.reports.run import PriceRun

    usage = _big(tmp_path, 20000)  # about 1.6 MB: cut into spans for two workers
    buf = io.StringIO()
    monkeypatch.setattr(cli, "console", lambda stderr=False: Console(file=buf, force_terminal=True, width=120,
                                                                       no_color=True))
    positions = []

    def progress(items, position, lines_of):
        positions.append(position)
        return cli.progress_bar(items, position, lines_of)

    run = PriceRun(PricingEngine(load_cost_map(None), ProxyConfig.empty()), ReportBuilder, progress=progress)
    report = run.execute([usage], None, None, jobs=2)
    assert report.accounting.priced == 20000
    (position,) = positions
    assert position.total == os.path.getsize(usage) and position.bytes_read() == position.total
    assert "20,000 lines" in buf.getvalue() and re.search(r"\d+%", buf.getvalue())


@pytest.mark.parametrize("argv", [["--help"], ["lookup", "gpt-4o"], ["price", "--help"]])
def test_start_up_stays_light(argv):
    """The CLI imports DuckDB and sqlglot only in the commands that price or compile with them."""
    probe = ("import sys; from costcalc.cli import main; code = main(sys.argv[1:]); "
             "print([m for m in ('duckdb', 'sqlglot', 'costcalc.engines.duckdb_engine') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, timeout=60)
    assert result.stdout.splitlines()[-1] == "[]", result.stderr
