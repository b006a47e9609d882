"""LiteLLM spend-log rows and standard logging payloads through the DuckDB engine's scan
(engines/duckdb_spendlogs.py) against the Python engine (the reference): the same report, byte for byte, on the
generated spend-log corpus in every form a file holds it (metadata and tags as JSON text, as objects, payloads),
over files, folders and overlapping exports, for the group keys the rows carry; and on hostile rows, each of
which either takes the fast lane and is priced alike or is left to the Python engine, which judges it."""

from __future__ import annotations

import json
import random
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from costcalc.engines.contract import KeySpec
from costcalc.engines.duckdb_engine import SPEND_LOG, run_aggregate
from costcalc.engines.request_ids import repeated_request_ids
from costcalc.engines.streaming import PricingEngine
from costcalc.rates.config import load_config
from costcalc.rates.costmap import load_cost_map
from costcalc.reading.jsonl import read_usage
from costcalc.reading.records import UsageRecord

from .conftest import ROOT
from .spendlog_data import generate
from .test_duckdb_engine import both

SAMPLE_CONFIG = str(ROOT / "sample_data" / "config.yaml")
GROUPS = [["team"], ["key"], ["user"], ["tag"], ["metadata.project"], ["day", "model"], ["team", "tag", "month"],
          ["deployment"], ["provider"]]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def export_rows(rows: list[dict[str, Any]], *, as_text: bool) -> list[dict[str, Any]]:
    """Rows as a JSONL export holds them: times as ISO text, ``metadata`` and ``request_tags`` as JSON text (a
    database export) or as objects (``/spend/logs``)."""
    out = []
    for r in rows:
        row = {k: _plain(v) for k, v in r.items()}
        if as_text:
            for k in ("metadata", "request_tags"):
                if row[k] is not None:
                    row[k] = json.dumps(row[k])
        out.append(row)
    return out


def payloads(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same calls as standard logging payloads: the id under ``id``, the booked cost as ``response_cost``,
    epoch-second times, the cost breakdown beside the row, metadata an object."""
    out = []
    for r in rows:
        p = {k: _plain(v) for k, v in r.items() if k not in ("request_id", "spend", "metadata")}
        p.update(id=r["request_id"], response_cost=r["spend"], startTime=r["startTime"].timestamp(),
                 endTime=r["endTime"].timestamp(), cache_hit=r["cache_hit"] == "True")
        metadata = r["metadata"]
        if isinstance(metadata, dict):
            metadata = dict(metadata)
            breakdown = metadata.pop("cost_breakdown", None)
            if breakdown is not None:
                p["cost_breakdown"] = breakdown
        p["metadata"] = metadata
        out.append(p)
    return out


def _write(path: Path, rows: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def _lanes(paths: list[str], specs: list[KeySpec]) -> tuple[int, int, int]:
    """(records DuckDB summed, rows it counted as skipped, lines it left to the Python engine) for ``paths``."""
    engine = PricingEngine(load_cost_map(), load_config(SAMPLE_CONFIG))
    run = run_aggregate(engine, paths, specs, dedupe=True, repeated=repeated_request_ids(paths))
    assert all(entry[0] == "duckdb" for entry in run.files), run.python_reasons
    return (sum(s.count for s in run.sums) + sum(n for _, n in run.unpriced), run.skipped,
            sum(len(entry[2]) for entry in run.files))


@pytest.mark.parametrize("group", GROUPS)
def test_database_export_rows_give_the_same_report(capsys, tmp_path, group):
    rows = export_rows(generate(600, seed=11), as_text=True)
    usage = _write(tmp_path / "spend.jsonl", rows)
    args = ["price", usage, "--config", SAMPLE_CONFIG, "--format", "json"]
    for g in group:
        args += ["-g", g]
    code, out, _ = both(capsys, *args)
    doc = json.loads(out)
    assert code == 0 and doc["accounting"]["read"] == 600
    assert doc["accounting"]["skipped"] > 20 and doc["accounting"]["rejected"] > 10


def test_most_export_rows_take_the_fast_lane(tmp_path):
    """The corpus's ordinary rows are summed in SQL, its cache hits and failures counted there; only the rows the
    generator made odd (1-hour cache writes, whole-number floats, images, batches, bad metadata...) and the
    rows of models the query does not price are left to the Python engine."""
    rows = export_rows(generate(600, seed=11), as_text=True)
    usage = _write(tmp_path / "spend.jsonl", rows)
    summed, skipped, left = _lanes([usage], [KeySpec("record", ("team_alias",))])
    assert summed + skipped + left == 600
    failures = sum(r["status"] == "failure" or r["cache_hit"] == "True" for r in rows)
    assert skipped == failures
    assert summed > 300 and left < 200


@pytest.mark.parametrize("form", ["objects", "payloads", "mixed"])
def test_other_forms_of_the_rows_give_the_same_report(capsys, tmp_path, form):
    calls = generate(400, seed=12)
    if form == "objects":
        rows = export_rows(calls, as_text=False)
    elif form == "payloads":
        rows = payloads(calls)
    else:
        rows = [r for i, r in enumerate(zip(export_rows(calls, as_text=True), payloads(calls)))
                for r in [r[i % 2]]]
    usage = _write(tmp_path / f"{form}.jsonl", rows)
    for group in (["team"], ["tag", "key"]):
        code, out, _ = both(capsys, "price", usage, "--config", SAMPLE_CONFIG, "--format", "json",
                            *[a for g in group for a in ("-g", g)])
        assert code == 0 and json.loads(out)["accounting"]["read"] == 400


def test_overlapping_exports_and_folders_count_each_request_once(capsys, tmp_path):
    """Two exports that share a day of rows, in a folder and as files in either order: the first row of each
    request id is kept, the rest counted as duplicates, as the Python engine does."""
    rows = export_rows(generate(500, seed=13), as_text=True)
    folder = tmp_path / "exports"
    folder.mkdir()
    first = _write(folder / "a.jsonl", rows[:300])
    second = _write(folder / "b.jsonl", rows[200:])
    # the shared rows that are records (cache hits, failures and rejected lines are not de-duplicated)
    shared = sum(isinstance(r, UsageRecord) for r in read_usage([_write(tmp_path / "shared.jsonl", rows[200:300])]))
    assert 80 < shared < 100
    for paths in ([first, second], [second, first], [str(folder)]):
        code, out, _ = both(capsys, "price", *paths, "--config", SAMPLE_CONFIG, "--format", "json", "-g", "team")
        doc = json.loads(out)
        assert code == 0 and doc["accounting"]["duplicates"] == shared
    summed, _, left = _lanes([first, second], [KeySpec("record", ("team_alias",))])
    assert summed > 300  # the ids met once are summed in SQL; the 100 repeated ones go to the Python engine
    assert left >= 200


ROW = {"request_id": "r-0", "call_type": "acompletion", "spend": 0.0125, "prompt_tokens": 1000,
       "completion_tokens": 200, "startTime": "2026-03-01T08:00:00.120000+00:00",
       "endTime": "2026-03-01T08:00:02.500000+00:00", "model": "gpt-4o", "model_id": "", "model_group": "gpt4o",
       "custom_llm_provider": "openai", "user": "alice", "cache_hit": "False", "status": "success",
       "team_id": "team-uuid-1", "request_tags": "[\"prod\"]",
       "metadata": json.dumps({"user_api_key_team_alias": "agents", "user_api_key_alias": "ci-bot",
                               "usage_object": {"prompt_tokens": 1000, "completion_tokens": 200,
                                                "prompt_tokens_details": {"cached_tokens": 400},
                                                "completion_tokens_details": {"reasoning_tokens": 50}}})}


def _meta(**change: Any) -> str:
    m = json.loads(ROW["metadata"])
    m.update(change)
    return json.dumps(m)


# Each: a change to the row above (None removes the key), or a whole line of text.
HOSTILE: list[Any] = [
    {},  # the ordinary row
    {"metadata": "hello"},  # text that is not JSON (not even starting like it): priced without details
    {"metadata": "{\"user_api_key_team_alias\": \"agents\""},  # JSON text cut short: rejected
    {"metadata": 5},  # a number: priced without details
    {"metadata": ["usage_object"]},  # a list
    {"metadata": None},
    {"metadata": _meta(usage_object="{}")},  # a string where the usage object belongs: rejected
    {"metadata": _meta(usage_object=None, additional_usage_values={"prompt_tokens_details": {"cached_tokens": 7}})},
    {"metadata": _meta(usage_object={"prompt_tokens": 999})},  # disagrees with the row: rejected
    {"metadata": _meta(usage_object={"prompt_tokens_details": {"cached_tokens": 400.0}})},  # whole: accepted
    {"metadata": _meta(usage_object={"prompt_tokens_details": {"cached_tokens": "400"}})},  # text: rejected
    {"metadata": _meta(usage_object={"prompt_tokens_details": {"cached_tokens": 2000}})},  # over the prompt
    {"metadata": _meta(usage_object={"prompt_tokens_details": {"cache_creation_token_details": {
        "ephemeral_1h_input_tokens": 10}, "cache_creation_tokens": 20}})},  # 1-hour writes
    {"metadata": _meta(usage_object={"completion_tokens_details": {"image_tokens": 3}})},  # a rate of its own
    {"metadata": _meta(usage_object={"prompt_cache_hit_tokens": 10, "prompt_tokens": 1000})},
    {"metadata": _meta(usage_object={"service_tier": "flex"})},
    {"metadata": _meta(usage_object={"service_tier": 3})},  # a tier that is not text: rejected
    {"metadata": _meta(usage_object={"service_tier": "flex"}, cost_breakdown={"total_cost": 0.1,
                                                                              "service_tier": "priority"})},
    {"metadata": _meta(usage_object={"service_tier": "flex"}, cost_breakdown={"total_cost": None,
                                                                              "service_tier": "priority"})},
    {"metadata": _meta(cost_breakdown={"total_cost": 0.1, "service_tier": None}, usage_object={
        "service_tier": "flex"})},
    {"metadata": _meta(user_api_key_team_alias="\u00e9quipe \u2603")},  # non-ASCII, written as \u escapes
    {"metadata": _meta(user_api_key_team_alias=7)},
    {"metadata": _meta(user_api_key_team_alias=None)},
    {"metadata": _meta(tags=["from-metadata"])},
    {"metadata": ROW["metadata"].replace("}}}", "}},}")},  # a trailing comma in the text: rejected
    {"metadata": ROW["metadata"].replace("1000,", "NaN,", 1)},  # NaN in the text: rejected
    {"metadata": ROW["metadata"].replace('"user_api_key_alias": "ci-bot"',
                                         '"user_api_key_team_alias": "first"')},  # a repeated key: the last wins
    {"metadata": _meta(cost_breakdown={"total_cost": 0.1, "service_tier": "flex"}).replace(
        '"service_tier": "flex"', '"service_tier": "flex", "service_tier": "priority"')},  # the last tier wins
    {"request_tags": "not json"}, {"request_tags": "[\"a\", 1]"}, {"request_tags": ["x", "y"]},
    {"request_tags": "[broken"}, {"request_tags": 5},
    {"model_group": "  "}, {"model_group": None}, {"model_group": ""}, {"model_group": 5},
    {"model_group": None, "model": " gpt-4o "}, {"model_group": None, "model": "openai/gpt-4o"},
    {"model_group": None, "custom_llm_provider": None}, {"model_group": None, "model": None},
    {"model_group": " gpt4o "}, {"model_group": "no-such-model"}, {"model_group": None, "custom_llm_provider": 5},
    {"call_type": "aimage_generation"}, {"call_type": "aretrieve_batch"}, {"call_type": 5}, {"call_type": None},
    {"call_type": ""}, {"call_type": "embedding"}, {"call_type": "text_completion"},
    {"call_type": "pass_through_endpoint"}, {"call_type": "arun_thread"},
    {"metadata": _meta(cost_breakdown={"total_cost": 0.1, "tool_usage_cost": 0.01})},  # a booked tool charge
    {"metadata": _meta(usage_object={"server_tool_use": {"web_search_requests": 2}})},
    {"metadata": _meta(usage_object={"prompt_tokens_details": {"web_search_requests": 0}})},
    {"call_type": "atext_completion", "model_group": None, "model": "gpt-3.5-turbo-instruct"},
    {"cache_hit": True}, {"cache_hit": "TRUE"}, {"cache_hit": "true", "call_type": 5}, {"status": "failure"},
    {"status": "Failure"}, {"status": "failure", "model_group": None, "model": None},
    {"spend": "0.1"}, {"spend": -1}, {"spend": 1e13}, {"spend": 1.2345678901234567e-15}, {"spend": None},
    {"spend": None, "response_cost": 0.5}, {"spend": 0}, {"spend": True}, {"spend": 3},
    {"prompt_tokens": 1000.0}, {"prompt_tokens": -1}, {"prompt_tokens": None}, {"completion_tokens": "200"},
    {"endTime": "2026-03-01T07:59:59+00:00"}, {"endTime": None}, {"startTime": None},
    {"startTime": 1772352000.12, "endTime": 1772352002.5}, {"startTime": "yesterday"},
    {"startTime": "2026-03-01T08:00:00Z", "endTime": "2026-03-01T08:00:00Z"},
    {"model_id": 42}, {"model_id": {"a": 1}}, {"request_id": None}, {"request_id": ""},
    {"duration_s": 3}, {"user": ["x"]}, {"team_id": None},
    '{"request_id": "r-x", "call_type": "acompletion", "model_group": "gpt4o", "prompt_tokens": 5, '
    '"prompt_tokens": 6, "completion_tokens": 1}',  # a repeated top-level key: rejected
    '{"request_id": "r-y", "call_type": "acompletion", "model_group": "gpt4o", "prompt_tokens": 5, '
    '"completion_tokens": 1, "extra": NaN}',  # NaN outside the metadata: rejected
    '{"request_id": "r-z", "call_type": "acompletion", "model_group": "gpt4o", "prompt_tokens": 5, '
    '"completion_tokens": 1, "extra": {"a": 1, "a": 2}}',  # a repeated key in a nested object: rejected
    '\ufeff{"request_id": "r-bom", "call_type": "acompletion", "model_group": "gpt4o", "prompt_tokens": 5, '
    '"completion_tokens": 1}',  # a byte-order mark at the start of a line
    '{"model": "gpt-4o", "prompt_tokens": 10, "completion_tokens": 2}',  # a canonical line among them
    '{"request_id": "r-w", "call_type": "acompletion", "model_group": "gpt4o", "prompt_tokens": 5, '
    '"completion_tokens": 1, "note": "a \\ud800 lone surrogate"}',
    'not json at all',
    # the quick checks of a line's text (engines/duckdb_spendlogs.py: its keys in an order the first lines hold, no
    # sign of a nested object, trailing comma or non-finite number) against the forms that must fail them
    '{"request_id": "r-n1", "call_type": "acompletion", "model_group": "gpt4o", "prompt_tokens": 5, '
    '"completion_tokens": 1, "extra":{"a":1,"a":2}}',  # a nested object without white space, a key repeated
    '{"request_id": "r-n2", "call_type": "acompletion", "model_group": "gpt4o", "prompt_tokens": 5, '
    '"completion_tokens": 1, "extra": [ { "a": 1, "a": 2} ]}',  # in a list, white space inside the braces
    '{"request_id": "r-n3", "call_type": "acompletion", "model_group": "gpt4o", "prompt_tokens": 5, '
    '"completion_tokens": 1, "model\\u005fgroup": "gpt-4o"}',  # a repeated key spelled with an escape
    '{"request_id": "r-n4", "call_type": "acompletion", "model_group": "gpt4o", "prompt_tokens": 5, '
    '"completion_tokens": 1,}',  # a trailing comma, no white space
    '{"request_id": "r-n5", "call_type": "acompletion", "model_group": "gpt4o", "prompt_tokens": 5, '
    '"completion_tokens": 1, "extra": -iNf}',  # infinity in mixed case
    '{"request_id": "r-n6", "call_type": "acompletion", "model_group": "gpt4o", "prompt_tokens": 5, '
    '"completion_tokens": 1, "extra": [1,NaN]}',  # NaN in a list
    {"metadata": {}},  # an empty object (the same as its text)
    {"metadata": json.loads(ROW["metadata"])},  # an object: a payload's metadata
    {"metadata": ROW["metadata"].replace('"user_api_key_team_alias": "agents"',
                                         '"user_api_key_team_alias": "agents", "user_api_key_team_alias": "x"')},
]


def _hostile_lines() -> list[str]:
    lines = []
    for i, case in enumerate(HOSTILE):
        if isinstance(case, str):
            lines.append(case)
            continue
        row = {**ROW, "request_id": f"r-{i}"}
        for k, v in case.items():
            row[k] = v
        lines.append(json.dumps(row))
    return lines


@pytest.mark.parametrize("group", [["team"], ["key", "tag"], ["model"], ["user"], ["day"]])
def test_hostile_rows_give_the_same_report(capsys, tmp_path, group):
    rng = random.Random(5)
    lines = [line for line in _hostile_lines() if not line.startswith("\ufeff")]  # (see the next test)
    usage = tmp_path / "hostile.jsonl"
    # each case among ordinary rows (so the file is a spend-log file), once as the first line and once later;
    # a second file repeats some of the first's rows (an overlapping export)
    ordinary = [json.dumps({**ROW, "request_id": f"ok-{i}"}) for i in range(40)]
    body = lines + ordinary
    rng.shuffle(body)
    usage.write_text("\n".join(body) + "\n")
    again = tmp_path / "again.jsonl"
    again.write_text("\n".join(body[:30]) + "\n")
    for paths in ([str(usage)], [str(usage), str(again)]):
        code, out, _ = both(capsys, "price", *paths, "--config", SAMPLE_CONFIG, "--format", "json",
                            *[a for g in group for a in ("-g", g)])
        doc = json.loads(out)
        assert code == 0
        assert doc["accounting"]["read"] == len(body) + (30 if len(paths) == 2 else 0)
        assert doc["accounting"]["rejected"] >= 10


@pytest.mark.parametrize("where", ["first", "later"])
def test_a_byte_order_mark_gives_the_same_report(capsys, tmp_path, where):
    """A line starting with a byte-order mark (``cat`` of exports written with one): the Python engine reads it;
    DuckDB cannot, so it leaves that line, and (engines/request_ids.py) every row with a request id, to it."""
    bom = next(line for line in _hostile_lines() if line.startswith("\ufeff"))
    ordinary = [json.dumps({**ROW, "request_id": f"ok-{i}"}) for i in range(20)]
    lines = [bom, *ordinary] if where == "first" else [*ordinary[:10], bom, *ordinary[10:], ordinary[3]]
    usage = tmp_path / "bom.jsonl"
    usage.write_text("\n".join(lines) + "\n")
    _, out, _ = both(capsys, "price", str(usage), "--config", SAMPLE_CONFIG, "--format", "json", "-g", "team")
    assert json.loads(out)["accounting"]["priced"] == 21


def test_hostile_rows_outside_the_fast_lane_are_left_to_python(tmp_path):
    """Every row SQL sums is one the Python engine prices; the hostile rows that read otherwise do not take
    the fast lane (so their rejection, or their other reading, is the Python engine's). (Without the line that
    starts with a byte-order mark: in a file holding one, every row with a request id is left to the Python
    engine, engines/request_ids.py.)"""
    lines = [line for line in _hostile_lines() if not line.startswith("\ufeff")]
    usage = tmp_path / "hostile.jsonl"
    usage.write_text("\n".join(lines) + "\n")
    specs = [KeySpec("record", ("team_alias", "user_api_key_team_alias"))]
    summed, skipped, left = _lanes([str(usage)], specs)
    assert summed + skipped + left == len(lines)
    assert skipped == 4  # cache_hit true and "TRUE", status failure twice (the one with no model too)
    assert 10 <= summed <= len(lines) - 40


def test_spend_log_files_are_scanned_as_such(tmp_path):
    from costcalc.engines.duckdb_engine import spend_log_share

    rows = export_rows(generate(50, seed=14), as_text=True)
    assert spend_log_share([_write(tmp_path / "s.jsonl", rows)]) == 1.0
    assert spend_log_share([_write(tmp_path / "p.jsonl", payloads(generate(50, seed=14)))]) == 1.0
    assert spend_log_share([str(ROOT / "sample_data" / "usage.jsonl")]) < 0.5
    assert SPEND_LOG == "spend-log"


def test_a_recorded_cost_is_summed_exactly(capsys, tmp_path):
    """Recorded costs with up to 18 places are summed in SQL as decimals: the report's recorded total is their
    exact sum, as the Python engine's (0.1 + 0.2 + 0.3 = 0.6, not 0.6000000000000001)."""
    rows = [json.dumps({**ROW, "request_id": f"r{i}", "spend": s}) for i, s in enumerate([0.1, 0.2, 0.3])]
    usage = tmp_path / "spend.jsonl"
    usage.write_text("\n".join(rows) + "\n")
    _, out, _ = both(capsys, "price", str(usage), "--config", SAMPLE_CONFIG, "--format", "json")
    assert json.loads(out)["totals"]["recorded"]["recorded_cost"] == 0.6
    summed, _, left = _lanes([str(usage)], [])
    assert (summed, left) == (3, 0)


def test_a_call_priced_by_other_units_is_never_priced_by_tokens_after_a_token_call(capsys, tmp_path):
    """The aggregate loop's shortcut for a model whose rate card is compiled already (reports.aggregate
    ``consume_results``) takes token calls only: an image call to the same deployment after a chat call, or after
    the DuckDB engine compiled that card, is still priced (or left unpriced) as an image call, in input order or
    not."""
    chat = {**ROW, "model_group": "claude-haiku", "model_id": "haiku-direct", "request_id": "chat"}
    image = {**chat, "call_type": "aimage_generation", "request_id": "image"}
    usage = tmp_path / "spend.jsonl"
    usage.write_text(json.dumps(chat) + "\n" + json.dumps(image) + "\n")
    _, out, _ = both(capsys, "price", str(usage), "--config", SAMPLE_CONFIG, "--format", "json")
    doc = json.loads(out)
    assert doc["accounting"]["priced"] == 1 and doc["accounting"]["unpriced"] == 1
    assert doc["unpriced_models"][0]["reason"].startswith("call type 'aimage_generation'")


@pytest.mark.parametrize("spelled", ["message", "m\\u0065ssage"])
def test_a_transcript_message_among_the_rows_sends_the_file_to_python(capsys, tmp_path, spelled):
    """A Claude Code message written twice (streaming) among spend-log rows: the lines the scan leaves to the
    Python engine (kept in a temporary file, not in memory) are checked for one, however its key is spelled, and
    its file is then read by the Python engine whole, so the message is counted once, as that engine counts it."""
    def message(out: int) -> str:
        return ('{"type":"assistant","sessionId":"s","requestId":"req_a","' + spelled + '":{"id":"msg_a",'
                '"model":"claude-haiku-4-5-20251001","usage":{"input_tokens":10,"output_tokens":' + str(out) + '}}}')
    rows = [json.dumps({**ROW, "request_id": f"ok-{i}"}) for i in range(30)]
    usage = tmp_path / "mixed.jsonl"
    usage.write_text("\n".join([*rows[:10], message(1), *rows[10:20], message(90), *rows[20:]]) + "\n")
    engine = PricingEngine(load_cost_map(), load_config(SAMPLE_CONFIG))
    run = run_aggregate(engine, [str(usage)], [KeySpec("record", ("team_alias",))], dedupe=True,
                        repeated=repeated_request_ids([str(usage)]))
    assert run.files == [("python", str(usage))]
    assert run.python_reasons[str(usage)] == "a Claude Code transcript (messages de-duplicated)"
    _, out, _ = both(capsys, "price", str(usage), "--config", SAMPLE_CONFIG, "--format", "json")
    doc = json.loads(out)
    assert doc["accounting"]["priced"] == 31 and doc["accounting"]["read"] == 32
