"""A small world for the audit features (FOCUS, bills, currency, budgets, price history): a cost map, a config
and usage whose every cost is hand arithmetic on the prices below.

Cost map (the "public" list prices):       gpt-4o $2/M in, $8/M out; claude-sonnet-4-5 $3/M in, $15/M out.
Config: ``gpt`` → openai/gpt-4o at map prices; ``claude`` → anthropic/claude-sonnet-4-5 at negotiated
$2/M in, $10/M out, then 10% Anthropic discount; ``private`` → azure/private-deploy at $1/M in, $2/M out (no
map entry: no list price).

Per record (billed / contracted / list):
  1 11-02 gpt     search  1000 in 500 out: 0.002 + 0.004 = 0.006 / 0.006 / 0.006
  2 11-02 gpt     search  2000 in   0 out: 0.004                / 0.004 / 0.004
  3 11-02 claude  agents  1000 in 100 out: contracted 0.002 + 0.001 = 0.003, billed 0.003 × 0.9 = 0.0027,
                                           list 0.003 + 0.0015 = 0.0045
  4 11-03 private agents  1000 in 1000 out: 0.001 + 0.002 = 0.003 (list = contracted, no public price)
  5 11-03 gpt     (none)   500 in 500 out: 0.001 + 0.004 = 0.005
Total billed 0.0207.
"""

from __future__ import annotations

import json
from pathlib import Path

COST_MAP = {
    "gpt-4o": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 2e-06,
               "output_cost_per_token": 8e-06},
    "claude-sonnet-4-5": {"litellm_provider": "anthropic", "mode": "chat", "input_cost_per_token": 3e-06,
                          "output_cost_per_token": 1.5e-05},
}

CONFIG = """\
model_list:
  - model_name: gpt
    litellm_params: {model: openai/gpt-4o}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5}
    model_info: {id: claude-neg, input_cost_per_token: 0.000002, output_cost_per_token: 0.00001}
  - model_name: private
    litellm_params: {model: azure/private-deploy, input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
litellm_settings:
  cost_discount_config: {anthropic: 0.10}
"""

USAGE = [
    {"timestamp": "2026-11-02T09:00:00Z", "model": "gpt", "prompt_tokens": 1000, "completion_tokens": 500,
     "team": "search"},
    {"timestamp": "2026-11-02T15:00:00Z", "model": "gpt", "prompt_tokens": 2000, "completion_tokens": 0,
     "team": "search"},
    {"timestamp": "2026-11-02T10:00:00Z", "model": "claude", "prompt_tokens": 1000, "completion_tokens": 100,
     "team": "agents"},
    {"timestamp": "2026-11-03T08:00:00Z", "model": "private", "prompt_tokens": 1000, "completion_tokens": 1000,
     "team": "agents"},
    {"timestamp": "2026-11-03T09:00:00Z", "model": "gpt", "prompt_tokens": 500, "completion_tokens": 500},
]


def write_world(tmp_path: Path) -> tuple[str, str, str]:
    """(usage, config, cost map) paths."""
    cm = tmp_path / "map.json"
    cm.write_text(json.dumps(COST_MAP))
    cfg = tmp_path / "config.yaml"
    cfg.write_text(CONFIG)
    usage = tmp_path / "usage.jsonl"
    usage.write_text("".join(json.dumps(r) + "\n" for r in USAGE))
    return str(usage), str(cfg), str(cm)
