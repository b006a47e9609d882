"""A2A agent calls (``send_message``, ``asend_message``) priced as LiteLLM 1.110.2's ``A2ACostCalculator`` books them,
from the agents a config declares (``agents:``).

The logged record is built as LiteLLM fills it (``a2a_protocol/main.py`` cannot be imported without the a2a SDK, so
its two steps are done here as it does them): ``_record_send_message_billing`` sets ``model_call_details["usage"]``
(the counted prompt and completion tokens) and, unless the reply is a JSON-RPC error, merges the agent's
``cost_per_query`` / ``input_cost_per_token`` / ``output_cost_per_token`` into ``model_call_details["litellm_params"]``;
``_get_a2a_model_info`` logs the model as ``a2a_agent/<card name>``. The payload's response is
``Logging._handle_a2a_response_logging``'s copy with that usage; a spend-log row carries ``agent_id`` (the config
agent's id: ``AgentRegistry._create_agent_id``, sha256 of its name) and the response only with stored prompts.
Expected costs are ``litellm.completion_cost`` with that logging object.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os

import pytest

from .engine_check import lines_left_to_python
from .runner import costcalc, priced_records

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
litellm = pytest.importorskip("litellm", reason="pip install 'costcalc[test]' (litellm==1.110.2)")
from litellm.litellm_core_utils.litellm_logging import Logging, StandardLoggingPayloadSetup
from litellm.types.agents import LiteLLMSendMessageResponse

CONFIG = """\
model_list: []
agents:
  - agent_name: helper
    agent_card_params: {name: Helper, url: "http://agent.invalid/"}
    litellm_params: {input_cost_per_token: 1.0e-6, output_cost_per_token: 2.0e-6}
  - agent_name: flat
    agent_card_params: {name: Flat, url: "http://flat.invalid/"}
    litellm_params: {cost_per_query: 0.05, input_cost_per_token: 1.0e-6}
  - agent_name: free
    agent_card_params: {name: Free, url: "http://free.invalid/"}
"""
PRICES = {"helper": {"input_cost_per_token": 1.0e-6, "output_cost_per_token": 2.0e-6},
          "flat": {"cost_per_query": 0.05, "input_cost_per_token": 1.0e-6}, "free": {}}
CARDS = {"helper": "Helper", "flat": "Flat", "free": "Free"}


def _booked(agent: str, error: bool) -> tuple[float, dict]:
    """What the proxy books for one call to ``agent`` (120 prompt, 30 completion tokens), and the reply it logs."""
    model = f"a2a_agent/{CARDS[agent]}"
    log = Logging(model=model, messages=[], stream=False, call_type="asend_message",
                  start_time=datetime.datetime.now(), litellm_call_id="c1", function_id="f1")
    log.model_call_details["usage"] = litellm.Usage(prompt_tokens=120, completion_tokens=30, total_tokens=150)
    log.model_call_details["litellm_params"] = {"metadata": {}, **({} if error else PRICES[agent])}
    reply = LiteLLMSendMessageResponse(id="1", result=None if error else {"kind": "message"},
                                       error={"code": -32603, "message": "agent failed"} if error else None)
    cost = litellm.completion_cost(completion_response=reply, model=model, call_type="asend_message",
                                   litellm_logging_obj=log)
    return cost, log._handle_a2a_response_logging(reply).model_dump()


def _records(agent: str, reply: dict, stored: bool) -> list[dict]:
    usage = StandardLoggingPayloadSetup.get_usage_as_dict(reply)
    common = {"call_type": "asend_message", "model": f"a2a_agent/{CARDS[agent]}", "custom_llm_provider": "a2a_agent",
              "status": "success", "prompt_tokens": usage["prompt_tokens"],
              "completion_tokens": usage["completion_tokens"]}
    payload = {"id": "p1", **common, "model_group": "", "model_parameters": {}, "response": reply,
               "metadata": {"usage_object": usage}}
    row = {"request_id": "r1", **common, "agent_id": hashlib.sha256(agent.encode()).hexdigest(), "spend": 0.0,
           "response": json.dumps(reply) if stored else "{}", "metadata": json.dumps({"usage_object": usage})}
    return [payload, row]


def _price(capsys, tmp_path, rows: list[dict]) -> list[dict]:
    """The per-record lines; A2A rows are not token rows: the DuckDB engine hands each to the Python engine, and
    both print the same report."""
    assert lines_left_to_python(capsys, tmp_path, rows, config=CONFIG) == list(range(1, len(rows) + 1))
    return priced_records(capsys, tmp_path, rows, config=CONFIG)


@pytest.mark.parametrize(("agent", "by_hand"), [
    ("helper", 120 * 1e-6 + 30 * 2e-6),  # per token: $0.00018
    ("flat", 0.05),  # cost_per_query wins over the per-token price
])
def test_an_agent_call_is_priced_by_the_agents_configured_cost(capsys, tmp_path, agent, by_hand):
    booked, reply = _booked(agent, error=False)
    assert booked == pytest.approx(by_hand, rel=1e-12)
    payload, stored_row = _records(agent, reply, stored=True)
    _, row = _records(agent, reply, stored=False)
    for record, approximate in ((payload, False), (stored_row, False), (row, True)):
        (mine,) = _price(capsys, tmp_path, [record])
        assert mine["status"] == "priced" and mine["cost"] == pytest.approx(booked, rel=1e-12), mine
        # a row without the reply cannot show a JSON-RPC error, which the proxy books at $0
        assert ("does not keep the agent's reply" in mine["approximate"]) is approximate, mine


def test_an_error_reply_and_an_agent_without_prices_are_skipped_at_the_zero_the_proxy_books(capsys, tmp_path):
    booked, reply = _booked("helper", error=True)
    assert booked == 0.0
    payload, row = _records("helper", reply, stored=True)
    for record in (payload, row):
        (mine,) = _price(capsys, tmp_path, [record])
        assert mine["status"] == "skipped" and "JSON-RPC error" in mine["reason"], mine
    booked, reply = _booked("free", error=False)
    assert booked == 0.0
    (mine,) = _price(capsys, tmp_path, _records("free", reply, stored=True)[:1])
    assert mine["status"] == "skipped" and "sets no cost_per_query" in mine["reason"], mine


def test_an_agent_the_config_does_not_declare_is_unpriced_with_the_reason(capsys, tmp_path):
    _, reply = _booked("helper", error=False)
    payload = {**_records("helper", reply, stored=True)[0], "model": "a2a_agent/Elsewhere"}
    (mine,) = _price(capsys, tmp_path, [payload])
    assert mine["status"] == "unpriced" and "agent the config does not declare" in mine["reason"], mine


def test_explain_shows_the_charges_of_an_agent_call_and_of_a_call_priced_by_other_units(capsys, tmp_path):
    # the agent's own card, and an image priced per pixel (azure/dall-e-3 at standard 1024x1024: 1,048,576 pixels
    # at the map's input_cost_per_pixel); neither is the model's chat card, which --explain used to look up
    _, reply = _booked("helper", error=False)
    image = {"id": "img", "call_type": "aimage_generation", "model_group": "dall-e-3", "model": "dall-e-3",
             "custom_llm_provider": "azure", "status": "success", "prompt_tokens": 0, "completion_tokens": 0,
             "model_parameters": {}, "response": {"created": 1, "data": [{"url": "u"}], "size": "1024x1024",
                                                  "quality": "standard"}}
    src = tmp_path / "explain.jsonl"
    src.write_text(json.dumps(_records("helper", reply, stored=True)[0]) + "\n" + json.dumps(image) + "\n")
    (tmp_path / "agents.yaml").write_text(CONFIG)
    code, out, err = costcalc(capsys, "price", src, "--config", tmp_path / "agents.yaml", "--explain")
    assert code == 0, err
    assert "input                    120 × 1e-06 = 0.00012   (input_cost_per_token; config:litellm_params of " \
           "agent 'helper')" in out
    assert "output                    30 × 2e-06 = 6e-05" in out
    assert "1,048,576 × " in out and "(input_cost_per_pixel;" in out
    code, out, err = costcalc(capsys, "price", src, "--config", tmp_path / "agents.yaml", "--explain", "--format",
                              "json")
    agent, picture = json.loads(out)
    charges = [(c["part"], c["units"], c["rate"]) for c in agent["charges"]]
    assert charges == [("input", 120, 1e-6), ("output", 30, 2e-6)]
    (charge,) = picture["charges"]
    assert charge["units"] == 1024 * 1024 and charge["key"] == "input_cost_per_pixel"
    assert float(charge["cost"]) == pytest.approx(picture["cost"], rel=1e-12)
