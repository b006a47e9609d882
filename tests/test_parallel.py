"""--jobs N gives byte-identical output to --jobs 1: reports, per-record lines, line numbers, accounting."""

from __future__ import annotations

import itertools
import json
import random

import pytest

from costcalc.engines import parallel

from .conftest import ROOT
from .runner import main

CONFIG = str(ROOT / "sample_data" / "config.yaml")
MODELS = ["gpt4o", "claude-sonnet", "azure-model", "gemini-pro", "qwen", "claude-haiku", "gpt-4o", "nope-model",
          "sagemaker-completion-model", "openai/gpt-4o-mini"]


BAD_COUNTS = sum(1 for i in range(4000) if i % 97 == 5)
NOT_JSON = sum(1 for i in range(4000) if i % 97 != 5 and i % 131 == 7)
BLANK = sum(1 for i in range(4000) if i % 97 != 5 and i % 131 != 7 and i % 211 == 3)


@pytest.fixture(scope="module")
def usage(tmp_path_factory):
    rng = random.Random(5)
    path = tmp_path_factory.mktemp("par") / "big.jsonl"
    lines = []
    for i in range(4000):
        if i % 97 == 5:
            lines.append('{"model": "gpt4o", "prompt_tokens": 1.5}')
        elif i % 131 == 7:
            lines.append("not json at all")
        elif i % 211 == 3:
            lines.append("")
        else:
            p = rng.randint(1, 300_000)
            rec = {"model": rng.choice(MODELS), "prompt_tokens": p, "completion_tokens": rng.randint(0, 4000),
                   "cache_read_input_tokens": rng.randint(0, p // 2), "duration_s": rng.random() * 5,
                   "team": rng.choice(["a", "b", "c"]), "tags": rng.sample(["x", "y", "z"], 2),
                   "timestamp": 1767323045 + i * 3600}
            lines.append(json.dumps(rec))
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_the_file_is_really_cut_into_spans(usage):
    spans = parallel.plan([usage], 2)
    assert spans is not None and len(spans) > 2
    assert spans[0][1] == 0 and spans[0][3] == 1
    # every span starts where the previous one ends, at the first byte of the line it numbers
    with open(usage, "rb") as fh:
        data = fh.read()
    for (_, start, end, first), (_, nstart, _, _) in itertools.pairwise(spans):
        assert end == nstart
        assert data[start - 1:start] in (b"", b"\n")
        assert data[:start].count(b"\n") + 1 == first


@pytest.mark.parametrize("args", [
    ["-f", "json", "-g", "team", "-g", "model"],
    ["-f", "json", "-g", "tag"],
    ["-f", "jsonl"],
    ["-f", "csv", "--per-record"],
    ["-f", "csv", "-g", "day"],
    ["-f", "markdown", "-g", "model"],
    ["-f", "html", "-g", "team"],
    ["--explain"],
    ["-f", "json", "--since", "2026-01-20", "--until", "2026-03-01"],
])
@pytest.mark.parametrize("keep_rejects", [True, False])
def test_jobs_2_output_is_identical_to_jobs_1(capsys, tmp_path, usage, args, keep_rejects):
    # without --rejects an aggregate run numbers lines per span and shifts them after the merge
    outputs = []
    for jobs in ("1", "2"):
        rejects = tmp_path / f"rejects-{jobs}.txt"
        extra = ["--rejects", str(rejects)] if keep_rejects else []
        code = main(["price", usage, "--config", CONFIG, "--jobs", jobs, *extra, *args])
        out, err = capsys.readouterr()
        outputs.append((code, out, err, rejects.read_bytes() if keep_rejects else b""))
    assert outputs[0] == outputs[1]
    if keep_rejects:
        rejected = outputs[0][3].count(b"\n# ") + outputs[0][3].startswith(b"# ")
        assert rejected == BAD_COUNTS + NOT_JSON  # every bad line, once


def test_json_accounting_is_complete_in_parallel(capsys, usage):
    main(["price", usage, "--config", CONFIG, "--jobs", "2", "-f", "json"])
    acc = json.loads(capsys.readouterr().out)["accounting"]
    assert acc["read"] == 4000 - BLANK  # blank lines are not records
    assert acc["rejected"] == BAD_COUNTS + NOT_JSON
    assert acc["priced"] + acc["unpriced"] + acc["rejected"] + acc["skipped"] + acc["filtered"] == acc["read"]


_HUNG_WORKER = """
import signal, time
from costcalc.engines import parallel

parallel.ENDING_GRACE = 0.5

def work(item):
    if item == 1:  # a worker that will not end on SIGTERM, as one forked while another thread held a lock
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(600)
    return item

results = parallel.run([0, 1], 2, work)
print(next(results))
results.close()  # the caller stops early: the pool must end although one worker ignores SIGTERM
print("ended")
"""


def test_a_worker_that_ignores_sigterm_does_not_hang_the_run():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _HUNG_WORKER], capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT / "src")})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "ended"]
