"""A2A agent calls (``send_message``, ``asend_message``) as LiteLLM 1.110.2's ``A2ACostCalculator.calculate_a2a_cost``
books them (``completion_cost`` returns its figure before the discount and margin step): the agent's
``litellm_params.cost_per_query`` once a call, else its ``input_cost_per_token`` × the prompt tokens plus
``output_cost_per_token`` × the completion tokens (the counts ``A2ARequestUtils.calculate_usage_from_request_response``
makes and the proxy logs as the response's usage), else $0. ``a2a_protocol/main.py`` passes the agent's prices to the
calculator only when the agent's reply is not a JSON-RPC error; an error reply books $0.
"""

from __future__ import annotations

from typing import Any

from ..rates.config import A2AAgent
from .calltypes import CallPrice

A2A_CALLS = frozenset({"send_message", "asend_message"})
NO_AGENT = ("an A2A call to an agent the config does not declare (agents added through the proxy's API live in its "
            "database): its cost_per_query and per-token prices are unknown")
ZERO_REASON = "the agent sets no cost_per_query or per-token price: the proxy books $0"
ERROR_REASON = "the agent answered with a JSON-RPC error: the proxy passes no agent prices to its cost and books $0"
REPLY_NOT_LOGGED = ("the log does not keep the agent's reply, and the proxy books $0 when that reply is a JSON-RPC "
                    "error; priced as a reply without one")


def find_agent(agents: tuple[A2AAgent, ...], agent_id: str | None, model: str) -> A2AAgent | None:
    """The config agent a logged call went to: by the spend-log row's ``agent_id``, else by the logged model
    ``a2a_agent/<card name>`` when exactly one agent's card has that name."""
    if agent_id:
        found = next((a for a in agents if a.agent_id == agent_id), None)
        if found is not None:
            return found
    named = [a for a in agents if a.card_name is not None and model == f"a2a_agent/{a.card_name}"]
    return named[0] if len(named) == 1 else None


def a2a_price(agent: A2AAgent, approximate: str | None) -> CallPrice | dict[str, Any] | str:
    """The agent's per-call price, or its per-token rates (to price the logged tokens with), or ``ZERO_REASON``."""
    if agent.cost_per_query is not None:
        if not agent.cost_per_query:
            return ZERO_REASON
        return CallPrice(agent.cost_per_query, 1, False, f"cost_per_query of agent {agent.name!r}", approximate)
    if agent.input_cost_per_token is None and agent.output_cost_per_token is None:
        return ZERO_REASON
    return {"input_cost_per_token": agent.input_cost_per_token or 0.0,
            "output_cost_per_token": agent.output_cost_per_token or 0.0}
