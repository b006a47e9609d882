"""Loaded by a real ``litellm --config`` proxy (tests/test_real_proxy.py), never by costcalc: the proxy's own
records of each request, written where the test reads them.

- ``payload_logger``: a CustomLogger that appends every ``standard_logging_object`` the proxy builds (success and
  failure) to $CAPTURE_DIR/payloads.jsonl; ``response_cost`` is what the proxy booked.
- ``spend_writer``: the proxy's own spend-log writer (``ProxyDBLogger``). The proxy registers it only with a
  database (``proxy_server.cost_tracking``); here it is registered as a callback, and the one method that would
  hand each finished ``LiteLLM_SpendLogs`` row to Prisma (``DBSpendUpdateWriter._insert_spend_log_to_db``) appends
  the row to $CAPTURE_DIR/spend_logs.jsonl instead.
- ``user_api_key_auth``: ``general_settings.custom_auth``: virtual keys with a team, a user and a key alias
  without a database; every key may send ``mock_response`` (LiteLLM's ``allow_client_mock_response``).
- The pre-call hook turns a dict ``mock_response`` into a ``ModelResponse`` so that a streamed call streams it
  with its usage (``mock_completion`` returns a dict mock unstreamed).
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from pathlib import Path

from litellm import ModelResponse
from litellm.integrations.custom_logger import CustomLogger
from litellm.proxy._types import UserAPIKeyAuth
from litellm.proxy.db.db_spend_update_writer import DBSpendUpdateWriter
from litellm.proxy.hooks.proxy_track_cost_callback import ProxyDBLogger

OUT = Path(os.environ["CAPTURE_DIR"])
# bearer key -> (team id, team alias, user id, key alias)
KEYS = {
    "sk-agents": ("team-agents", "agents", "ana", "ci-bot"),
    "sk-research": ("team-research", "research", "rui", "notebook"),
    "sk-support": ("team-support", "support", "sam", "helpdesk"),
    "sk-voice": ("team-voice", None, "vic", None),
    "sk-solo": (None, None, "sol", "solo-key"),
}


def _default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def _append(name: str, obj) -> None:
    with open(OUT / name, "a") as f:
        f.write(json.dumps(obj, default=_default) + "\n")


async def user_api_key_auth(request, api_key: str) -> UserAPIKeyAuth:
    key = api_key.removeprefix("Bearer ").strip()
    team_id, team_alias, user_id, alias = KEYS[key]
    return UserAPIKeyAuth(api_key=key, token=f"hashed-{key}", key_alias=alias, user_id=user_id, team_id=team_id,
                          team_alias=team_alias, metadata={"allow_client_mock_response": True})


class PayloadLogger(CustomLogger):
    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        _append("payloads.jsonl", kwargs["standard_logging_object"])

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        _append("payloads.jsonl", kwargs["standard_logging_object"])

    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
        mock = data.get("mock_response")
        if isinstance(mock, dict) and data.get("stream"):
            data["mock_response"] = ModelResponse(**mock)
        return data


async def _capture_row(self, payload, prisma_client=None, spend_logs_url=None, llm_router=None):
    _append("spend_logs.jsonl", dict(payload))
    return prisma_client


DBSpendUpdateWriter._insert_spend_log_to_db = _capture_row
payload_logger = PayloadLogger()
spend_writer = ProxyDBLogger()
