"""De-duplication by request id without remembering every id: the ids met on more than one line are found by one
DuckDB scan (engines/request_ids.py); the DuckDB engine sums records with the others in its fast lane, and both
engines remember only the repeated ones. Every run keeps the same record of each id as the Python engine that
remembers every id (the reference), on files, folders, overlapping exports and windows, record by record."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from costcalc.cli import main
from costcalc.engines.choose import DUCKDB_IDS_MIN_BYTES, DUCKDB_MIN_BYTES, SPEND_LOGS_MIN_BYTES, choose_engine
from costcalc.engines.duckdb_engine import KeySpec, run_aggregate
from costcalc.engines.request_ids import first_lines_carry_ids, repeated_request_ids
from costcalc.engines.streaming import PricingEngine
from costcalc.rates.costmap import load_cost_map
from costcalc.reports import run as run_module
from costcalc.reports.aggregate import ReportBuilder
from costcalc.reports.run import PriceRun

from .conftest import ROOT

SAMPLE_CONFIG = str(ROOT / "sample_data" / "config.yaml")
TEAMS = ["search", "agents", "support"]


def _line(rng: random.Random, i: int, ids: list[str]) -> str:
    """A canonical record whose request id (under any of the keys request_id reads, as any JSON type) is often
    one an earlier line had; the copies differ in tokens and team, so which one is kept shows in the report."""
    rec: dict = {"model": rng.choice(["gpt-4o", "gpt-4o-mini", "claude-haiku-4-5-20251001"]),
                 "prompt_tokens": rng.randint(1, 9000), "completion_tokens": rng.randint(0, 900),
                 "team": rng.choice(TEAMS), "timestamp": 1760000000 + 60 * i}
    rid: object = rng.choice(ids) if rng.random() < 0.3 else f"u-{i}"
    kind = rng.random()
    if kind < 0.6:
        rec["request_id"] = rid
    elif kind < 0.7:
        rec["id"] = rid
    elif kind < 0.75:
        rec.update(request_id="", id=rid)
    elif kind < 0.8:
        rec.update(request_id=None, response={"id": rid})
    elif kind < 0.83:
        rec["request_id"] = rng.choice([7, 8, True])  # numbers: "7" as a string is the same id
    elif kind < 0.85:
        rec["request_id"] = "7"
    elif kind < 0.87:
        rec["request_id"] = 2.5  # not an id: the record has none
    elif kind < 0.89:
        rec.update(request_id=rid, call_type="acompletion")  # a spend-log row: the Python engine reads it
    text = json.dumps(rec)
    if rng.random() < 0.02:
        return text.replace('"prompt_tokens": ', '"prompt_tokens": -')  # rejected: its id is not counted
    return text


def _corpus(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    ids = [f"req-{i}" for i in range(n // 4)]
    return [_line(rng, i, ids) for i in range(n)]


def _write(path: Path, lines: list[str]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    else:
        path.write_text("\n".join(lines) + "\n")
    return str(path)


def _layouts(tmp_path: Path, layout: str) -> list[str]:
    lines = _corpus(11, 1200)
    if layout == "one file":
        return [_write(tmp_path / "usage.jsonl", lines)]
    if layout == "overlapping exports":  # the second export repeats the last 300 lines of the first
        return [_write(tmp_path / "mon.jsonl", lines[:700]), _write(tmp_path / "tue.jsonl.gz", lines[400:])]
    # a folder of exports, read in name order, one of them again at the end
    folder = tmp_path / "logs"
    _write(folder / "a.jsonl", lines[:500])
    _write(folder / "b" / "c.jsonl", lines[500:900])
    _write(folder / "d.jsonl", lines[900:])
    return [str(folder), str(folder / "a.jsonl")]


def _run(capsys, monkeypatch, args: list[str], engine: str, prepass: bool) -> tuple[int, str, str]:
    # the reference remembers every id: inputs below REPEATED_MIN_BYTES skip the scan for repeated ids
    monkeypatch.setattr(run_module, "REPEATED_MIN_BYTES", 0 if prepass else 1 << 62)
    code = main([*args, "--engine", engine])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("layout", ["one file", "overlapping exports", "folder"])
@pytest.mark.parametrize("extra", [[], ["--since", "2025-10-09T09:20:00Z"], ["--until", "2025-10-09T18:00:00Z"]])
def test_every_engine_keeps_the_record_the_python_engine_keeps(capsys, monkeypatch, tmp_path, layout, extra):
    paths = _layouts(tmp_path, layout)
    # one group per request id (and per team): the report shows, id by id, the tokens of the record kept
    args = ["price", *paths, "--config", SAMPLE_CONFIG, "--format", "json", "-g", "request_id", "-g", "team",
            "-g", "id", *extra]
    reference = _run(capsys, monkeypatch, args, "python", prepass=False)
    assert reference[0] == 0
    doc = json.loads(reference[1])
    assert doc["accounting"]["duplicates"] > 30
    assert _run(capsys, monkeypatch, args, "python", prepass=True) == reference
    assert _run(capsys, monkeypatch, args, "duckdb", prepass=True) == reference


@pytest.mark.parametrize("fmt", ["jsonl", "csv-records"])
def test_per_record_outputs_mark_the_same_duplicates(capsys, monkeypatch, tmp_path, fmt):
    paths = _layouts(tmp_path, "overlapping exports")
    args = ["price", *paths, "--config", SAMPLE_CONFIG, "--format", fmt]
    if fmt == "csv-records":
        args[-1:] = ["csv", "--per-record"]
    reference = _run(capsys, monkeypatch, args, "python", prepass=False)
    assert reference[0] == 0 and "duplicate of" in reference[1]
    assert _run(capsys, monkeypatch, args, "python", prepass=True) == reference


def test_the_python_engine_remembers_only_the_repeated_ids(monkeypatch, tmp_path):
    # 3 ids met twice (a, b, and the number 7 as "7"), 1 three times (c), 4 met once: only the first 4 are held
    lines = ['{"model": "gpt-4o", "prompt_tokens": 10, "request_id": "a"}',
             '{"model": "gpt-4o", "prompt_tokens": 10, "request_id": "b"}',
             '{"model": "gpt-4o", "prompt_tokens": 10, "id": "c"}',
             '{"model": "gpt-4o", "prompt_tokens": 10, "request_id": "once-1"}',
             '{"model": "gpt-4o", "prompt_tokens": 10, "request_id": 7}',
             '{"model": "gpt-4o", "prompt_tokens": 20, "request_id": "a"}',
             '{"model": "gpt-4o", "prompt_tokens": 20, "response": {"id": "c"}}',
             '{"model": "gpt-4o", "prompt_tokens": 10, "request_id": "once-2"}',
             '{"model": "gpt-4o", "prompt_tokens": 10, "request_id": "", "id": "once-3"}',
             '{"model": "gpt-4o", "prompt_tokens": 30, "request_id": "c"}',
             '{"model": "gpt-4o", "prompt_tokens": 20, "request_id": "b"}',
             '{"model": "gpt-4o", "prompt_tokens": 20, "request_id": "7"}',
             '{"model": "gpt-4o", "prompt_tokens": 10, "request_id": "once-4"}']
    path = _write(tmp_path / "u.jsonl", lines)
    assert repeated_request_ids([path]) == {"a", "b", "c", "7"}
    monkeypatch.setattr(run_module, "REPEATED_MIN_BYTES", 0)
    engine = PricingEngine(load_cost_map())
    report = PriceRun(engine, lambda: ReportBuilder(("model",), dedupe=True)).execute([path], None, None)
    assert sorted(report.request_ids) == ["7", "a", "b", "c"]
    # 13 records, 5 duplicates (a, c twice, b, "7"); 10+10+10+10+10+10+10+10 = 80 prompt tokens kept
    assert (report.accounting.read, report.accounting.priced, report.accounting.duplicates) == (13, 8, 5)
    assert sum(g.tokens[0] for g in report.groups.values()) == 80  # TOKEN_PARTS[0]: input


def test_the_duckdb_fast_lane_sums_records_whose_id_is_met_once(tmp_path):
    lines = [f'{{"model": "gpt-4o", "prompt_tokens": {i + 1}, "request_id": "r{i % 90}"}}' for i in range(100)]
    path = _write(tmp_path / "u.jsonl", lines)
    repeated = repeated_request_ids([path])
    # ids r0..r9 are met twice: their 20 lines go to the Python engine, the other 80 are summed in SQL
    assert repeated == {f"r{i}" for i in range(10)}
    done = run_aggregate(PricingEngine(load_cost_map()), [path], [KeySpec("model")], dedupe=True, repeated=repeated)
    assert sum(row.count for row in done.sums) == 80
    assert [len(entry[2]) for entry in done.files] == [20]


@pytest.mark.parametrize("case", ["array", "bom", "stdin"])
def test_inputs_duckdb_cannot_vouch_for_remember_every_id(tmp_path, case):
    if case == "array":
        path = tmp_path / "spend.json"
        path.write_text('[{"model": "gpt-4o", "prompt_tokens": 1, "request_id": "a"}]\n')
    elif case == "bom":  # Python reads a line that starts with a BOM, DuckDB does not
        path = tmp_path / "u.jsonl"
        path.write_bytes(b'{"model": "gpt-4o", "prompt_tokens": 1, "request_id": "a"}\n'
                         b'\xef\xbb\xbf{"model": "gpt-4o", "prompt_tokens": 1, "request_id": "a"}\n')
    assert repeated_request_ids(["-" if case == "stdin" else str(path)]) is None


def test_a_bom_line_with_a_repeated_id_is_a_duplicate_in_both_engines(capsys, monkeypatch, tmp_path):
    path = tmp_path / "u.jsonl"
    path.write_bytes(b'{"model": "gpt-4o", "prompt_tokens": 1, "request_id": "a"}\n'
                     b'\xef\xbb\xbf{"model": "gpt-4o", "prompt_tokens": 2, "request_id": "a"}\n')
    args = ["price", str(path), "--format", "json"]
    reference = _run(capsys, monkeypatch, args, "python", prepass=False)
    assert json.loads(reference[1])["accounting"]["duplicates"] == 1
    assert _run(capsys, monkeypatch, args, "duckdb", prepass=True) == reference
    assert _run(capsys, monkeypatch, args, "python", prepass=True) == reference


def test_auto_picks_duckdb_for_canonical_records_and_python_for_other_shapes(tmp_path):
    canonical = tmp_path / "canonical.jsonl"
    spend = tmp_path / "spend.jsonl"
    rng = random.Random(1)
    with canonical.open("w") as f, spend.open("w") as g:
        for i in range(60_000):
            f.write(json.dumps({"model": "gpt-4o", "prompt_tokens": rng.randint(1, 999), "completion_tokens": 5,
                                "request_id": f"chatcmpl-{i:032d}"}) + "\n")
            g.write(json.dumps({"request_id": f"req-{i:032d}", "call_type": "acompletion", "model": "gpt-4o",
                                "model_group": "gpt4o", "prompt_tokens": 5, "completion_tokens": 1,
                                "metadata": json.dumps({"user_api_key_team_alias": "search"})}) + "\n")
    assert canonical.stat().st_size > DUCKDB_MIN_BYTES and spend.stat().st_size > DUCKDB_MIN_BYTES

    def pick(requested: str, path: Path) -> str:
        return choose_engine(requested, [str(path)], database=False, aggregate=True).engine

    assert pick("auto", canonical) == "duckdb"
    # de-duplicating ids adds a scan: below DUCKDB_IDS_MIN_BYTES the Python engine is the faster (benchmarks)
    assert canonical.stat().st_size < DUCKDB_IDS_MIN_BYTES
    assert choose_engine("auto", [str(canonical)], database=False, aggregate=True, dedupe=True).engine == "python"
    assert choose_engine("duckdb", [str(canonical)], database=False, aggregate=True, dedupe=True).engine == "duckdb"
    # spend-log rows: DuckDB's scan wins from SPEND_LOGS_MIN_BYTES (engines/choose.py); below it auto keeps the
    # Python engine
    assert spend.stat().st_size < SPEND_LOGS_MIN_BYTES
    assert pick("auto", spend) == "python"
    assert pick("duckdb", spend) == "duckdb"


def test_auto_picks_duckdb_for_spend_log_rows_from_their_size_and_never_for_payloads(tmp_path):
    """Spend-log rows with metadata as text take DuckDB's spend-log scan from SPEND_LOGS_MIN_BYTES on; standard
    logging payloads (metadata an object), which that scan leaves to the Python engine line by line, never do."""
    row = {"request_id": "req-0", "call_type": "acompletion", "model": "gpt-4o", "model_group": "gpt4o",
           "prompt_tokens": 5, "completion_tokens": 1, "metadata": json.dumps({"user_api_key_team_alias": "search"})}
    payload = {**row, "id": "req-0", "metadata": {"user_api_key_team_alias": "search"}}
    files = {}
    for name, value in (("rows", row), ("payloads", payload)):
        for size in ("small", "big"):
            path = tmp_path / f"{name}-{size}.jsonl"
            with path.open("w") as fh:
                fh.writelines(json.dumps({**value, "request_id": f"req-{i}"}) + "\n" for i in range(200))
                if size == "big":
                    fh.truncate(SPEND_LOGS_MIN_BYTES)  # (the rule reads the first lines and the size)
            files[name, size] = str(path)

    def pick(path: str) -> str:
        return choose_engine("auto", [path], database=False, aggregate=True, dedupe=True).engine

    assert pick(files["rows", "small"]) == "python"
    assert pick(files["rows", "big"]) == "duckdb"
    assert pick(files["payloads", "small"]) == "python"
    assert pick(files["payloads", "big"]) == "python"
    # per-record output and --where filters stay with the Python engine at any size
    assert choose_engine("auto", [files["rows", "big"]], database=False, aggregate=False).engine == "python"
    assert choose_engine("auto", [files["rows", "big"]], database=False, aggregate=True,
                         filters=True).engine == "python"


def test_a_file_of_another_shape_is_streamed_by_the_python_engine_whole(capsys, monkeypatch, tmp_path):
    from costcalc.engines import duckdb_engine

    # provider responses (OpenAI chat completions, their id the request id): a shape no DuckDB lane takes
    rows = [{"id": f"chatcmpl-r{i % 25}", "object": "chat.completion", "model": "gpt-4o",
             "usage": {"prompt_tokens": 10 + i, "completion_tokens": 1}} for i in range(30)]
    lines = [json.dumps(r) for r in rows] + ['{"model": "gpt-4o", "prompt_tokens": 5}'] * 4
    path = _write(tmp_path / "responses.jsonl", lines)
    monkeypatch.setattr(duckdb_engine, "_MAX_PYTHON_LINES", 20)
    done = run_aggregate(PricingEngine(load_cost_map()), [path], [KeySpec("model")], dedupe=True,
                         repeated=repeated_request_ids([path]))
    # 30 of 34 lines are responses: past 20 and half the file, the file is read whole by Python
    assert done.files == [("python", path)] and done.sums == []
    args = ["price", path, "--format", "json", "-g", "model"]
    reference = _run(capsys, monkeypatch, args, "python", prepass=False)
    assert json.loads(reference[1])["accounting"]["duplicates"] == 5
    assert _run(capsys, monkeypatch, args, "duckdb", prepass=True) == reference


def test_inputs_whose_first_lines_carry_no_id_skip_the_scan(tmp_path):
    plain = _write(tmp_path / "plain.jsonl", ['{"model": "gpt-4o", "prompt_tokens": 5}'] * 10)
    with_id = _write(tmp_path / "ids.jsonl.gz", ['{"model": "gpt-4o", "prompt_tokens": 5, "id": "chatcmpl-1"}'])
    assert not first_lines_carry_ids([plain])
    assert first_lines_carry_ids([plain, with_id])


def test_with_repeated_ids_the_default_plan_is_one_process(monkeypatch, tmp_path):
    # a request met in two spans would make a parallel run price again in one process: with repeated ids known,
    # the default plan starts there; --jobs N asked for by name still tries
    lines = [f'{{"model": "gpt-4o", "prompt_tokens": {i + 1}, "request_id": "r{i % 40}"}}' for i in range(50)]
    path = _write(tmp_path / "u.jsonl", lines)
    monkeypatch.setattr(run_module, "REPEATED_MIN_BYTES", 0)
    planned: list = []
    monkeypatch.setattr(run_module.parallel, "plan", lambda *a, **k: planned.append(a[1]))
    engine = PricingEngine(load_cost_map())
    report = PriceRun(engine, lambda: ReportBuilder(("model",), dedupe=True)).execute([path], None, None, jobs=None)
    assert planned == [] and report.accounting.duplicates == 10
    PriceRun(engine, lambda: ReportBuilder(("model",), dedupe=True)).execute([path], None, None, jobs=2)
    assert planned == [2]


def test_a_large_file_of_another_shape_is_not_scanned(capsys, monkeypatch, tmp_path):
    from costcalc.engines import duckdb_engine

    rows = [json.dumps({"id": f"chatcmpl-r{i}", "object": "chat.completion", "model": "gpt-4o",
                        "usage": {"prompt_tokens": 10 + i, "completion_tokens": 1}}) for i in range(6)]
    path = _write(tmp_path / "responses.jsonl", rows)
    monkeypatch.setattr(duckdb_engine, "_OTHER_SHAPE_MIN_BYTES", 0)
    monkeypatch.setattr(duckdb_engine, "scan_sql", lambda *a, **k: pytest.fail("scanned"))
    done = run_aggregate(PricingEngine(load_cost_map()), [path], [KeySpec("model")], dedupe=True, repeated=set())
    assert done.files == [("python", path)]
    args = ["price", path, "--format", "json"]
    assert _run(capsys, monkeypatch, args, "duckdb", prepass=True) == _run(capsys, monkeypatch, args, "python",
                                                                          prepass=False)
