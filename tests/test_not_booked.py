"""Call types a LiteLLM 1.110.2 proxy books nothing for, because LiteLLM logs no payload and no cost for them:
realtime WebRTC SDP exchanges (``arealtime_calls``, ``arealtime_translation_calls``) and sandbox code executions
(``run_code``, ``code_interpreter_tool``). The tests run LiteLLM's own entry points with a ``CustomLogger`` (what
the proxy's cost callback receives) and check that it gets no ``standard_logging_object`` and no
``response_cost``; with neither, ``proxy/hooks/proxy_track_cost_callback.py`` (``_PROXY_track_cost_callback``)
raises "Cost tracking failed" inside its own try and writes no spend-log row. costcalc skips a row of these types
with that reason (never unpriced, never priced), in the Python and DuckDB engines alike.
"""

from __future__ import annotations

import asyncio
import os
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from costcalc.pricing.coverage import ZERO_BOOKED

from .runner import priced_records

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
litellm = pytest.importorskip("litellm", reason="pip install 'costcalc[test]' (litellm==1.110.2)")
from litellm.integrations.custom_logger import CustomLogger

NOT_LOGGED = ("arealtime_calls", "arealtime_translation_calls", "run_code", "arun_code", "code_interpreter_tool",
              "acode_interpreter_tool")


class _NotBookedCapture(CustomLogger):  # a name of its own: LiteLLM's callback manager keeps one logger per class name
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, object, object]] = []

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self.calls.append((kwargs.get("call_type"), kwargs.get("standard_logging_object"),
                           kwargs.get("response_cost")))


_CAPTURE = _NotBookedCapture()


def _run_logged(calls) -> list[tuple[str, object, object]]:
    """Run ``calls`` (coroutine factories) on the oracle's one persistent event loop (tests/litellm_oracle.py), with
    ``_CAPTURE`` among LiteLLM's success callbacks; what the callback received for each call."""
    from .litellm_oracle import _run

    _CAPTURE.calls = []
    # LiteLLM copies litellm.callbacks into its async success list once; where an earlier test set that up (the
    # oracle), the callback goes into both, through LiteLLM's callback manager
    manager = litellm.logging_callback_manager
    manager.add_litellm_callback(_CAPTURE)
    manager.add_litellm_async_success_callback(_CAPTURE)
    try:
        async def run() -> None:
            for call in calls:
                await call()
            for _ in range(100):  # the success handlers run as tasks after each call returns
                if len(_CAPTURE.calls) >= len(calls):
                    break
                await asyncio.sleep(0.05)
        _run(run())
    finally:
        for registered in (litellm.callbacks, litellm._async_success_callback):
            while _CAPTURE in registered:
                registered.remove(_CAPTURE)
    return _CAPTURE.calls


def test_litellm_logs_no_payload_and_no_cost_for_a_realtime_sdp_exchange():
    class Upstream(BaseHTTPRequestHandler):  # the provider's /v1/realtime/calls: an SDP answer
        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(201)
            self.send_header("content-type", "application/sdp")
            self.end_headers()
            self.wfile.write(b"v=0\r\n")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        logged = _run_logged([
            lambda: litellm.arealtime_calls(openai_ephemeral_key="ek", sdp_body=b"v=0\r\n",
                                            model="openai/gpt-realtime", api_base=base),
            lambda: litellm.arealtime_translation_calls(openai_ephemeral_key="ek", sdp_body=b"v=0\r\n",
                                                        model="openai/gpt-realtime-translate", api_base=base)])
    finally:
        server.shutdown()
    assert [c[0] for c in logged] == ["arealtime_calls", "arealtime_translation_calls"]
    assert all(payload is None and cost is None for _, payload, cost in logged), logged


def test_litellm_logs_no_payload_and_no_cost_for_a_sandbox_code_execution(monkeypatch):
    import litellm.sandbox.main as sandbox
    from litellm.llms.base_llm.sandbox.transformation import BaseSandboxConfig, CodeExecutionResult, ContainerHandle

    class LocalSandbox(BaseSandboxConfig):
        """Stands in for E2B's remote sandbox (no network here): LiteLLM's entry points, @client wrapper and
        logging around it are its own."""

        async def acreate_sandbox(self, **kwargs):
            return ContainerHandle(id="sb-1", provider="e2b")

        async def arun_code(self, *, container, code, **kwargs):
            return CodeExecutionResult(stdout="2\n", execution_count=1)

        async def adelete_sandbox(self, **kwargs):
            return True

        def validate_environment(self, api_key=None, **kwargs):
            return "key"

    monkeypatch.setattr(sandbox, "_get_config", lambda provider: LocalSandbox())
    logged = _run_logged([
        lambda: litellm.arun_code(provider="e2b", container=ContainerHandle(id="sb-1", provider="e2b"),
                                  code="print(1 + 1)"),
        lambda: litellm.acode_interpreter_tool(provider="e2b", code="print(1 + 1)")])
    assert [c[0] for c in logged] == ["arun_code", "acode_interpreter_tool"]
    assert all(payload is None and cost is None for _, payload, cost in logged), logged


def test_litellm_prices_code_interpreter_sessions_only_from_a_parameter_the_proxy_never_sets():
    from litellm.litellm_core_utils.llm_cost_calc.tool_call_cost_tracking import StandardBuiltInToolCostTracking

    # azure/container's code_interpreter_cost_per_session ($0.033) applies to code_interpreter_sessions only
    assert StandardBuiltInToolCostTracking.get_cost_for_code_interpreter(sessions=2, provider="azure") == \
        pytest.approx(2 * 0.033, rel=1e-12)
    logging = litellm.litellm_core_utils.litellm_logging.Logging(
        model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=False, call_type="acompletion",
        start_time=None, litellm_call_id="c-1", function_id="f-1")
    params = logging.initialize_standard_built_in_tools_params(
        kwargs={"tools": [{"type": "code_interpreter", "container": {"type": "auto"}}]})
    assert "code_interpreter_sessions" not in (params or {})


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_rows_of_these_call_types_are_skipped_with_the_reason(capsys, tmp_path, engine):
    assert set(NOT_LOGGED) <= ZERO_BOOKED
    # a spend-log row (a failure row, or one written by other means) and a payload-shaped line of each type: LiteLLM
    # builds neither for a successful call, so either can only be what the proxy booked nothing for
    rows = [{"request_id": f"r{i}", "call_type": call_type, "model": "gpt-realtime", "custom_llm_provider": "openai",
             "status": "success", "prompt_tokens": 0, "completion_tokens": 0, "spend": 0.0, "metadata": "{}"}
            for i, call_type in enumerate(NOT_LOGGED)]
    payloads = [{"id": f"p{i}", "call_type": call_type, "model": "gpt-realtime", "model_group": None,
                 "custom_llm_provider": "openai", "status": "success", "prompt_tokens": 0, "completion_tokens": 0,
                 "response_cost": 0.0, "model_parameters": {}, "metadata": {"usage_object": None}}
                for i, call_type in enumerate(NOT_LOGGED)]
    out = priced_records(capsys, tmp_path, rows + payloads, "--engine", engine)
    assert [r["status"] for r in out] == ["skipped"] * 2 * len(NOT_LOGGED)
    for call_type, found in zip(NOT_LOGGED * 2, out):
        assert found["reason"].startswith(f"call type {call_type!r}: ") and "the proxy books $0" in found["reason"]
    assert "WebRTC" in out[0]["reason"] and "code_interpreter_sessions" in out[2]["reason"]
