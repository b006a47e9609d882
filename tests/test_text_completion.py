"""Text completions priced under the rate key the proxy uses, in every engine.

``litellm.main.text_completion`` sends a text completion for an ``openai`` model that is not one of OpenAI's chat
models to ``text-completion-openai/<model>``: the proxy prices it under that provider (its cost-map row, its
discount), while a chat call to the same deployment stays ``openai``. The calls here go through LiteLLM's own
Router (mocked responses, no provider called) and the standard logging payload its logging code builds is
captured with a callback, so the expected cost is the one LiteLLM booked (``response_cost``); the spend-log rows
are those payloads in LiteLLM_SpendLogs' columns.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from .runner import main

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
pytest.importorskip("litellm", reason="pip install 'costcalc[test]' (litellm==1.110.2)")

DEPLOYMENTS = [
    {"model_name": "instruct-openai", "litellm_params": {"model": "openai/gpt-3.5-turbo-instruct"}},
    {"model_name": "davinci", "litellm_params": {"model": "openai/davinci-002"}},
    {"model_name": "vllm", "litellm_params": {"model": "openai/my-vllm-model", "input_cost_per_token": 1e-6,
                                              "output_cost_per_token": 2e-6}},
    {"model_name": "gpt4o", "litellm_params": {"model": "openai/gpt-4o"}},
    {"model_name": "instruct", "litellm_params": {"model": "text-completion-openai/gpt-3.5-turbo-instruct"}},
]
DISCOUNTS = {"openai": 0.1}  # keyed by the provider the call is priced under: text-completion-openai is not


# Run in a fresh interpreter: LiteLLM's logging worker is a process-wide singleton bound to the first event loop
# that logs, so a second asyncio.run in a process where another test already logged would never see a callback.
_ROUTER_SCRIPT = """
import asyncio, json, sys
import litellm
from litellm.integrations.custom_logger import CustomLogger

deployments, discounts, out = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
payloads = []

class Capture(CustomLogger):
    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        payloads.append(kwargs["standard_logging_object"])

litellm.callbacks, litellm.cost_discount_config = [Capture()], discounts
router = litellm.Router(model_list=[{**d, "litellm_params": {**d["litellm_params"], "api_key": "sk-fake"}}
                                    for d in deployments])

async def calls():
    for i, d in enumerate(deployments):
        for k in range(2):
            text = "word " * (5 + 7 * k + i)
            await router.atext_completion(model=d["model_name"], prompt="complete " + text,
                                          mock_response="done " + text)
            await router.acompletion(model=d["model_name"], messages=[{"role": "user", "content": text}],
                                     mock_response="answer " + text)
    for _ in range(200):  # success callbacks run after the call returns
        if len(payloads) == 4 * len(deployments):
            break
        await asyncio.sleep(0.05)

asyncio.run(calls())
with open(out, "w") as f:
    f.write(json.dumps(payloads, default=str))
"""


@pytest.fixture(scope="module")
def booked(tmp_path_factory) -> list[dict]:
    """The standard logging payloads of text completions and chat calls to each deployment, as LiteLLM's Router
    booked them (mocked; the discount config set as a proxy's litellm_settings sets it)."""
    out = tmp_path_factory.mktemp("router") / "payloads.json"
    done = subprocess.run([sys.executable, "-c", _ROUTER_SCRIPT, json.dumps(DEPLOYMENTS), json.dumps(DISCOUNTS),
                           str(out)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
    assert done.returncode == 0, done.stderr[-2000:]
    payloads = json.loads(out.read_text())
    assert len(payloads) == 4 * len(DEPLOYMENTS)
    return sorted(payloads, key=lambda p: (p["model_group"], p["call_type"], p["prompt_tokens"]))


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(json.dumps({"model_list": DEPLOYMENTS,
                                "litellm_settings": {"cost_discount_config": DISCOUNTS}}))
    return path


def _jsonl(tmp_path: Path, payloads: list[dict]) -> Path:
    path = tmp_path / "payloads.jsonl"
    path.write_text("".join(json.dumps(p, default=str) + "\n" for p in payloads))
    return path


def test_a_text_completion_is_priced_under_the_provider_the_proxy_prices_it_under(booked, tmp_path, capsys):
    routes = {(p["model_group"], p["call_type"]): p["custom_llm_provider"] for p in booked}
    # what LiteLLM did: non-chat openai models go to text-completion-openai for text completions only
    assert routes[("instruct-openai", "atext_completion")] == routes[("vllm", "atext_completion")] \
        == "text-completion-openai"
    assert routes[("instruct-openai", "acompletion")] == routes[("gpt4o", "atext_completion")] == "openai"
    code = main(["price", str(_jsonl(tmp_path, booked)), "--config", str(_config(tmp_path)), "--format", "jsonl"])
    out, err = capsys.readouterr()
    assert code == 0, err
    mine = [json.loads(line) for line in out.splitlines()]
    assert len(mine) == len(booked)
    for theirs, ours in zip(booked, mine):
        what = (theirs["model_group"], theirs["call_type"], ours)
        if theirs["response_cost"] == 0.0:
            # a chat call to an openai deployment of a completion model: no openai row, the proxy books $0
            assert theirs["call_type"] == "acompletion" and theirs["model_group"] in ("instruct-openai", "davinci")
            assert ours["status"] == "unpriced" and "would book it at $0" in ours["reason"], what
            continue
        assert ours["status"] == "priced", what
        assert ours["cost"] == pytest.approx(theirs["response_cost"], rel=1e-12), what
        assert ours["provider"] == theirs["custom_llm_provider"], what
    # hand check: gpt-3.5-turbo-instruct at $1.50/M in, $2/M out, no discount (the openai discount does not apply
    # under text-completion-openai); gpt-4o's text completion stays openai: $2.50/M in, $10/M out, less 10 %
    first = next(o for t, o in zip(booked, mine) if t["model_group"] == "instruct-openai"
                 and t["call_type"] == "atext_completion")
    assert first["cost"] == pytest.approx(first["tokens"]["prompt"] * 1.5e-6 + first["tokens"]["completion"] * 2e-6)
    gpt4o = next(o for t, o in zip(booked, mine)
                 if t["model_group"] == "gpt4o" and t["call_type"] == "atext_completion")
    assert gpt4o["cost"] == pytest.approx((gpt4o["tokens"]["prompt"] * 2.5e-6 + gpt4o["tokens"]["completion"] * 1e-5)
                                          * 0.9)


SPEND_COLUMNS = (("request_id", "VARCHAR"), ("call_type", "VARCHAR"), ("prompt_tokens", "BIGINT"),
                 ("completion_tokens", "BIGINT"), ("startTime", "TIMESTAMP"), ("model", "VARCHAR"),
                 ("model_id", "VARCHAR"), ("model_group", "VARCHAR"), ("custom_llm_provider", "VARCHAR"),
                 ("metadata", "JSON"), ("cache_hit", "VARCHAR"), ("status", "VARCHAR"))


def test_every_engine_and_the_emitted_query_price_text_completions_alike(booked, tmp_path, capsys):
    config = _config(tmp_path)
    rows = [{"request_id": p["id"], "call_type": p["call_type"], "prompt_tokens": p["prompt_tokens"],
             "completion_tokens": p["completion_tokens"], "startTime": "2026-12-01 10:00:00", "model": p["model"],
             "model_id": p["model_id"], "model_group": p["model_group"],
             "custom_llm_provider": p["custom_llm_provider"], "metadata": "{}", "cache_hit": "False",
             "status": "success"} for p in booked]
    spend = tmp_path / "spend_logs.jsonl"
    spend.write_text("".join(json.dumps(r) + "\n" for r in rows))
    reports = {}
    for engine in ("python", "duckdb"):
        code = main(["price", str(spend), "--config", str(config), "--format", "json", "-g", "model",
                     "--engine", engine])
        out, err = capsys.readouterr()
        assert code == 0, err
        doc = json.loads(out)
        reports[engine] = (doc["groups"], doc["totals"], doc["accounting"])
    assert reports["python"] == reports["duckdb"]
    # costcalc sql over LiteLLM_SpendLogs' columns: the same cost per model, to the digit
    listing = tmp_path / "models.txt"
    listing.write_text("".join(d["model_name"] + "\n" for d in DEPLOYMENTS))
    code = main(["sql", "--config", str(config), "--table", "usage", "--schema", "spendlogs", "--models",
                 str(listing), "--per-record"])
    query, err = capsys.readouterr()
    assert code == 0, err
    con = duckdb.connect()
    con.execute("CREATE TABLE usage (" + ", ".join(f'"{n}" {t}' for n, t in SPEND_COLUMNS) + ")")
    con.executemany("INSERT INTO usage VALUES (" + ", ".join("?" * len(SPEND_COLUMNS)) + ")",
                    [tuple(r[n] for n, _ in SPEND_COLUMNS) for r in rows])
    cur = None
    for statement in [s for s in query.split(";\n") if s.strip()]:
        cur = con.execute(statement)
    names = [c[0] for c in cur.description]
    sql = {r[names.index("id")]: r for r in cur.fetchall()}
    code = main(["price", str(spend), "--config", str(config), "--format", "jsonl"])
    out, err = capsys.readouterr()
    python = [json.loads(line) for line in out.splitlines()]
    priced = 0
    for mine in python:
        theirs = sql[mine["request_id"]]
        assert theirs[names.index("status")] == mine["status"], (mine, theirs)
        if mine["status"] == "priced":
            assert float(theirs[names.index("total_cost")]) == pytest.approx(mine["cost"], rel=1e-12), mine
            priced += 1
    assert priced == len(python) - 4  # the chat calls to the two completion models book $0: unpriced
