"""Which fields of a usage record name a team, a key, a user, a customer or an organisation (group keys)."""

from __future__ import annotations

# The names people know first (aliases a LiteLLM spend log carries), then the ids. Each entry is a field of the
# record or of its ``metadata``; the first one set wins.
NAME_FIELDS: dict[str, tuple[str, ...]] = {
    "team": ("team_alias", "user_api_key_team_alias", "team", "team_id", "user_api_key_team_id"),
    "key": ("key_alias", "user_api_key_alias", "key_name", "key", "api_key", "user_api_key"),
    "user": ("user_email", "user_api_key_user_email", "user", "user_id", "user_api_key_user_id"),
    "customer": ("end_user", "customer", "end_user_id", "user_api_key_end_user_id"),
    "org": ("organization_alias", "org_alias", "user_api_key_org_alias", "org", "organization_id", "org_id",
            "user_api_key_org_id"),
}

# The ids a user joins a per-record output on (LiteLLM's tables key on them), apart from the names above: each
# a field of the record or of its ``metadata`` (a spend-log row, a standard logging payload), first set wins.
ID_FIELDS: dict[str, tuple[str, ...]] = {
    "team_id": ("team_id", "user_api_key_team_id"),
    "team_alias": ("team_alias", "user_api_key_team_alias"),
    "user_id": ("user_id", "user_api_key_user_id"),
    "key_alias": ("key_alias", "user_api_key_alias"),
    "key_id": ("api_key", "user_api_key", "user_api_key_hash"),  # the hashed token (LiteLLM_VerificationToken)
}
