"""Decisions calls (``systemone``, ``decisions`` and their async forms) priced as LiteLLM 1.110.2 books them.

The logged record is LiteLLM's own: ``litellm.systemone`` / ``litellm.decisions`` run end to end (request
validation, the provider's Decisions config, response formatting, ``completion_cost``, the success handler that
builds the standard logging payload), with only the HTTP exchange replaced: ``BaseLLMHTTPHandler.decisions`` returns
the ``DecisionsIRResponse`` a provider's ``transform_decisions_response`` would. The payload is the
``standard_logging_object`` a ``CustomLogger`` receives; its ``response_cost`` is what the proxy books. The spend-log
row is built from it as ``proxy/spend_tracking/spend_tracking_utils.py`` ``get_logging_payload`` does:
``metadata.usage_object`` and ``metadata.cost_breakdown`` are the payload's (``_get_spend_logs_metadata``:
``clean_metadata["usage_object"]``, ``clean_metadata["cost_breakdown"]``), ``spend`` its ``response_cost``,
``metadata`` stored as JSON text.

A System One response's ``DecisionsUsage`` drops ``cached_tokens`` / ``cache_write_tokens`` from its dump, so the
logged usage lacks them (the test checks that it does); costcalc recovers them from the breakdown's
``cache_read_cost`` / ``cache_creation_cost``.
"""

from __future__ import annotations

import importlib
import json
import os
import time
from typing import Any

import pytest

from .engine_check import lines_left_to_python
from .runner import costcalc, priced_records

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
litellm = pytest.importorskip("litellm", reason="pip install 'costcalc[test]' (litellm==1.110.2)")
from litellm.integrations.custom_logger import CustomLogger
from litellm.types.decisions import DecisionsIRPredicateAnswer, DecisionsIRResponse, DecisionsIRUsage


class _Payloads(CustomLogger):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[dict] = []

    def log_success_event(self, kwargs, response_obj, start_time, end_time):
        self.seen.append(kwargs["standard_logging_object"])


_LOGGER = _Payloads()


def _logged_payload(monkeypatch, form: str, model: str, cached: int, written: int) -> dict:
    """The standard logging payload of one Decisions call of ``form`` to ``model`` whose provider reported 1,000
    input tokens (``cached`` read from cache, ``written`` to it) and 10 output tokens."""
    handler = importlib.import_module("litellm.decisions.call")._HANDLER

    def answered(self, **kw: Any) -> DecisionsIRResponse:
        answers = tuple(DecisionsIRPredicateAnswer(probability=0.9) for _ in kw["request"].questions)
        usage = DecisionsIRUsage(input_tokens=1000, output_tokens=10, cached_tokens=cached, cache_write_tokens=written)
        return DecisionsIRResponse(model=kw["model"], answers=answers, usage=usage)

    monkeypatch.setattr(type(handler), "decisions", answered)
    logger = _LOGGER  # one instance: LiteLLM's callback manager keeps one callback of a class
    logger.seen.clear()
    monkeypatch.setattr(litellm, "callbacks", [logger])
    if form == "systemone":
        litellm.systemone(model=model, state="s", questions={"q": {"type": "noul", "instructions": "is it?"}},
                          api_key="sk-fake")
    else:
        litellm.decisions(model=model, input="s", api_key="sk-fake",
                          questions=[{"type": "predicate", "name": "q", "instructions": "is it?"}])
    deadline = time.monotonic() + 10  # the sync wrapper runs the success handler on LiteLLM's thread pool
    while not logger.seen and time.monotonic() < deadline:
        time.sleep(0.01)
    (payload,) = logger.seen
    return json.loads(json.dumps(payload, default=str))


def _row(payload: dict, **metadata: Any) -> dict:
    return {"request_id": payload["id"], "call_type": payload["call_type"], "model": payload["model"],
            "custom_llm_provider": payload["custom_llm_provider"], "status": "success",
            "prompt_tokens": payload["prompt_tokens"], "completion_tokens": payload["completion_tokens"],
            "spend": payload["response_cost"], "startTime": "2026-12-07T09:00:00", "endTime": "2026-12-07T09:00:01",
            "metadata": json.dumps({"usage_object": payload["metadata"]["usage_object"],
                                    "cost_breakdown": payload["cost_breakdown"], **metadata})}


def _both_engines(capsys, tmp_path, rows: list[dict]) -> list[dict]:
    """The per-record lines; Decisions rows are not token rows: the DuckDB engine hands each to the Python engine,
    and both print the same report."""
    assert lines_left_to_python(capsys, tmp_path, rows) == list(range(1, len(rows) + 1))
    return priced_records(capsys, tmp_path, rows)


CASES = [
    # gpt-4o: $2.50/M input, $1.25/M cached, no cache-write price (cache writes at the input rate), $10/M output:
    # 500 × 2.5e-6 + 400 × 1.25e-6 + 100 × 2.5e-6 + 10 × 1e-5 = 0.00125 + 0.0005 + 0.00025 + 0.0001 = $0.0021
    ("systemone", "openai/gpt-4o", 400, 100, 0.0021),
    ("decisions", "openai/gpt-4o", 400, 100, 0.0021),
    # uncached: 1,000 × 2.5e-6 + 10 × 1e-5 = $0.0026
    ("systemone", "openai/gpt-4o", 0, 0, 0.0026),
    # gpt-6-luna's row sets _decisions prices (output_cost_per_token_decisions 0): 500 × 1e-7 + 400 × 1e-8 +
    # 100 × 1.25e-7 + 10 × 0 = $0.0000665
    ("systemone", "openai/gpt-6-luna", 400, 100, 0.0000665),
    # Fireworks rune: $0.042/M input, $0.0084/M cached, output 0: 600 × 4.2e-8 + 400 × 8.4e-9 = $0.00002856
    ("systemone", "fireworks_ai/accounts/fireworks/models/rune", 400, 0, 0.00002856),
    # parallel_ai/decision: input_cost_per_query $0.001 once a call, its token prices 0
    ("systemone", "parallel_ai/decision", 400, 0, 0.001),
]


@pytest.mark.parametrize(("form", "model", "cached", "written", "by_hand"), CASES)
def test_a_decisions_call_is_priced_exactly_as_the_proxy_books_it(monkeypatch, capsys, tmp_path, form, model, cached,
                                                                   written, by_hand):
    payload = _logged_payload(monkeypatch, form, model, cached, written)
    booked = payload["response_cost"]
    assert booked == pytest.approx(by_hand, rel=1e-12)
    if form == "systemone":  # the logged usage lacks the cached tokens: the point of the recovery
        assert not payload["metadata"]["usage_object"].get("prompt_tokens_details")
    # the payload and the row carry the same request id: priced apart, as two logs of one call
    for mine in (*_both_engines(capsys, tmp_path, [payload]), *_both_engines(capsys, tmp_path, [_row(payload)])):
        assert mine["status"] == "priced" and mine["approximate"] == "", mine
        assert mine["cost"] == pytest.approx(booked, rel=1e-12)
        if cached and not model.startswith("parallel_ai"):
            assert (mine["tokens"]["cache_read"], mine["tokens"]["cache_write"]) == (cached, written)


def test_a_system_one_row_without_a_cost_breakdown_is_priced_as_uncached_and_marked_approximate(
        monkeypatch, capsys, tmp_path):
    payload = _logged_payload(monkeypatch, "systemone", "openai/gpt-4o", 400, 0)
    assert payload["response_cost"] == pytest.approx(0.0021, rel=1e-12)  # as booked, with 400 cached tokens
    row = _row(payload)
    row["metadata"] = json.dumps({"usage_object": payload["metadata"]["usage_object"]})  # an older proxy's row
    (mine,) = _both_engines(capsys, tmp_path, [row])
    # 1,000 × 2.5e-6 + 10 × 1e-5: the logged tokens, uncached
    assert mine["status"] == "priced" and mine["cost"] == pytest.approx(0.0026, rel=1e-12)
    assert "no cost_breakdown to recover them from" in mine["approximate"]


def test_a_breakdown_at_another_rate_than_the_card_is_marked_approximate(monkeypatch, capsys, tmp_path):
    # the proxy billed gpt-4o's map rates; a config that prices the deployment's cached input at $3/M cannot turn
    # cache_read_cost (400 × $1.25/M = $0.0005) back into a whole number of tokens at its own rate
    payload = _logged_payload(monkeypatch, "systemone", "openai/gpt-4o", 400, 0)
    config = ("model_list:\n  - model_name: gpt-4o\n    litellm_params: {model: openai/gpt-4o, api_key: sk-fake, "
              "input_cost_per_token: 2.5e-6, output_cost_per_token: 1.0e-5, cache_read_input_token_cost: 3.0e-6}\n")
    row = {**_row(payload), "model_group": "gpt-4o"}
    (mine,) = priced_records(capsys, tmp_path, [row], config=config)
    # 0.0005 / 3e-6 = 166.67 tokens: not whole, so the tokens stay uncached: 1,000 × 2.5e-6 + 10 × 1e-5
    assert mine["status"] == "priced" and mine["cost"] == pytest.approx(0.0026, rel=1e-12)
    assert "is not a whole number of tokens at the card's rate" in mine["approximate"]


def test_explain_shows_the_decisions_prices_a_call_was_billed_at(monkeypatch, capsys, tmp_path):
    payload = _logged_payload(monkeypatch, "systemone", "openai/gpt-6-luna", 400, 100)
    src = tmp_path / "explain.jsonl"
    src.write_text(json.dumps(payload) + "\n")
    code, out, err = costcalc(capsys, "price", src, "--explain", "--format", "json")
    assert code == 0, err
    (mine,) = json.loads(out)
    charges = {c["part"]: (c["units"], c["rate"], c["source"]) for c in mine["charges"]}
    # the _decisions values of gpt-6-luna's row, the cached tokens recovered from the breakdown
    assert charges["output"] == (10, 0.0, "cost_map:gpt-6-luna (output_cost_per_token_decisions)")
    assert charges["cache read"][:2] == (400, 1e-8) and charges["cache write"][:2] == (100, 1.25e-7)
    assert sum(float(c["cost"]) for c in mine["charges"]) == pytest.approx(payload["response_cost"], rel=1e-12)
