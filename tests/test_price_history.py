"""Price history: dated configs (``--config DATE=CFG``) per record by timestamp, dated cost-map snapshots kept by
``map update`` and chosen with ``--map-as-of``, and reports that say which config and map priced what.
Per-record dollars under the base config are in tests/audit_data.py."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from costcalc.rates.history import list_snapshots, save_snapshot

from .audit_data import CONFIG, write_world
from .conftest import ROOT
from .runner import main

# From 2026-11-03 the gpt deployment has negotiated prices: $1/M in, $4/M out (the map's are $2/M and $8/M).
NEW_CONFIG = CONFIG.replace("    litellm_params: {model: openai/gpt-4o}\n",
                            "    litellm_params: {model: openai/gpt-4o, input_cost_per_token: 0.000001, "
                            "output_cost_per_token: 0.000004}\n")


def run(tmp_path: Path, capsys, *args: str, configs: tuple[str, ...] | None = None) -> tuple[int, str, str]:
    usage, cfg, cm = write_world(tmp_path)
    new = tmp_path / "new.yaml"
    new.write_text(NEW_CONFIG)
    argv = ["price", usage, "--cost-map", cm]
    for c in configs if configs is not None else (f"2026-11-01={cfg}", f"2026-11-03={new}"):
        argv += ["--config", c.replace("NEW", str(new)).replace("OLD", cfg)]
    code = main([*argv, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_each_record_is_priced_with_the_config_in_force_at_its_time(tmp_path, capsys):
    code, out, _ = run(tmp_path, capsys, "-f", "json", "-g", "day", "-g", "model")
    assert code == 0
    doc = json.loads(out)
    cost = {(g["key"]["day"], g["key"]["model"]): g["cost"]["total"] for g in doc["groups"]}
    # 11-02 under the old config: gpt 0.006 + 0.004, claude 0.0027; 11-03 under the new one:
    # gpt 500 × $1/M + 500 × $4/M = 0.0025 (was 0.005), private unchanged 0.003
    assert cost == {("2026-11-02", "gpt"): 0.01, ("2026-11-02", "claude"): 0.0027,
                    ("2026-11-03", "gpt"): 0.0025, ("2026-11-03", "private"): 0.003}
    configs = doc["priced_with"]["configs"]
    assert [(c["from"], Path(c["config"]).name, c["records"]) for c in configs] == \
        [("2026-11-01", "config.yaml", 3), ("2026-11-03", "new.yaml", 2)]


def test_a_record_before_the_first_date_is_rejected_unless_an_undated_config_is_given(tmp_path, capsys):
    code, out, _ = run(tmp_path, capsys, "-f", "json", configs=("2026-11-03=NEW",))
    assert code == 0
    doc = json.loads(out)
    assert doc["accounting"]["rejected"] == 3 and doc["accounting"]["priced"] == 2
    assert {r["reason"] for r in doc["rejected"]} == {
        "before the first dated --config (2026-11-03) and no undated --config to price it with"}
    assert any("rejected: give an undated --config" in w for w in doc["warnings"])
    code, _, _ = run(tmp_path, capsys, "-f", "json", "--strict", configs=("2026-11-03=NEW",))
    assert code == 1
    # with an undated config too, the earlier records are priced with it
    code, out, _ = run(tmp_path, capsys, "-f", "json", configs=("OLD", "2026-11-03=NEW"))
    doc = json.loads(out)
    assert doc["accounting"]["priced"] == 5
    assert doc["totals"]["cost"]["total"] == 0.0182  # 0.01 + 0.0027 + 0.0025 + 0.003
    assert [c["records"] for c in doc["priced_with"]["configs"]] == [3, 2]


def test_per_record_output_uses_each_record_s_config(tmp_path, capsys):
    code, out, _ = run(tmp_path, capsys, "-f", "jsonl")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    gpt_new = next(r for r in rows if r["line"] == 5)
    assert gpt_new["cost"] == 0.0025 and gpt_new["prices"]["input"]["rate"] == 1e-06
    gpt_old = next(r for r in rows if r["line"] == 1)
    assert gpt_old["cost"] == 0.006 and gpt_old["prices"]["input"]["rate"] == 2e-06


def test_text_formats_and_focus_say_which_config_priced_what(tmp_path, capsys):
    code, out, _ = run(tmp_path, capsys)
    assert code == 0
    assert "priced with configs:" in out and "from 2026-11-03: 2 record(s)" in out
    focus = tmp_path / "f.csv"
    code, _, _ = run(tmp_path, capsys, "-f", "focus", "-o", str(focus))
    with open(focus, newline="") as fh:
        rows = {(r["ChargePeriodStart"][:10], r["ResourceId"]): r for r in csv.DictReader(fh)}
    assert rows[("2026-11-03", "gpt (#1)")]["x_PricedWith"].endswith("new.yaml")
    assert rows[("2026-11-02", "gpt (#1)")]["x_PricedWith"].endswith("config.yaml")
    assert rows[("2026-11-03", "gpt (#1)")]["BilledCost"] == "0.0025"


def test_parallel_price_history_is_identical(tmp_path, capsys):
    _, one, _ = run(tmp_path, capsys, "-f", "json", "-g", "day")
    _, many, _ = run(tmp_path, capsys, "-f", "json", "-g", "day", "--jobs", "2")
    a, b = json.loads(one), json.loads(many)
    assert a["groups"] == b["groups"] and a["priced_with"] == b["priced_with"]


def test_two_undated_configs_are_an_error(tmp_path, capsys):
    code, out, err = run(tmp_path, capsys, configs=("OLD", "NEW"))
    assert code == 2 and out == "" and "two undated configs" in err


# -- cost map snapshots ---------------------------------------------------------------------------------------

def _map_with_gpt4o_input(price: float) -> bytes:
    entries = json.loads((ROOT / "src" / "costcalc" / "data" / "cost_map.json").read_text())
    entries["gpt-4o"] = {**entries["gpt-4o"], "input_cost_per_token": price}
    return json.dumps(entries).encode()


def _gpt4o_usage(tmp_path: Path) -> str:
    usage = tmp_path / "gpt.jsonl"
    usage.write_text('{"timestamp": "2026-11-10T00:00:00Z", "model": "gpt-4o", "prompt_tokens": 1000000, '
                     '"completion_tokens": 0}\n')
    return str(usage)


def test_map_update_keeps_a_dated_snapshot_of_each_new_map(tmp_path, capsys):
    source = tmp_path / "map.json"
    source.write_bytes(_map_with_gpt4o_input(1e-06))
    assert main(["map", "update", "--from", str(source), "-f", "json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["snapshot"] and Path(first["snapshot"]).is_file()
    # the same map again: nothing new to keep
    assert main(["map", "update", "--from", str(source), "-f", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["snapshot"] is None
    assert len(list_snapshots()) == 1


def test_map_as_of_prices_with_the_snapshot_in_force_then(tmp_path, capsys):
    # two snapshots: $1/M from October 1st, $3/M from November 1st; the embedded map dates from 2026-11-28
    save_snapshot(_map_with_gpt4o_input(1e-06), {"retrieved_at": "2026-10-01T00:00:00+00:00"})
    save_snapshot(_map_with_gpt4o_input(3e-06), {"retrieved_at": "2026-11-01T00:00:00+00:00"})
    usage = _gpt4o_usage(tmp_path)

    def total(as_of: str) -> tuple[float, dict]:
        assert main(["price", usage, "--map-as-of", as_of, "-f", "json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        return doc["totals"]["cost"]["total"], doc["priced_with"]["cost_map"]

    cost, chosen = total("2026-10-15")
    assert cost == 1.0  # 1M tokens × $1/M
    assert "cost_map-20261001T000000Z.json" in chosen["chosen"]
    assert total("2026-11-01")[0] == 3.0
    cost, chosen = total("2026-12-01")
    assert cost == 2.5 and chosen["chosen"].startswith("the embedded map")  # LiteLLM 1.110.2's $2.50/M
    assert main(["price", usage, "--map-as-of", "2026-09-01"]) == 2
    assert "no cost map snapshot on or before it (the oldest is from 2026-10-01T00:00:00Z)" in \
        capsys.readouterr().err


def test_the_header_states_every_config_in_force_and_never_says_no_config(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # the temporary paths are long: one header line each
    code, table, _ = run(tmp_path, capsys, "--quiet")
    assert code == 0
    lines = table.splitlines()
    new = str(tmp_path / "new.yaml")
    assert f"configs: {tmp_path / 'config.yaml'} from 2026-11-01 until 2026-11-03; {new} from 2026-11-03" in lines
    assert f"prices change inside this period: {new} from 2026-11-03" in lines
    assert "no --config" not in table
    _, page, _ = run(tmp_path, capsys, "-f", "html", "--quiet")
    assert "no --config" not in page and "prices change inside this period" in page
    _, out, _ = run(tmp_path, capsys, "-f", "json")
    doc = json.loads(out)
    assert doc["config"] == new and doc["notes"] == []
    assert [(Path(c["config"]).name, c["from"], c["until"]) for c in doc["configs"]] == \
        [("config.yaml", "2026-11-01", "2026-11-03"), ("new.yaml", "2026-11-03", None)]
    # a window after the change: only the new config is in force, and nothing changes inside it
    _, table, _ = run(tmp_path, capsys, "--since", "2026-11-03", "--until", "2026-11-04", "--quiet")
    assert f"configs: {new} from 2026-11-03" in table.splitlines() and "prices change" not in table
    # without any config, the note is there
    usage, _, cm = write_world(tmp_path)
    assert main(["price", usage, "--cost-map", cm, "-f", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["config"] is None


def test_compare_with_dated_configs_prices_the_period_before_with_them(tmp_path, capsys):
    # 11-03 against 11-02: 11-02 priced by the old config (0.01 + 0.0027), 11-03 by the new one (0.0025 + 0.003)
    code, out, _ = run(tmp_path, capsys, "-f", "json", "--since", "2026-11-03", "--until", "2026-11-04",
                       "--compare", "previous")
    assert code == 0
    doc = json.loads(out)
    assert doc["totals"]["cost"]["total"] == 0.0055
    assert doc["previous"]["totals"]["total"] == 0.0127
