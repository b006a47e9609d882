"""--jobs N with de-duplication: every span keeps or drops a repeated request as one process would (the first
occurrence in read order is kept), with byte-identical output to --jobs 1 and no second run in one process."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from costcalc.engines import parallel
from costcalc.engines.request_ids import repeated_request_ids
from costcalc.reports import run as run_module

from .runner import main

ROWS = 3000
BOM = "\ufeff"


def _row(n: int, i: int, prompt: int = 1000) -> str:
    # a LiteLLM spend-log row, gpt-4o at the public map's prices: 1000 × 2.5e-6 + 100 × 1e-5 = 0.0035; every row
    # of one byte length (fixed-width id and time), so that swapping ids keeps the cut of the file
    when = f"2026-03-{1 + i // 1440:02d}T{(i // 60) % 24:02d}:{i % 60:02d}:00Z"
    return json.dumps({"request_id": f"r{n:05d}", "call_type": "acompletion", "model": "gpt-4o",
                       "model_group": "gpt-4o", "custom_llm_provider": "openai", "prompt_tokens": prompt,
                       "completion_tokens": 100, "startTime": when, "endTime": when,
                       "metadata": {"user_api_key_team_alias": ["search", "voice"][i % 2]}})


def _write(path, lines: list[str], bom: bool, truncated: bool) -> None:
    text = "\n".join(lines)
    if truncated:
        text += '\n{"request_id": "r00001", "model": "gpt-4o", "prompt_tok'  # the export stopped mid-line
    else:
        text += "\n"
    path.write_text((BOM if bom else "") + text, encoding="utf-8")


@pytest.fixture(scope="module", params=[False, True], ids=["plain", "bom"])
def logs(request, tmp_path_factory):
    """Rows whose ids repeat across the file (row i has id i mod 2000), a rejected line naming an id that comes
    validly later, lines that are no JSON, blank lines, a truncated last line; and at every place the file is cut
    for --jobs 2 and 3, the line after the cut repeats the id of the line before it."""
    bom = request.param
    lines = [_row(i % 2000, i) for i in range(ROWS)]
    lines.insert(9, _row(500, 9, prompt=1.5))  # line 10: rejected (fractional tokens); r00500 comes at line 502
    lines.insert(20, "not json at all")  # line 21
    lines.insert(40, "")  # line 41, blank
    path = tmp_path_factory.mktemp("dedupe") / ("bom.jsonl" if bom else "spend.jsonl")
    _write(path, lines, bom, truncated=True)
    # rows have one length: repeating an id across each cut leaves the cuts where they are
    starts = {start for jobs in (2, 3) for _, start, _, _ in parallel.plan([str(path)], jobs) or ()} - {0}
    data = path.read_bytes()
    cut_lines = sorted(data[:start].count(b"\n") + 1 for start in starts)  # the first line of each span
    assert len(cut_lines) >= 6
    for line in cut_lines:
        before = json.loads(lines[line - 2])["request_id"]
        lines[line - 1] = lines[line - 1].replace(json.loads(lines[line - 1])["request_id"], before)
    _write(path, lines, bom, truncated=True)
    assert {start for jobs in (2, 3) for _, start, _, _ in parallel.plan([str(path)], jobs)} - {0} == starts
    return str(path), cut_lines


@pytest.fixture(params=["ids known", "every id"])
def repeated_known(request, monkeypatch, logs):
    """Whether the run looks for the repeated ids first (as it does on inputs of 64 MB or more): then the first pass
    of --jobs reads only the lines naming one of them. DuckDB vouches for the set only without a BOM (a BOM and
    lines it cannot parse: every id is remembered, as without the scan). True when the set is found."""
    if request.param == "every id":
        return False
    monkeypatch.setattr(run_module, "REPEATED_MIN_BYTES", 0)
    found = repeated_request_ids([logs[0]])
    assert (found is None) == logs[0].endswith("bom.jsonl")
    return found is not None


def _run(capsys, tmp_path, path: str, jobs: str, args: list[str]) -> tuple[int, str, str, bytes]:
    rejects = tmp_path / f"rejects-{jobs}.txt"
    code = main(["price", path, "--jobs", jobs, "--rejects", rejects, *args])
    out, err = capsys.readouterr()
    return code, out, err, rejects.read_bytes()


@pytest.mark.parametrize("args", [
    ["-f", "jsonl"],
    ["-f", "csv", "--per-record"],
    ["-f", "json", "-g", "team"],
    ["-f", "jsonl", "--since", "2026-03-01T12:00:00Z"],
    ["-f", "jsonl", "--where", "team=voice"],
])
def test_jobs_2_and_3_are_byte_identical_to_jobs_1(capsys, tmp_path, logs, repeated_known, args):
    path, _ = logs
    one = _run(capsys, tmp_path, path, "1", args)
    assert one[0] == 0
    for jobs in ("2", "3"):
        assert _run(capsys, tmp_path, path, jobs, args) == one


def test_the_first_occurrence_in_read_order_is_kept(capsys, tmp_path, logs, repeated_known, monkeypatch):
    path, cut_lines = logs
    calls: list[int | None] = []
    execute = run_module.PriceRun.execute

    def counted(self, paths, out, rejects_out, jobs=1):
        calls.append(jobs)
        return execute(self, paths, out, rejects_out, jobs)

    monkeypatch.setattr(run_module.PriceRun, "execute", counted)
    naming, marks = run_module._lines_naming, tmp_path / "naming"  # called in forked workers: marked in a file

    def lines_naming(span, ids):
        with marks.open("a") as fh:
            fh.write("x")
        return naming(span, ids)

    monkeypatch.setattr(run_module, "_lines_naming", lines_naming)
    code, out, _, rejects = _run(capsys, tmp_path, path, "2", ["-f", "jsonl"])
    assert code == 0 and calls == [2]  # priced in the workers once: no second run in one process
    assert marks.exists() == repeated_known  # with the repeated ids known, the first pass reads their lines only
    records = [json.loads(line) for line in out.splitlines()]
    by_line = {r["line"]: r for r in records}
    # lines: 1-9 rows 0-8, 10 rejected, 11-20 rows 9-18, 21 not JSON, 22-40 rows 19-37, 41 blank, 42- rows 38-
    priced_at = {r["request_id"]: r["line"] for r in records if r["status"] == "priced"}

    def id_of(line: int) -> str:
        r = by_line[line]
        return r["request_id"] if r["status"] == "priced" else r["reason"].rsplit(" ", 1)[1].rstrip(")")

    for line in cut_lines:  # the line after each cut repeats the one before it; the id's first line is kept
        rid = id_of(line - 1)
        assert by_line[line]["status"] == "skipped" and priced_at[rid] < line
        assert by_line[line]["reason"] == f"duplicate of {path}:{priced_at[rid]} (same request id {rid})"
    # r00500: the rejected line 10 does not count; row 500 (line 504) is the first, row 2500 (line 2504) repeats it
    assert by_line[504]["request_id"] == "r00500" and by_line[504]["status"] == "priced"
    assert by_line[2504]["reason"] == f"duplicate of {path}:504 (same request id r00500)"
    # rejected lines keep the file's own line numbers: 10, 21 and the truncated last line
    last = ROWS + 3 + 1
    assert sorted(r["line"] for r in records if r["status"] == "rejected") == [10, 21, last]
    assert f"{path}:10:" in rejects.decode() and f"{path}:{last}:" in rejects.decode()
    # rows 2000-2999 repeat rows 0-999; each cut repeats one id more (when its row was not a repeat already)
    duplicates = sum(1 for r in records if r["status"] == "skipped")
    priced = [r for r in records if r["status"] == "priced"]
    assert len(priced) + duplicates == ROWS and len(priced) == len({r["request_id"] for r in priced})
    assert 1000 + len(cut_lines) >= duplicates > 1000
    # the report's total is the sum of the records' costs, exact: 0.0035 each
    main(["price", path, "--jobs", "2", "-f", "json"])
    doc = json.loads(capsys.readouterr().out, parse_float=Decimal)
    assert doc["accounting"]["duplicates"] == duplicates
    assert doc["totals"]["cost"]["total"] == Decimal("0.0035") * len(priced)
    assert sum(Decimal(str(r["cost"])) for r in priced) == Decimal("0.0035") * len(priced)
