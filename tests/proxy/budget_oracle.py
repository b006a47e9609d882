"""LiteLLM's own budget checks, run on the cases given on standard input (one JSON list), in the proxy's
virtualenv (tests/test_budget_replay.py starts it; its FastAPI dependencies are only there). Prints one JSON list
of decisions: "refused" when LiteLLM's check raises BudgetExceededError, "alerted" when a soft-budget check sends
an alert, else "allowed"; for "free", whether the model is free (no budget checks); for "rollover", the spend the
reset job leaves.

A case: {"check": key | user | team | team_member | organization | end_user | tag | proxy | window_key | window_team
| reservation | soft_key | soft_team | rollover, "spend": float, "budget": float (or "nan" / "inf"), and for user:
"team_key", "apply"; for rollover: "enabled"} or {"check": "free", "model_list": [...]} or {"check": "key_view",
"key_max_budget", "table_max_budget", "table_soft_budget"} (the key's budget and soft budget) or {"check":
"member_limit", "max_budget", "increase", "expiry", "now"} (a team member's budget at "now"). The spend is the
entity's recorded spend (the value the proxy's reset job zeroes and its spend writer increments); the window and
reservation cases seed the proxy's own in-process spend counter with it, as the proxy does from its database.
Each case names its own entity (distinct ids), so no counter carries over from one case to the next.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime, timezone

import litellm
from litellm.models.budget import LiteLLM_BudgetTable
from litellm.models.end_user import LiteLLM_EndUserTable
from litellm.models.organization import LiteLLM_OrganizationTable
from litellm.models.tag import LiteLLM_TagTable
from litellm.models.team_membership import LiteLLM_TeamMembership
from litellm.proxy import proxy_server
from litellm.proxy._types import LiteLLM_TeamTable, LiteLLM_UserTable, UserAPIKeyAuth
from litellm.proxy.auth import auth_checks
from litellm.proxy.spend_tracking import budget_reservation
from starlette.requests import Request


class Alerts:
    """The proxy logging object's budget_alerts, recorded (the checks call nothing else on it here)."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def budget_alerts(self, type: str, user_info: object) -> None:  # LiteLLM's keyword
        self.sent.append(type)


def _number(value: object) -> float:
    return float(value)  # "nan" and "inf" too


async def _decide(i: int, case: dict) -> str | bool | float | list:
    if case["check"] == "key_view":  # a key's row joined with its budget row, as the proxy's key view reads it
        from litellm.types.proxy.auth.user_api_key_auth import LiteLLM_VerificationTokenView

        view = LiteLLM_VerificationTokenView(token=f"key-{i}", max_budget=case["key_max_budget"],
                                             litellm_budget_table_max_budget=case["table_max_budget"],
                                             litellm_budget_table_soft_budget=case["table_soft_budget"])
        return [view.max_budget, view.soft_budget]
    if case["check"] == "member_limit":  # a team member's budget in force at "now", temporary increase included
        member = LiteLLM_BudgetTable(max_budget=case["max_budget"], temp_budget_increase=case["increase"],
                                     temp_budget_expiry=datetime.fromisoformat(case["expiry"]))
        return auth_checks.resolve_effective_team_member_budget(
            member_budget=member, team_default_budget=None, now=datetime.fromisoformat(case["now"]))
    if case["check"] == "free":  # is a request to model "f" of this model_list exempt from every budget check
        return auth_checks.is_model_cost_zero(model="f", llm_router=litellm.Router(model_list=case["model_list"]))
    check, spend, budget = case["check"], float(case["spend"]), _number(case["budget"])
    alerts = Alerts()
    cache = proxy_server.user_api_key_cache
    try:
        if check == "key":
            await auth_checks.virtual_key_max_budget_check(
                valid_token=UserAPIKeyAuth(token=f"key-{i}", max_budget=budget, spend=spend), proxy_logging_obj=alerts)
        elif check == "user":
            team = LiteLLM_TeamTable(team_id=f"team-{i}") if case["team_key"] else None
            # a team key without a user of its own: the team-member check has nothing to load
            token = UserAPIKeyAuth(token=f"key-{i}", user_id=None if team else f"user-{i}",
                                   team_id=team.team_id if team else None)
            request = Request({"type": "http", "method": "POST", "path": "/chat/completions", "headers": [],
                               "query_string": b""})
            await auth_checks.common_checks(
                request_body={"model": "m"}, team_object=team,
                user_object=LiteLLM_UserTable(user_id=f"user-{i}", max_budget=budget, spend=spend),
                end_user_object=None, global_proxy_spend=None,
                general_settings={"apply_user_budget_to_team_keys": case["apply"]}, route="/chat/completions",
                llm_router=None, proxy_logging_obj=alerts, valid_token=token, request=request)
        elif check == "team":
            await auth_checks.team_max_budget_check(
                team_object=LiteLLM_TeamTable(team_id=f"team-{i}", max_budget=budget, spend=spend),
                valid_token=None, proxy_logging_obj=alerts)
        elif check == "team_member":
            membership = LiteLLM_TeamMembership(
                user_id=f"user-{i}", team_id=f"team-{i}", spend=spend,
                litellm_budget_table=LiteLLM_BudgetTable(max_budget=budget))
            await auth_checks._check_team_member_budget(
                team_object=LiteLLM_TeamTable(team_id=f"team-{i}"), user_object=None,
                valid_token=UserAPIKeyAuth(token=f"key-{i}", user_id=f"user-{i}", team_id=f"team-{i}"),
                prisma_client=None, user_api_key_cache=cache, proxy_logging_obj=alerts,
                team_membership=membership, team_membership_loaded=True)
        elif check == "organization":
            org = LiteLLM_OrganizationTable(organization_id=f"org-{i}", budget_id=f"b-{i}", spend=spend,
                                            created_by="t", updated_by="t",
                                            litellm_budget_table=LiteLLM_BudgetTable(max_budget=budget))

            async def org_object(**_: object) -> LiteLLM_OrganizationTable:  # the database's row
                return org

            auth_checks.get_org_object = org_object
            await auth_checks.organization_max_budget_check(
                valid_token=UserAPIKeyAuth(token=f"key-{i}", org_id=f"org-{i}"), team_object=None,
                prisma_client=object(), user_api_key_cache=cache, proxy_logging_obj=alerts)
        elif check == "end_user":
            await auth_checks.check_end_user_budget(
                end_user_obj=LiteLLM_EndUserTable(user_id=f"customer-{i}", blocked=False, spend=spend,
                                                  litellm_budget_table=LiteLLM_BudgetTable(max_budget=budget)),
                route="/chat/completions")
        elif check == "tag":
            tag = LiteLLM_TagTable(tag_name=f"tag-{i}", spend=spend,
                                   litellm_budget_table=LiteLLM_BudgetTable(max_budget=budget))

            async def tag_objects(**_: object) -> dict:  # the database's rows
                return {tag.tag_name: tag}

            auth_checks.get_tag_objects_batch = tag_objects
            await auth_checks.tag_max_budget_check_for_tags(
                tags=[tag.tag_name], prisma_client=object(), user_api_key_cache=cache, proxy_logging_obj=alerts,
                valid_token=None)
        elif check == "reservation":
            counter = budget_reservation._BudgetCounter(counter_key=f"spend:team:reserve-{i}", max_budget=budget,
                                                        fallback_spend=spend, entity_type="Team",
                                                        entity_id=f"reserve-{i}")
            if spend > 0:
                await proxy_server.increment_spend_counter_cache(counter_key=counter.counter_key, increment=spend)
            await budget_reservation._reserve_reservable_counters(
                reservable=[counter], valid_token=None, applied_entries=[], reservation_cost=float(case["cost"]),
                fail_closed_budget_enforcement=False)
        elif check in ("window_key", "window_team"):  # one budget_limits window, its counter seeded with the spend
            from litellm.redis.stores.spend_counters import key_window_counter, team_window_counter

            window = [{"budget_duration": "1d", "max_budget": budget}]
            if check == "window_key":
                counter = key_window_counter(f"key-{i}", "1d")
                run = auth_checks._virtual_key_multi_budget_check(
                    valid_token=UserAPIKeyAuth(token=f"key-{i}", budget_limits=window))
            else:
                counter = team_window_counter(f"team-{i}", "1d")
                run = auth_checks._team_multi_budget_check(
                    team_object=LiteLLM_TeamTable(team_id=f"team-{i}", budget_limits=window))
            if spend > 0:
                await proxy_server.increment_spend_counter_cache(counter_key=counter, increment=spend)
            await run
        elif check == "soft_key":
            await auth_checks.virtual_key_soft_budget_check(
                valid_token=UserAPIKeyAuth(token=f"key-{i}", soft_budget=budget, spend=spend),
                proxy_logging_obj=alerts)
        elif check == "soft_team":
            await auth_checks._team_soft_budget_check(
                team_object=LiteLLM_TeamTable(team_id=f"team-{i}", soft_budget=budget, spend=spend,
                                              metadata={"soft_budget_alerting_emails": ["ops@example.com"]}),
                valid_token=UserAPIKeyAuth(token=f"key-{i}", team_id=f"team-{i}"), proxy_logging_obj=alerts)
        elif check == "proxy":  # the proxy-wide litellm_settings.max_budget over the proxy's whole spend
            litellm.max_budget = budget
            auth_checks._global_proxy_budget_check(global_proxy_spend=spend, skip_budget_checks=False,
                                                   route="/chat/completions")
        elif check == "rollover":  # the reset job's own reset of a team's spend: what the next window starts with
            from litellm.proxy.common_utils.reset_budget_job import ResetBudgetJob
            from litellm.proxy.common_utils.timezone_utils import BudgetResetSettings

            litellm.budget_rollover = case["enabled"]
            team = LiteLLM_TeamTable(team_id=f"team-{i}", max_budget=budget, spend=spend)
            await ResetBudgetJob._reset_budget_common(item=team, current_time=datetime.now(timezone.utc),
                                                      item_type="team", reset_settings=BudgetResetSettings())
            return team.spend
        else:
            raise ValueError(f"unknown check {check!r}")
    except litellm.BudgetExceededError:
        return "refused"
    await asyncio.sleep(0)  # the alerts are tasks the checks create
    return "alerted" if alerts.sent and check.startswith("soft") else "allowed"


async def main() -> None:
    cases = json.load(sys.stdin)
    print(json.dumps([await _decide(i, case) for i, case in enumerate(cases)]))


if __name__ == "__main__":
    asyncio.run(main())
