"""Budget replay (``reports.budget_replay``) held to LiteLLM 1.110.2's budget code: its reset times by running
LiteLLM's own ``get_next_standardized_reset_time`` over a grid of durations, instants, time zones and reset times
of day; its refusals and soft-budget alerts by running LiteLLM's own budget checks (``proxy/auth/auth_checks.py``,
the budget reservation of ``proxy/spend_tracking/budget_reservation.py``) in the proxy's virtualenv, where their
FastAPI dependencies are (``tests/proxy/budget_oracle.py``; skipped with the install command without it, failed
under COSTCALC_REQUIRE_SERVICES=1), over a grid of spends and budgets; and the replay itself on planted logs whose
costs are worked by hand.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from costcalc.engines.streaming import PricingEngine
from costcalc.rates.config import load_config
from costcalc.rates.costmap import load_cost_map
from costcalc.reports.budget_replay import (
    Budget,
    BudgetReplayError,
    ResetSettings,
    budget_units,
    carried_spend,
    config_settings,
    free_model_groups,
    load_budgets,
    next_reset,
    refuses,
    replay,
    soft_alerts,
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


def _litellm_decides(cases: list[dict]) -> list[str]:
    """LiteLLM's own budget checks on ``cases`` (tests/proxy/budget_oracle.py, in the proxy's virtualenv)."""
    from .test_real_proxy import proxy_python

    python = proxy_python()
    done = subprocess.run([str(python), str(ORACLE)], input=json.dumps(cases), capture_output=True, text=True,
                          timeout=600, env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


ORACLE = Path(__file__).parent / "proxy" / "budget_oracle.py"
# spends around budgets of 0, 0.5, 1 and 10: below, 1e-13 below (inside the reservation's 1e-12), at, just over
SPENDS = (0.0, 0.25, 0.4999999999999, 0.5, 0.5000001, 0.9, 0.9999999999999, 1.0, 1.5, 9.999, 10.0, 12.0)
BUDGETS = (0.0, 0.5, 1.0, 10.0, math.inf, math.nan)
READ_CHECKS = ("key", "user", "team", "team_member", "organization", "end_user", "tag", "proxy")
RESERVATION_COST = 0.3  # what the reservation charges the request up front (any positive estimate)


def _budget_arg(budget: float) -> float | str:
    return budget if math.isfinite(budget) else str(budget)  # JSON has no NaN or infinity


def test_refusals_are_litellms_checks():
    """Every read-time budget check (key, user, team, team member, organization, end user, tag, the proxy-wide
    max_budget, a key's and a team's budget_limits windows), the budget reservation, and the soft-budget alerts of
    keys and teams, decided by LiteLLM's own functions on a grid of spends and budgets (NaN and infinity included),
    against costcalc's ``refuses`` and ``soft_alerts``."""
    grid = [(s, b) for s in SPENDS for b in BUDGETS]
    cases = [{"check": c, "spend": s, "budget": _budget_arg(b), "team_key": False, "apply": False}
             for c in READ_CHECKS for s, b in grid]
    cases += [{"check": c, "spend": s, "budget": _budget_arg(b)} for c in ("window_key", "window_team")
              for s, b in grid]
    # the reservation counter: LiteLLM makes one for a positive budget only (``_get_budget_counters``)
    reserved = [(s, b) for s, b in grid if b > 0]
    cases += [{"check": "reservation", "spend": s, "budget": _budget_arg(b), "cost": RESERVATION_COST}
              for s, b in reserved]
    cases += [{"check": c, "spend": s, "budget": _budget_arg(b)} for c in ("soft_key", "soft_team") for s, b in grid]
    decided = iter(_litellm_decides(cases))
    read = {(c, s, b): next(decided) == "refused" for c in READ_CHECKS for s, b in grid}
    # a key's and a team's budget_limits windows: both decided by costcalc's "window" check
    windows = {(c, s, b): next(decided) == "refused" for c in ("key window", "team window") for s, b in grid}
    reservation = {(s, b): next(decided) == "refused" for s, b in reserved}
    soft = {(c, s, b): next(decided) == "alerted" for c in ("key", "team") for s, b in grid}
    mismatches = []
    for (entity, s, b), refused in read.items():
        spent = budget_units(s)
        if refuses(entity, spent, b, reservation=False) != refused:
            mismatches.append(("read", entity, s, b, refused))
        # with the reservation on, the proxy refuses when either refuses (it keeps no counter for the proxy-wide
        # budget: ``_get_budget_counters``)
        both = refused or (entity != "proxy" and reservation.get((s, b), False))
        if refuses(entity, spent, b, reservation=True) != both:
            mismatches.append(("reservation", entity, s, b, both))
    for (which, s, b), refused in windows.items():
        if refuses("window", budget_units(s), b, reservation=False) != refused:
            mismatches.append(("read", which, s, b, refused))
    for (entity, s, b), alerted in soft.items():
        if soft_alerts(entity, budget_units(s), b) != alerted:
            mismatches.append(("soft", entity, s, b, alerted))
    assert mismatches == []
    # the grid holds each kind of decision: a team at its budget passes its own check, the reservation refuses it
    assert not read[("team", 1.0, 1.0)] and reservation[(1.0, 1.0)] and read[("key", 1.0, 1.0)]
    assert windows[("team window", 1.0, 1.0)]  # a team's window refuses at its budget, unlike the team's own
    assert read[("tag", 0.0, math.nan)] and not read[("key", 12.0, math.inf)]
    assert soft[("team", 0.0, 0.0)] and not soft[("key", 0.0, 0.0)]


def test_user_budget_on_team_keys_as_litellm_applies_it(tmp_path):
    """A user's personal budget on a team key's request: LiteLLM's ``common_checks`` against the replay, with and
    without ``apply_user_budget_to_team_keys`` (the user at $0.40 of a $0.40 budget after one call)."""
    cases = [{"check": "user", "spend": 0.4, "budget": 0.4, "team_key": team_key, "apply": apply}
             for team_key in (False, True) for apply in (False, True)]
    decided = _litellm_decides(cases)
    for case, litellm_decision in zip(cases, decided):
        rows = [{"timestamp": DAY + i, "user": "u1", **({"team_id": "t1"} if case["team_key"] else {})}
                for i in range(2)]
        settings = ResetSettings(apply_user_budget_to_team_keys=case["apply"], budget_reservation=False)
        (u,) = _run(tmp_path, rows, [Budget("user", "u1", 0.4)], settings=settings).outcomes
        assert ("refused" if u.refused else "allowed") == litellm_decision, case


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


def test_at_the_budget_keys_refuse_teams_only_by_the_reservation(tmp_path):
    """Spend exactly at max_budget: a key (>=) refuses; a team's own check (>) lets the request through, but the
    budget reservation (on by default) finds no room left and refuses it."""
    rows = [{"timestamp": DAY + i, "key_alias": "k1", "team_id": "t1"} for i in range(4)]
    out = _run(tmp_path, rows, [Budget("key", "k1", 0.8), Budget("team", "t1", 0.8)])
    key, team = out.outcomes
    assert (key.allowed, key.refused) == (2, 2)  # $0.80 after two calls: the third is refused
    assert (team.allowed, team.refused) == (2, 2)  # and the team's reservation refuses it too
    no_reservation = ResetSettings(budget_reservation=False)
    (team,) = _run(tmp_path, rows, [Budget("team", "t1", 0.8)], settings=no_reservation).outcomes
    assert (team.allowed, team.refused) == (3, 1)  # $0.80 is not over 0.8: the third runs, the fourth is refused
    (team,) = _run(tmp_path, rows, [Budget("team", "t1", 0.8)]).outcomes
    assert (team.allowed, team.refused) == (2, 2)


def test_team_member_and_organization_budgets(tmp_path):
    """A user's budget within a team (only that team's requests), an organization's over its teams' requests,
    and a team's soft budget that alerts without refusing."""
    rows = [{"timestamp": DAY + 60 * i, "user": "u1", "team_id": "t1"} for i in range(3)]
    rows += [{"timestamp": DAY + 60 * i + 1, "user": "u1", "team_id": "t2"} for i in range(3)]
    member = Budget("team_member", "u1", 0.4, teams=("t1", "search"))
    org = Budget("organization", "o1", 1.0, alias="acme", teams=("t2",))
    soft = Budget("team", "t2", None, soft_budget=0.4)
    m, o, t = _run(tmp_path, rows, [member, org, soft]).outcomes
    # t1's first call takes u1 to $0.40 in t1: the next two are refused; t2's calls do not count for it
    assert (m.allowed, m.refused, m.first_refused) == (1, 2, DAY + 60)
    # t2: $0.40, $0.80; the third leaves $0.20 of room: it runs (the reservation shrinks to what is left)
    assert (o.allowed, o.refused) == (3, 0)
    assert (t.allowed, t.refused, t.first_soft_alert, t.status) == (3, 0, DAY + 61, "soft alert")
    assert m.as_dict()["status"] == "blocked" and member.label == "team_member=u1@search"


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
    assert doc["budgets"][0] == {"entity": "key", "id": "k1", "alias": None, "teams": None, "max_budget": 1.0,
                                 "soft_budget": None, "budget_duration": "1d",
                                 "allowed_requests": 3, "refused_requests": 2, "refused_cost": "0.8",
                                 "first_refused": "2025-12-01T04:00:00+00:00",
                                 "blocked_until": ["2025-12-02T00:00:00+00:00"], "first_soft_alert": None,
                                 "spent_in_last_window": "1.2", "status": "blocked"}
    markdown = costcalc(capsys, "price", logs, "--config", config, "--replay-budgets", budgets, "--format",
                        "markdown").out
    # the report's money format on screen (JSON above keeps every digit)
    assert "| key=k1 | $1.00 | 1d | 3 | 2 | $0.80 | 2025-12-01T04:00:00+00:00 | 2025-12-02T00:00:00+00:00 | " \
        "**BLOCKED** |" in markdown
    markdown = costcalc(capsys, "price", logs, "--config", config, "--replay-budgets", budgets, "--format",
                        "markdown", "--decimals", "3").out
    assert "| key=k1 | $1.000 | 1d | 3 | 2 | $0.800 |" in markdown and "costing $0.800" in markdown
    # at the cheaper candidate's prices nobody is blocked
    cheaper = write_config(tmp_path, CHEAPER, "cheaper.yaml")
    run = costcalc(capsys, "price", logs, "--config", cheaper, "--replay-budgets", budgets, "--format", "json")
    assert json.loads(run.out)["budget_replay"]["refused_requests"] == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("budgets:\n  - {entity: org, id: o, max_budget: 1}\n")
    run = costcalc(capsys, "price", logs, "--replay-budgets", bad)
    assert run.code == 2
    assert "bad.yaml: budgets[0]: entity must be one of key, user, team, team_member, organization, end_user, tag" \
        in run.err


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
            conn.execute('INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget, budget_duration, created_by, '
                         "updated_by, temp_budget_increase, temp_budget_expiry) VALUES ('b3', 0.25, '30d', 'test', "
                         "'test', 0.5, '2025-12-01 00:01:30'), ('b4', 40, NULL, 'test', 'test', NULL, NULL)")
            conn.execute('INSERT INTO "LiteLLM_OrganizationTable" (organization_id, organization_alias, budget_id, '
                         "created_by, updated_by) VALUES ('o1', 'acme', 'b4', 'test', 'test')")
            conn.execute('INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, max_budget, budget_duration, '
                         "soft_budget, organization_id, budget_limits) VALUES ('t1', 'search', 2.0, '7d', 1.5, 'o1', "
                         "NULL), ('t2', NULL, NULL, NULL, NULL, 'o1', "
                         """'[{"budget_duration": "1h", "max_budget": 0.5}]')""")
            conn.execute('INSERT INTO "LiteLLM_TeamMembership" (user_id, team_id, budget_id) '
                         "VALUES ('alice', 't1', 'b3'), ('bob', 't1', NULL)")
            conn.execute('INSERT INTO "LiteLLM_UserTable" (user_id, max_budget) VALUES (\'alice\', 3.0)')
            conn.execute('INSERT INTO "LiteLLM_EndUserTable" (user_id, budget_id) VALUES (\'cust-1\', \'b1\'), '
                         "('cust-2', 'b2')")
            conn.execute('INSERT INTO "LiteLLM_TagTable" (tag_name, budget_id, created_by) '
                         "VALUES ('feature:search', 'b1', 'test')")
        from costcalc.reports.budget_replay import load_database_budgets

        assert load_database_budgets(server.url()) == [
            Budget("key", "hashed-1", 1.0, "1d", "prod-key"),
            Budget("team", "t1", 2.0, "7d", "search", soft_budget=1.5), Budget("team", "t2", 0.5, "1h", window=True),
            Budget("user", "alice", 3.0), Budget("team_member", "alice", 0.25, "30d", teams=("t1", "search"),
                                               temp_increase=0.5, temp_expiry=DAY + 90),
            Budget("organization", "o1", 40.0, alias="acme", teams=("t1", "t2")),
            Budget("end_user", "cust-1", 0.5, "1d"),
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


def test_diff_against_replays_under_both_configs(tmp_path, capsys):
    """``diff --config NEW --against CURRENT --replay-budgets FILE``: who would have been blocked under each. At the
    current $0.40 a call the key's $1/day budget refuses the 4th and 5th calls ($0.80); at the new $0.20 a call the
    five calls come to $1.00 and all run. Another key's five tagged calls, half an hour later each: the tag's $0.50
    refuses from the 3rd call under current ($0.40, $0.80: 3 refused, $1.20), from the 4th under new ($0.20,
    $0.40, $0.60: 2 refused, $0.40)."""
    logs = _log(tmp_path, [{"timestamp": DAY + 3600 * h, "key_alias": "k1"} for h in (1, 2, 3, 4, 5)]
                + [{"timestamp": DAY + 3600 * h + 1800, "key_alias": "k2", "tags": ["batch"]} for h in (1, 2, 3, 4, 5)])
    budgets = tmp_path / "budgets.yaml"
    budgets.write_text("budgets:\n  - {entity: key, id: k1, max_budget: 1, budget_duration: 1d}\n"
                       "  - {entity: tag, id: batch, max_budget: 0.5}\n")
    current, new = write_config(tmp_path, CONFIG, "current.yaml"), write_config(tmp_path, CHEAPER, "new.yaml")
    run = costcalc(capsys, "diff", logs, "--config", new, "--against", current, "--replay-budgets", budgets,
                   "--format", "json")
    assert run.code == 0, run.err
    doc = json.loads(run.out)["budget_replay"]
    key, tag = doc["budgets"]
    assert (key["budget"], key["current"]["refused_requests"], key["current"]["refused_cost"]) == ("key=k1", 2, "0.8")
    assert key["current"]["first_refused"] == "2025-12-01T04:00:00+00:00"
    assert (key["new"]["refused_requests"], key["new"]["status"]) == (0, "ok")
    assert (tag["current"]["refused_requests"], tag["current"]["refused_cost"]) == (3, "1.2")
    assert (tag["new"]["refused_requests"], tag["new"]["refused_cost"]) == (2, "0.4")
    assert doc["totals"] == {"current": {"refused_requests": 5, "refused_cost": "2", "undated_records": 0},
                             "new": {"refused_requests": 2, "refused_cost": "0.4", "undated_records": 0}}
    table = " ".join(costcalc(capsys, "diff", logs, "--config", new, "--against", current, "--replay-budgets",
                              budgets).out.split())
    assert "key=k1 2 ($0.80) from 2025-12-01T04:00:00+00:00 - unblocked" in table
    assert "tag=batch 3 ($1.20) from 2025-12-01T03:30:00+00:00 2 ($0.40) from 2025-12-01T04:30:00+00:00 -1 refused" \
        in table and "total 5 ($2.00) 2 ($0.40)" in table
    run = costcalc(capsys, "diff", "--config", new, "--replay-budgets", budgets)
    assert run.code == 2 and "--replay-budgets" in run.err and "goes with --against" in run.err


FREE_CONFIGS = {  # model group "f" under each config: is it a free model (no budget checks)?
    "zero prices in litellm_params": {"model": "openai/my-model", "input_cost_per_token": 0,
                                      "output_cost_per_token": 0},
    "zero input only, unknown model": {"model": "openai/my-model", "input_cost_per_token": 0},
    "zero input only, known model": {"model": "openai/gpt-4o", "input_cost_per_token": 0},
    "a known model zeroed": {"model": "openai/gpt-4o", "input_cost_per_token": 0, "output_cost_per_token": 0},
    "the cost map's prices": {"model": "openai/gpt-4o"},
    "an unknown model": {"model": "openai/my-model"},
    "a positive price": {"model": "openai/my-model", "input_cost_per_token": 1e-6, "output_cost_per_token": 0},
}


def _model_list(params: dict, info: dict | None = None) -> list[dict]:
    return [{"model_name": "f", "litellm_params": params, **({"model_info": info} if info else {})}]


def test_free_models_and_rollover_are_litellms(tmp_path):
    """The free-model bypass (LiteLLM's ``is_model_cost_zero`` on a Router of the same model_list) and
    ``budget_rollover`` (the reset job's own ``_reset_budget_common`` on a team row), against costcalc's
    ``free_model_groups`` and ``carried_spend``."""
    import yaml

    lists = {name: _model_list(params) for name, params in FREE_CONFIGS.items()}
    lists["zero prices in model_info"] = _model_list({"model": "openai/my-model"},
                                                     {"input_cost_per_token": 0, "output_cost_per_token": 0})
    lists["one free deployment, one priced"] = (_model_list(FREE_CONFIGS["zero prices in litellm_params"])
                                                + _model_list(FREE_CONFIGS["a positive price"]))
    lists["PTU capacity billed flat"] = _model_list(
        {"model": "azure/my-model", "input_cost_per_token": 0, "output_cost_per_token": 0, "api_base":
         "https://example.invalid", "api_key": "k"}, {"ptu_count": 1, "cost_per_ptu_per_hour": 2})
    rollovers = [(s, b, on) for s in (0.0, 0.5, 1.0, 1.25, 3.0) for b in (0.0, 1.0, math.inf) for on in (False, True)]
    cases = [{"check": "free", "model_list": ml} for ml in lists.values()]
    cases += [{"check": "rollover", "spend": s, "budget": _budget_arg(b), "enabled": on} for s, b, on in rollovers]
    decided = _litellm_decides(cases)
    cm = load_cost_map()
    for (name, ml), litellm_free in zip(lists.items(), decided):
        config = write_config(tmp_path, yaml.safe_dump({"model_list": ml}), "free.yaml")
        ours = "f" in free_model_groups(PricingEngine(cm, load_config(config)))
        assert ours == litellm_free, name
    assert decided[:3] == [True, True, False]  # the grid holds both answers
    for (s, b, on), litellm_spend in zip(rollovers, decided[len(lists):]):
        ours = carried_spend(budget_units(s), b) if on else 0
        assert ours == budget_units(litellm_spend), (s, b, on)


def test_free_model_requests_run_over_budget_and_rollover_carries_overspend(tmp_path):
    """A free model's requests run with the key over its budget; with budget_rollover the $0.40 spent over a
    $1.00 daily budget is where the next day starts ($1.20 - $1.00 = $0.20)."""
    config = CONFIG + """  - model_name: free
    litellm_params: {model: openai/free, input_cost_per_token: 0, output_cost_per_token: 0}
"""
    rows = [{"timestamp": DAY + i, "key_alias": "k1"} for i in range(4)]
    rows.append({"timestamp": DAY + 10, "key_alias": "k1", "model": "free"})
    engine = PricingEngine(load_cost_map(), load_config(write_config(tmp_path, config)))
    free = free_model_groups(engine)
    assert free == {"free"}
    (k,) = replay(engine.run([str(_log(tmp_path, rows))]), [Budget("key", "k1", 1.0, "1d")], free_groups=free).outcomes
    assert (k.allowed, k.refused) == (4, 1)  # $1.20 after three; the fourth refused, the free one runs
    rows = [{"timestamp": DAY + 3600 * h, "key_alias": "k1"} for h in (1, 2, 3)]
    rows += [{"timestamp": DAY + 86400 + 3600 * h, "key_alias": "k1"} for h in (1, 2, 3)]
    for rollover, day_two in ((False, 3), (True, 2)):
        (k,) = _run(tmp_path, rows, [Budget("key", "k1", 1.0, "1d")],
                    settings=ResetSettings(budget_rollover=rollover)).outcomes
        # day 2 starts at $0 (three calls run) or at the $0.20 carried over ($0.60, $1.00: the third is refused)
        assert k.allowed == 3 + day_two, rollover


def test_budget_limits_windows(tmp_path):
    """A key with a $2 budget and two budget_limits windows, $0.80 an hour and $1.20 a day: six calls at $0.40,
    two an hour (00:10, 00:40, 01:10, 01:40, 02:10, 02:40). Hour 0: $0.40, $0.80; hour 1: $0.40 (day $1.20), then
    the day window is at its $1.20: refused; hour 2 likewise. The key's own $2 never binds."""
    rows = [{"timestamp": DAY + 600 + 1800 * i, "key_alias": "k1"} for i in range(6)]
    path = tmp_path / "budgets.yaml"
    path.write_text("budgets:\n  - {entity: key, id: k1, max_budget: 2, budget_limits: "
                    "[{budget_duration: 1h, max_budget: 0.8}, {budget_duration: 1d, max_budget: 1.2}]}\n")
    budgets, _ = load_budgets(path)
    assert [(b.label, b.max_budget, b.duration, b.window) for b in budgets] == [
        ("key=k1", 2.0, None, False), ("key=k1 (1h window)", 0.8, "1h", True),
        ("key=k1 (1d window)", 1.2, "1d", True)]
    key, hour, day = _run(tmp_path, rows, budgets).outcomes
    assert (hour.allowed, hour.refused, day.allowed, day.refused) == (3, 0, 3, 3)
    assert (key.allowed, key.refused, day.first_refused) == (3, 0, DAY + 600 + 1800 * 3)
    path.write_text("budgets:\n  - {entity: tag, id: t, budget_limits: [{budget_duration: 1h, max_budget: 1}]}\n")
    with pytest.raises(BudgetReplayError, match=r"budgets\[0\]: budget_limits: a list of windows, on a key or a team"):
        load_budgets(path)


def test_a_keys_budget_row_as_litellms_key_view_reads_it():
    """A key's max_budget and soft_budget from its row and the LiteLLM_BudgetTable row it links: the proxy's
    ``LiteLLM_VerificationTokenView`` on the joined values against costcalc's database read of the same rows (a
    throwaway cluster with LiteLLM's schema)."""
    from costcalc.reports.budget_replay import load_database_budgets

    from .pg_server import start_server

    combos = [(1.0, 5.0, None), (None, 5.0, 4.0), (None, None, 4.0), (2.0, None, None), (None, 5.0, None)]
    decided = _litellm_decides([{"check": "key_view", "key_max_budget": k, "table_max_budget": t,
                                 "table_soft_budget": soft} for k, t, soft in combos])
    servers = start_server()
    server = next(servers)
    try:
        with server.connect() as conn:
            for i, (key_max, table_max, soft) in enumerate(combos):
                conn.execute('INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget, soft_budget, budget_duration, '
                             "created_by, updated_by) VALUES (%s, %s, %s, '1d', 'test', 'test')",
                             (f"b{i}", table_max, soft))
                conn.execute('INSERT INTO "LiteLLM_VerificationToken" (token, max_budget, budget_id) '
                             "VALUES (%s, %s, %s)", (f"key-{i}", key_max, f"b{i}"))
        loaded = {b.id: (b.max_budget, b.soft_budget, b.duration) for b in load_database_budgets(server.url())}
    finally:
        servers.close()
    for i, (litellm_max, litellm_soft) in enumerate(decided):
        # the key's own row has no budget_duration: the budget row's (1d) resets it
        assert loaded[f"key-{i}"] == (litellm_max, litellm_soft, "1d"), combos[i]
    assert decided[1] == [5.0, 4.0]  # the budget row's max_budget where the key has none


def test_a_team_members_temporary_increase_is_litellms(tmp_path):
    """A team member's $0.40 budget raised by $0.40 until 00:01:30: the budget in force before, at and after the
    expiry (naive and zoned expiries) by LiteLLM's ``resolve_effective_team_member_budget``, against
    ``Budget.limit_at``; replayed, the second call (at $0.40, under the raised $0.80) runs, the third (00:02, at
    $0.80 over the plain $0.40) is refused."""
    expiry = datetime.fromtimestamp(DAY + 90, timezone.utc)
    path = tmp_path / "budgets.yaml"
    cases, budgets = [], []
    for text in (expiry.isoformat(), expiry.replace(tzinfo=None).isoformat()):
        path.write_text(f"budgets:\n  - {{entity: team_member, id: u1, team: t1, max_budget: 0.4, "
                        f"temp_budget_increase: 0.4, temp_budget_expiry: '{text}'}}\n")
        (budget,), _ = load_budgets(path)
        budgets.append(budget)
        for at in (DAY, DAY + 89, DAY + 90, DAY + 91):
            cases.append(({"check": "member_limit", "max_budget": 0.4, "increase": 0.4, "expiry": text,
                           "now": datetime.fromtimestamp(at, timezone.utc).isoformat()}, budget, at))
    decided = _litellm_decides([c for c, _, _ in cases])
    assert [b.limit_at(at) for _, b, at in cases] == decided
    assert decided[:4] == [0.8, 0.8, 0.4, 0.4]
    rows = [{"timestamp": DAY + 60 * i, "user": "u1", "team_id": "t1"} for i in range(3)]
    (m,) = _run(tmp_path, rows, budgets[:1]).outcomes
    assert (m.allowed, m.refused, m.first_refused) == (2, 1, DAY + 120)


def test_the_configs_proxy_wide_budget(tmp_path, capsys):
    """litellm_settings.max_budget $1.00 a day over every request: $0.40, $0.80, $1.20 run (the proxy refuses only
    over it, and keeps no reservation for it), the 4th and 5th are refused; the next day starts again. A budgets
    file's own proxy entry wins over the config's; the proxy's user row of that name is the proxy-wide budget."""
    logs = _log(tmp_path, [{"timestamp": DAY + 60 * i, "key_alias": f"k{i}"} for i in range(5)]
                + [{"timestamp": DAY + 86400 + 60, "key_alias": "k9"}])
    config = write_config(tmp_path, CONFIG + "litellm_settings: {max_budget: 1.0, budget_duration: 1d}\n")
    budgets = tmp_path / "budgets.yaml"
    budgets.write_text("budgets: []\n")
    run = costcalc(capsys, "price", logs, "--config", config, "--replay-budgets", budgets, "--format", "json")
    (proxy,) = json.loads(run.out)["budget_replay"]["budgets"]
    assert (proxy["entity"], proxy["allowed_requests"], proxy["refused_requests"]) == ("proxy", 4, 2)
    assert proxy["blocked_until"] == ["2025-12-02T00:00:00+00:00"]
    budgets.write_text("budgets:\n  - {entity: proxy, max_budget: 2}\n  - {user_id: litellm-proxy-budget, "
                       "max_budget: 3}\n")
    loaded, _ = load_budgets(budgets)
    assert [(b.entity, b.id, b.max_budget) for b in loaded] == [("proxy", "litellm-proxy-budget", 2.0),
                                                                 ("proxy", "litellm-proxy-budget", 3.0)]
    run = costcalc(capsys, "price", logs, "--config", config, "--replay-budgets", budgets, "--format", "json")
    assert [b["refused_requests"] for b in json.loads(run.out)["budget_replay"]["budgets"]] == [0, 0]
