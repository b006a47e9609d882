"""MCP tool calls (``call_mcp_tool``) as LiteLLM 1.110.2's ``MCPCostCalculator.calculate_mcp_tool_call_cost``
books them: the server's ``mcp_info.mcp_server_cost_info`` price for the tool (``tool_name_to_cost_per_query``),
else its ``default_cost_per_query``, else $0, once a call, with no discount or margin (completion_cost returns the
calculator's figure as is). The proxy logs the tool's name and the server's cost info with every call
(``metadata.mcp_tool_call_metadata``), so the price comes from the log itself.
"""

from __future__ import annotations

from .calltypes import CallPrice

MCP_CALLS = frozenset({"call_mcp_tool"})
ZERO_REASON = "the MCP server sets no cost for this tool: the proxy books $0"
NOT_LOGGED = ("priced by the MCP server's cost info, which the proxy logs in metadata.mcp_tool_call_metadata; "
              "this log does not carry it")


def mcp_price(call: tuple[str, float | None, tuple[tuple[str, float], ...]] | None) -> CallPrice | str:
    """One MCP tool call's price; ``ZERO_REASON`` when the proxy books $0, ``NOT_LOGGED`` when the log lacks what
    it needs."""
    if call is None:
        return NOT_LOGGED
    name, default, per_tool = call
    rate = dict(per_tool).get(name)
    field = f"mcp_server_cost_info.tool_name_to_cost_per_query[{name}]"
    if rate is None:
        rate, field = default, "mcp_server_cost_info.default_cost_per_query"
    if not rate:
        return ZERO_REASON
    return CallPrice(rate, 1, False, field, None)
