"""Generated LiteLLM_SpendLogs rows (every shape of ``metadata`` LiteLLM writes, failures, cache hits, teams and
keys with aliases, and rows the Python reader must judge), and loading them into a LiteLLM database."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

TEAMS = [("team-uuid-1", "agents"), ("team-uuid-2", "research"), ("team-uuid-3", None)]  # the last has no alias
KEYS = [("a" * 64, "ci-bot"), ("b" * 64, "notebook"), ("c" * 64, None)]
ORGS = [("org-1", "acme")]
MODELS = [("gpt4o", None, "openai/gpt-4o", "openai"), ("claude-sonnet", "claude-sonnet-negotiated",
                                                          "anthropic/claude-sonnet-4-5-20250929", "anthropic"),
          ("claude-haiku", "haiku-direct", "claude-haiku-4-5-20251001", "anthropic"),
          ("claude-haiku", "haiku-discounted", "claude-haiku-4-5-20251001", "anthropic"),
          ("gemini-pro", None, "gemini-2.5-pro", "gemini"), ("gpt5", None, "gpt-5.4", "openai"),
          ("", None, "gpt-4o-mini", "openai"), ("no-such-model", None, "mystery", "openai")]
START = datetime(2026, 3, 1, 8, 0, 0)


def _usage(rng: random.Random, prompt: int, completion: int) -> dict[str, Any]:
    cached = rng.choice([0, 0, prompt // 3])
    write = rng.choice([0, 0, (prompt - cached) // 4])
    pd: dict[str, Any] = {"cached_tokens": cached, "audio_tokens": None}
    if write:
        pd[rng.choice(["cache_creation_tokens", "cache_write_tokens"])] = write
    if rng.random() < 0.15 and write:
        pd["cache_creation_token_details"] = {"ephemeral_5m_input_tokens": write // 2,
                                              "ephemeral_1h_input_tokens": write - write // 2}
    usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion,
                             "total_tokens": prompt + completion, "prompt_tokens_details": pd,
                             "completion_tokens_details": {"reasoning_tokens": rng.choice([0, completion // 2]),
                                                           "audio_tokens": None}}
    if rng.random() < 0.3:
        usage["cache_read_input_tokens"] = cached
        usage["cache_creation_input_tokens"] = write
    if rng.random() < 0.1:
        usage["service_tier"] = rng.choice(["priority", "flex", "default"])
    return usage


def generate(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` rows as LiteLLM writes them (column name → value; metadata and request_tags as Python objects)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        group, model_id, model, provider = rng.choice(MODELS)
        prompt, completion = rng.randint(1, 300_000), rng.randint(0, 4000)
        start = START + timedelta(seconds=rng.randint(0, 40 * 86400), milliseconds=rng.randint(0, 999))
        team = rng.choice([*TEAMS, (None, None)])
        key = rng.choice(KEYS)
        usage = _usage(rng, prompt, completion)
        metadata: Any = {"user_api_key_alias": key[1], "user_api_key_team_id": team[0],
                         "user_api_key_team_alias": team[1], "project": rng.choice(["alpha", "beta", None])}
        kind = rng.random()
        if kind < 0.55:
            metadata["usage_object"] = usage
        elif kind < 0.75:
            metadata["usage_object"] = None
            metadata["additional_usage_values"] = usage
        elif kind < 0.85:
            metadata = {}
        elif kind < 0.9:
            metadata = None
        else:
            metadata["usage_object"] = usage
            metadata["tags"] = ["from-metadata"]
        row: dict[str, Any] = {
            "request_id": f"req-{seed}-{i:07d}", "call_type": rng.choice(["acompletion"] * 8 + ["completion",
                                                                                               "aembedding"]),
            "api_key": key[0], "spend": round(rng.random() / 10, rng.choice([4, 9, 12])),
            "total_tokens": prompt + completion, "prompt_tokens": prompt, "completion_tokens": completion,
            "startTime": start, "endTime": start + timedelta(milliseconds=rng.randint(50, 9000)),
            "model": model, "model_id": model_id or "", "model_group": group,
            "custom_llm_provider": provider, "api_base": "https://api.example.com", "user": rng.choice(
                ["alice", "bob", "", None]),
            "metadata": metadata, "cache_hit": "False", "request_tags": rng.choice([[], ["prod"], ["prod", "eu"]]),
            "team_id": team[0], "end_user": rng.choice(["cust-1", "cust-2", None]), "status": "success",
            "session_id": rng.choice(["s1", None]), "organization_id": rng.choice(["org-1", "org-2", None]),
        }
        odd = rng.random()
        if odd < 0.04:
            row["cache_hit"] = "True"
        elif odd < 0.07:
            row.update(status="failure", prompt_tokens=0, completion_tokens=0, total_tokens=0, spend=0.0)
        elif odd < 0.08:
            row["call_type"] = "aimage_generation"
        elif odd < 0.09:
            row["call_type"] = "aretrieve_batch"
        elif odd < 0.10 and isinstance(metadata, dict):
            metadata["usage_object"] = json.dumps(usage)  # a string where an object belongs: rejected
        elif odd < 0.11 and isinstance(metadata, dict) and isinstance(metadata.get("usage_object"), dict):
            metadata["usage_object"]["completion_tokens_details"]["reasoning_tokens"] = 12.0  # whole: accepted
        elif odd < 0.12 and isinstance(metadata, dict) and isinstance(metadata.get("usage_object"), dict):
            metadata["usage_object"]["prompt_tokens"] = prompt + 1  # disagrees with the column: rejected
        elif odd < 0.13:
            row["endTime"] = start - timedelta(seconds=1)  # before the start: rejected
        elif odd < 0.14:
            row["status"] = "failure"  # a failure whose row keeps its prompt tokens: the proxy books $0, skipped
        elif odd < 0.15:
            row["model_group"] = "   "  # no model: rejected
        if isinstance(metadata, dict) and rng.random() < 0.4:
            # the tier the proxy billed (1.110.2 writes it, null for base rates); it wins over usage_object's
            metadata["cost_breakdown"] = {"total_cost": row["spend"],
                                          "service_tier": rng.choice([None, "priority", "flex"])}
        rows.append(row)
    return rows


COLUMNS = ("request_id", "call_type", "api_key", "spend", "total_tokens", "prompt_tokens", "completion_tokens",
           "startTime", "endTime", "model", "model_id", "model_group", "custom_llm_provider", "api_base", "user",
           "metadata", "cache_hit", "request_tags", "team_id", "end_user", "status", "session_id",
           "organization_id")


def load(conn: Any, rows: list[dict[str, Any]]) -> None:
    """Insert the rows, and the teams, keys and organisation they name, as LiteLLM's proxy would."""
    from psycopg.types.json import Jsonb

    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM \"LiteLLM_TeamTable\"")
        if cur.fetchone()[0] == 0:
            for team_id, alias in TEAMS:
                cur.execute('INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, updated_at) '
                            "VALUES (%s, %s, now())", (team_id, alias))
            for token, alias in KEYS:
                cur.execute('INSERT INTO "LiteLLM_VerificationToken" (token, key_alias, updated_at) '
                            "VALUES (%s, %s, now())", (token, alias))
            cur.execute('INSERT INTO "LiteLLM_BudgetTable" (budget_id, created_by, updated_by) '
                        "VALUES ('b1', 'test', 'test')")
            for org_id, alias in ORGS:
                cur.execute('INSERT INTO "LiteLLM_OrganizationTable" (organization_id, organization_alias, '
                            "budget_id, created_by, updated_by, updated_at) VALUES (%s, %s, 'b1', 'test', 'test', "
                            "now())", (org_id, alias))
        names = ", ".join(f'"{c}"' for c in COLUMNS)
        with cur.copy(f'COPY "LiteLLM_SpendLogs" ({names}) FROM STDIN') as copy:
            for r in rows:
                copy.write_row([Jsonb(r[c]) if c in ("metadata", "request_tags") and r[c] is not None else r[c]
                                for c in COLUMNS])
