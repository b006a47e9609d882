"""MCP tool calls (``call_mcp_tool``) cost what LiteLLM 1.110.2's ``MCPCostCalculator`` books from the server's
cost info the proxy logs with each call: the tool's own price, else the server's default, else $0 (skipped)."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import pytest

from .runner import main

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
pytest.importorskip("litellm", reason="pip install 'costcalc[test]' (litellm==1.110.2)")
from litellm.proxy.mcp_server.cost_calculator import MCPCostCalculator

COST_INFO = {"default_cost_per_query": 0.01, "tool_name_to_cost_per_query": {"send_email": 0.05}}
# (tool name, the server's logged cost info)
CASES = [("send_email", COST_INFO), ("search_docs", COST_INFO), ("send_email", None),
         ("create_issue", {"tool_name_to_cost_per_query": {"send_email": 0.05}})]


def _row(i: int, name: str | None, cost_info: dict | None) -> dict:
    meta = {} if name is None else {"mcp_tool_call_metadata": {"name": name, "mcp_server_name": "zapier",
                                                                "mcp_server_cost_info": cost_info}}
    return {"request_id": f"r{i}", "call_type": "call_mcp_tool", "model": f"MCP: {name}", "status": "success",
            "prompt_tokens": 0, "completion_tokens": 0, "spend": 0.0, "metadata": json.dumps(meta)}


def test_mcp_tool_calls_cost_what_litellm_books(capsys, tmp_path):
    src = tmp_path / "rows.jsonl"
    rows = [_row(i, name, info) for i, (name, info) in enumerate(CASES)] + [_row(len(CASES), None, None)]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "config.yaml").write_text("model_list: []\nlitellm_settings:\n  cost_margin_config: {global: 0.5}\n")
    assert main(["price", str(src), "--config", str(tmp_path / "config.yaml"), "--format", "jsonl"]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    for (name, info), found in zip(CASES, out):
        logging_obj = SimpleNamespace(model_call_details={"mcp_tool_call_metadata": {
            "name": name, "mcp_server_cost_info": info}})
        expected = MCPCostCalculator.calculate_mcp_tool_call_cost(litellm_logging_obj=logging_obj)
        if expected:
            assert found["status"] == "priced" and found["cost"] == pytest.approx(expected, rel=1e-12), found
        else:
            assert found["status"] == "skipped" and "the proxy books $0" in found["reason"], found
    # by hand: send_email's own $0.05, the server's default $0.01 for another tool, booked with no margin
    assert [r["cost"] for r in out[:2]] == pytest.approx([0.05, 0.01], rel=1e-12)
    assert [r["status"] for r in out[2:4]] == ["skipped", "skipped"]
    # a log without mcp_tool_call_metadata: unpriced, naming it
    assert out[4]["status"] == "unpriced" and "mcp_tool_call_metadata" in out[4]["reason"], out[4]
