"""Budget replay (``reports.budget_replay``) held to LiteLLM 1.110.2's budget code: its reset times by running
LiteLLM's own ``get_next_standardized_reset_time`` over a grid of durations, instants, time zones and reset times
of day; its comparisons by reading LiteLLM's budget checks (``proxy/auth/auth_checks.py``, which cannot be imported
without the proxy's FastAPI dependencies: the test parses it and finds each check's comparison); and the replay
itself on planted logs whose costs are worked by hand.
"""

from __future__ import annotations

import ast
import json
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from costcalc.engines.streaming import PricingEngine
from costcalc.rates.config import load_config
from costcalc.rates.costmap import load_cost_map
from costcalc.reports.budget_replay import (
    _REFUSED_AT_BUDGET,
    Budget,
    BudgetReplayError,
    ResetSettings,
    config_settings,
    load_budgets,
    next_reset,
    replay,
)

from .conftest import write_config
from .runner import costcalc

litellm = pytest.importorskip("litellm", reason="pip install litellm==1.110.2 (the test extra)")

DURATIONS = ("1s", "7s", "45s", "1m", "5m", "7m", "45m", "1h", "2h", "5h", "24h", "48h", "1d", "2d", "7d", "1w",
             "2w", "14d", "30d", "1mo", "hourly", "daily", "weekly", "monthly")
INSTANTS = [datetime(2025, 1, 31, 23, 59, 59, tzinfo=timezone.utc), datetime(2025, 3, 9, 6, 30, tzinfo=timezone.utc),
            datetime(2025, 3, 31, 0, 0, tzinfo=timezone.utc), datetime(2025, 6, 15, 12, 0, 0, 500, tzinfo=timezone.utc),
            datetime(2025, 11, 2, 5, 45, 30, tzinfo=timezone.utc), datetime(2025, 12, 31, 22, 15, tzinfo=timezone.utc),
            datetime(2026, 2, 28, 9, 30, tzinfo=timezone.utc)]


@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize("at", [time(0, 0), time(9, 30), time(12, 0)])
def test_reset_times_are_litellms(tz, at):
    from litellm.litellm_core_utils.duration_parser import get_next_standardized_reset_time

    settings = ResetSettings(tz, at)
    for duration in DURATIONS:
        for instant in INSTANTS:
            expected = get_next_standardized_reset_time(duration, instant, tz, at)
            assert next_reset(duration, instant, settings) == expected, (duration, instant, tz, at)
            # and from its own reset instant, as the reset job computes the next window
            assert next_reset(duration, expected, settings) == get_next_standardized_reset_time(
                duration, expected, tz, at), (duration, expected)


def _compare_in(function: str, source: ast.Module) -> list[tuple[str, str, str]]:
    """The comparisons of a spend with a budget inside ``function`` (nested functions included)."""
    found = []
    for node in ast.walk(source):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Compare) and len(inner.ops) == 1:
                    left, right = ast.unparse(inner.left), ast.unparse(inner.comparators[0])
                    if "spend" in left and "budget" in right:
                        found.append((left, type(inner.ops[0]).__name__, right))
    return found


def test_refusals_compare_as_litellms_checks():
    source = ast.parse((Path(litellm.__file__).parent / "proxy" / "auth" / "auth_checks.py").read_text())
    # key and user: refused at the budget (spend >= max_budget)
    assert _compare_in("virtual_key_max_budget_check", source) == [("spend", "GtE", "valid_token.max_budget")]
    assert _compare_in("_user_max_budget_check", source) == [("user_spend", "GtE", "user_budget")]
    # team and end user: refused over it only; a tag passes while spend <= max_budget
    assert _compare_in("team_max_budget_check", source) == [("spend", "Gt", "team_object.max_budget")]
    assert _compare_in("check_end_user_budget", source) == [("end_user_spend", "Gt", "end_user_budget")]
    assert _compare_in("tag_max_budget_check_for_tags", source) == [
        ("tag_spend", "LtE", "tag_object.litellm_budget_table.max_budget")]
    assert {"key", "user"} == _REFUSED_AT_BUDGET


# model "m": $0.0001 a prompt token, nothing for output: a request of 4000 prompt tokens costs $0.40
CONFIG = """
model_list:
  - model_name: m
    litellm_params: {model: openai/m, input_cost_per_token: 0.0001, output_cost_per_token: 0}
"""
CHEAPER = CONFIG.replace("0.0001", "0.00005")
DAY = 1764547200  # 2025-12-01 00:00 UTC


def _log(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "spend.jsonl"
    path.write_text("".join(json.dumps({"model": "m", "prompt_tokens": 4000, "completion_tokens": 1, **r}) + "\n"
                            for r in rows))
    return path


def _run(tmp_path: Path, rows: list[dict], budgets: list[Budget], config: str = CONFIG,
         settings: ResetSettings = ResetSettings()):
    engine = PricingEngine(load_cost_map(), load_config(write_config(tmp_path, config)))
    return replay(engine.run([str(_log(tmp_path, rows))]), budgets, settings)


def test_key_refused_at_its_budget_and_reset_next_day(tmp_path):
    # five $0.40 calls on day 1 (the third takes the key to $1.20: it runs, the fourth and fifth are refused),
    # one on day 2 after the daily reset at midnight
    rows = [{"timestamp": DAY + 3600 * h, "key_alias": "k1"} for h in (1, 2, 3, 4, 5)]
    rows.append({"timestamp": DAY + 86400 + 60, "key_alias": "k1"})
    key = Budget("key", "k1", 1.0, "1d")
    out = _run(tmp_path, rows, [key])
    (k,) = out.outcomes
    assert (k.allowed, k.refused) == (4, 2)
    assert k.first_refused == DAY + 4 * 3600
    assert k.as_dict()["refused_cost"] == "0.8" and out.refused_requests == 2
    assert k.as_dict()["spent_in_last_window"] == "0.4"  # day 2's one call
    assert k.blocked_until == ["2025-12-02T00:00:00+00:00"]


def test_at_the_budget_keys_refuse_teams_do_not(tmp_path):
    """Spend exactly at max_budget: a key (>=) refuses, a team (>) lets the request through."""
    rows = [{"timestamp": DAY + i, "key_alias": "k1", "team_id": "t1"} for i in range(4)]
    out = _run(tmp_path, rows, [Budget("key", "k1", 0.8), Budget("team", "t1", 0.8)])
    key, team = out.outcomes
    assert (key.allowed, key.refused) == (2, 2)  # $0.80 after two calls: the third is refused
    assert (team.allowed, team.refused) == (2, 0)  # the key refused them before the team's budget mattered
    out = _run(tmp_path, rows, [Budget("team", "t1", 0.8)])
    (team,) = out.outcomes
    assert (team.allowed, team.refused) == (3, 1)  # $0.80 is not over 0.8: the third runs, the fourth is refused


def test_user_budget_and_team_keys(tmp_path):
    rows = [{"timestamp": DAY + i, "user": "u1", "team_id": "t1"} for i in range(3)]
    user = Budget("user", "u1", 0.4)
    (u,) = _run(tmp_path, rows, [user]).outcomes
    assert (u.allowed, u.refused) == (0, 0)  # a team key's calls: the personal budget does not apply
    (u,) = _run(tmp_path, rows, [user], settings=ResetSettings(apply_user_budget_to_team_keys=True)).outcomes
    assert (u.allowed, u.refused) == (1, 2)


def test_tags_and_a_cheaper_candidate_config(tmp_path):
    rows = [{"timestamp": DAY + i, "tags": ["feature:search"]} for i in range(5)]
    tag = Budget("tag", "feature:search", 1.0, "1h")
    (t,) = _run(tmp_path, rows, [tag]).outcomes
    assert (t.allowed, t.refused) == (3, 2)  # $1.20 after three: over $1
    (t,) = _run(tmp_path, rows, [tag], config=CHEAPER).outcomes
    assert (t.allowed, t.refused) == (5, 0)  # at $0.20 a call the tag ends at $1.00: not over


def test_hourly_window_in_a_time_zone(tmp_path):
    # Asia/Kolkata is UTC+5:30: a 1h budget resets at :30 past each UTC hour
    rows = [{"timestamp": DAY + 60 * m, "key_alias": "k"} for m in (0, 10, 20, 29, 31)]
    (k,) = _run(tmp_path, rows, [Budget("key", "k", 0.8, "1h")], settings=ResetSettings("Asia/Kolkata")).outcomes
    # 00:00 and 00:10 run ($0.80), 00:20 and 00:29 are refused, the window resets at 00:30 and 00:31 runs
    assert (k.allowed, k.refused) == (3, 2)
    assert k.blocked_until == ["2025-12-01T00:30:00+00:00"]


def test_load_budgets_from_litellm_rows(tmp_path):
    path = tmp_path / "budgets.yaml"
    path.write_text("""
settings: {timezone: Europe/Berlin, budget_reset_time: "09:30", apply_user_budget_to_team_keys: true}
budgets:
  - {token: 88dc28d0f030c55ed4ab77ed8faf0981, key_alias: prod-key, max_budget: 100, budget_duration: 30d}
  - {team_id: team-search, max_budget: 50.5, budget_duration: 7d}
  - {user_id: alice, max_budget: null}
  - {entity: tag, id: "feature:search", max_budget: 5, budget_duration: daily}
""")
    budgets, settings = load_budgets(path)
    assert budgets == [Budget("key", "88dc28d0f030c55ed4ab77ed8faf0981", 100.0, "30d", "prod-key"),
                       Budget("team", "team-search", 50.5, "7d"),
                       Budget("tag", "feature:search", 5.0, "daily")]
    assert settings == ResetSettings("Europe/Berlin", time(9, 30), True)
    path.write_text("budgets: []\n")
    assert load_budgets(path) == ([], None)  # no settings: the config's apply
    cfg = write_config(tmp_path, "model_list: []\nlitellm_settings: {timezone: Asia/Kolkata, budget_reset_time: "
                                 "'06:00'}\ngeneral_settings: {apply_user_budget_to_team_keys: true}\n")
    assert config_settings(str(cfg)) == ResetSettings("Asia/Kolkata", time(6, 0), True)
    assert config_settings(None) == ResetSettings()
    path.write_text("budgets:\n  - {team_id: t, max_budget: 5, budget_duration: 2mo}\n")
    with pytest.raises(BudgetReplayError, match=r"budgets\[0\]: invalid budget_duration '2mo'"):
        load_budgets(path)


def test_next_reset_examples():
    monday = datetime(2025, 12, 3, 15, 0, tzinfo=timezone.utc)  # a Wednesday
    assert next_reset("7d", monday) == datetime(2025, 12, 8, tzinfo=timezone.utc)
    assert next_reset("30d", monday) == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert next_reset("5h", monday) == datetime(2025, 12, 3, 20, tzinfo=timezone.utc)
    assert next_reset("5h", monday + timedelta(hours=6)) == datetime(2025, 12, 4, 1, tzinfo=timezone.utc)


def test_price_replay_budgets(tmp_path, capsys):
    """``costcalc price LOGS --config CFG --replay-budgets FILE``: the replay section, at the config's prices."""
    logs = _log(tmp_path, [{"timestamp": DAY + 3600 * h, "key_alias": "k1"} for h in (1, 2, 3, 4, 5)])
    budgets = tmp_path / "budgets.yaml"
    budgets.write_text("budgets:\n  - {entity: key, id: k1, max_budget: 1, budget_duration: 1d}\n")
    config = write_config(tmp_path, CONFIG)
    run = costcalc(capsys, "price", logs, "--config", config, "--replay-budgets", budgets, "--format", "json")
    assert run.code == 0
    doc = json.loads(run.out)["budget_replay"]
    assert doc["refused_requests"] == 2 and doc["refused_cost"] == "0.8"
    assert doc["budgets"][0] == {"entity": "key", "id": "k1", "alias": None, "max_budget": 1.0, "budget_duration": "1d",
                                 "allowed_requests": 3, "refused_requests": 2, "refused_cost": "0.8",
                                 "first_refused": "2025-12-01T04:00:00+00:00",
                                 "blocked_until": ["2025-12-02T00:00:00+00:00"], "spent_in_last_window": "1.2"}
    markdown = costcalc(capsys, "price", logs, "--config", config, "--replay-budgets", budgets, "--format",
                        "markdown").out
    assert "| key=k1 | 1 | 1d | 3 | 2 | 0.8 | 2025-12-01T04:00:00+00:00 | 2025-12-02T00:00:00+00:00 | **BLOCKED** |" \
        in markdown
    # at the cheaper candidate's prices nobody is blocked
    cheaper = write_config(tmp_path, CHEAPER, "cheaper.yaml")
    run = costcalc(capsys, "price", logs, "--config", cheaper, "--replay-budgets", budgets, "--format", "json")
    assert json.loads(run.out)["budget_replay"]["refused_requests"] == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("budgets:\n  - {entity: org, id: o, max_budget: 1}\n")
    run = costcalc(capsys, "price", logs, "--replay-budgets", bad)
    assert run.code == 2 and "bad.yaml: budgets[0]: entity must be one of key, user, team, end_user, tag" in run.err


def test_budgets_from_the_proxys_database(tmp_path, capsys):
    """``--replay-budgets postgresql://…``: the budgets of LiteLLM's key, team, user, end-user and tag tables (a
    throwaway cluster with LiteLLM's schema), replayed over logs that name the key by its hashed token."""
    from .pg_server import start_server

    servers = start_server()
    server = next(servers)
    try:
        with server.connect() as conn:
            conn.execute('INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget, budget_duration, created_by, '
                         "updated_by) VALUES ('b1', 0.5, '1d', 'test', 'test'), ('b2', NULL, NULL, 'test', 'test')")
            conn.execute('INSERT INTO "LiteLLM_VerificationToken" (token, key_alias, max_budget, budget_duration) '
                         "VALUES ('hashed-1', 'prod-key', 1.0, '1d'), ('hashed-2', 'free', NULL, NULL)")
            conn.execute('INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, max_budget, budget_duration) '
                         "VALUES ('t1', 'search', 2.0, '7d')")
            conn.execute('INSERT INTO "LiteLLM_UserTable" (user_id, max_budget) VALUES (\'alice\', 3.0)')
            conn.execute('INSERT INTO "LiteLLM_EndUserTable" (user_id, budget_id) VALUES (\'cust-1\', \'b1\'), '
                         "('cust-2', 'b2')")
            conn.execute('INSERT INTO "LiteLLM_TagTable" (tag_name, budget_id, created_by) '
                         "VALUES ('feature:search', 'b1', 'test')")
        from costcalc.reports.budget_replay import load_database_budgets

        assert load_database_budgets(server.url()) == [
            Budget("key", "hashed-1", 1.0, "1d", "prod-key"), Budget("team", "t1", 2.0, "7d", "search"),
            Budget("user", "alice", 3.0), Budget("end_user", "cust-1", 0.5, "1d"),
            Budget("tag", "feature:search", 0.5, "1d")]
        logs = _log(tmp_path, [{"timestamp": DAY + 60 * m, "api_key": "hashed-1"} for m in range(4)])
        run = costcalc(capsys, "price", logs, "--config", write_config(tmp_path, CONFIG), "--replay-budgets",
                       server.url(), "--format", "json")
        assert run.code == 0, run.err
        key = json.loads(run.out)["budget_replay"]["budgets"][0]
        assert (key["alias"], key["allowed_requests"], key["refused_requests"]) == ("prod-key", 3, 1)
        assert server.password not in run.out + run.err
    finally:
        servers.close()
