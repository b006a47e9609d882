"""Which deployment a LiteLLM proxy routes a call to (SPEC §2.2): a router_settings.model_group_alias rewrites the
called name first; then an exact model_name, else the most specific wildcard, else a deployment whose model is the
called name; among several, the one a record's model_id names.
"""

from __future__ import annotations

import re
from typing import Any

from .config import Deployment, ProxyConfig
from .costmap import CostMap
from .registration import RateCardRegistry

_MAX_WILDCARD_NAME = 512


def wildcard_regex(model_name: str) -> str:
    """LiteLLM's pattern router: ``*`` becomes a group, matched from the start (``re.match``, no end anchor)."""
    return re.escape(model_name).replace(r"\*", "(.*)")


def _specificity(model_name: str) -> tuple[int, int]:
    """LiteLLM tries longer regexes first, then those with more regex syntax (stable for ties)."""
    regex = wildcard_regex(model_name)
    return len(regex), sum(regex.count(ch) for ch in "*+?\\^$|()")


class DeploymentRouter:
    """The deployments of one config, indexed as the proxy's Router indexes them (by name, id and pattern)."""

    def __init__(self, cost_map: CostMap, config: ProxyConfig, registry: RateCardRegistry):
        self.cost_map = cost_map
        self.config = config
        self.registry = registry
        self._by_name: dict[str, list[Deployment]] = {}
        self._by_id: dict[str, Deployment] = {}
        self._last_by_identity: dict[str, Deployment] = {}
        self._by_model: dict[str, list[Deployment]] = {}
        self._wildcards: list[Deployment] = []
        self._wildcard_groups: dict[str, list[Deployment]] = {}
        for d in self.config.deployments:
            if d.is_wildcard:
                self._wildcards.append(d)
                self._wildcard_groups.setdefault(d.model_name, []).append(d)
            else:
                self._by_name.setdefault(d.model_name, []).append(d)
                self._by_model.setdefault(d.model, []).append(d)
            # a record's model_id is a configured model_info.id or the id the Router generated (identity)
            self._by_id.setdefault(d.identity, d)
            self._last_by_identity[d.identity] = d
        self._wildcards.sort(key=lambda d: _specificity(d.model_name), reverse=True)
        self._wildcard_regex = {d.model_name: re.compile(wildcard_regex(d.model_name)) for d in self._wildcards}

    def alias_target(self, model: str) -> str | None:
        """The model group router_settings.model_group_alias sends ``model`` to (applied once, before any
        model_name match: an alias shadows a deployment of the same name), else None."""
        return self.config.model_group_alias.get(model)

    def deployments_named(self, model: str) -> list[Deployment]:
        """Deployments a proxy routes ``model`` to: exact model_name; else the most specific wildcard (also
        tried as ``provider/model``, so a bare ``gpt-4o`` reaches ``openai/*``); else deployments whose
        ``litellm_params.model`` is exactly ``model``."""
        exact = self._by_name.get(model)
        if exact:
            return exact
        if self._wildcards:
            for name in self._wildcard_names(model):
                for d in self._wildcards:
                    if self._wildcard_regex[d.model_name].match(name):
                        return self._wildcard_groups[d.model_name]
        return self._by_model.get(model, [])

    def pick_deployment(self, model: str, model_id: str | None) -> tuple[Deployment | None, str | None]:
        """(deployment, note) as the proxy routes the record. ``model_id`` picks among the deployments the name
        reaches, else the first of them (noted if their prices differ); a name that reaches none falls back to the
        deployment with that id. Several deployments of one name are addressed by deployment id, and an id that
        several deployments share (the same model_info.id, or the same model_name + litellm_params, which LiteLLM
        hashes into the id) routes to the LAST of them: the Router's id index keeps the last registration."""
        group = self.deployments_named(model)
        if not group:
            if model_id is not None and model_id in self._by_id:
                return self._last_by_identity[self._by_id[model_id].identity], None
            return None, None
        chosen = next((d for d in group if d.identity == model_id), None) if model_id is not None else None
        note = None
        if len(group) > 1 and not group[0].is_wildcard:
            # what each member's id reaches (validate reports the shared ids themselves)
            group = [self._last_by_identity[d.identity] for d in group]
            chosen = None if chosen is None else self._last_by_identity[chosen.identity]
        if chosen is None:
            chosen = group[0]
            if len(group) > 1 and len({self._price_signature(d) for d in group}) > 1:
                which = "names no model_id" if model_id is None else f"names a model_id ({model_id}) none of them has"
                note = (f"{len(group)} deployments share the name {model!r} with different prices and the record "
                        f"{which}: priced with the first ({chosen.label})")
        return chosen, note

    def _price_signature(self, d: Deployment) -> tuple[Any, ...]:
        return (d.model, d.base_model, repr(sorted(self.registry.registered(d).entry.items())))

    def _wildcard_names(self, model: str) -> list[str]:
        """The request as the pattern router tries it: as called, then as ``provider/model``. Names longer
        than any model name are not matched: ``(.*)`` groups backtrack polynomially on them."""
        if len(model) > _MAX_WILDCARD_NAME:
            return []
        names = [model]
        found = self.cost_map.provider_of(model)
        if found is not None:
            names.append(f"{found[0]}/{model}")
        return names

    def served_model(self, d: Deployment, called: str) -> str:
        """The backend model a wildcard deployment calls for ``called`` (``openai/*`` → ``openai/gpt-4o``)."""
        if not d.is_wildcard or "*" not in d.model:
            return d.model
        regex = self._wildcard_regex[d.model_name]
        for name in self._wildcard_names(called):
            m = regex.match(name)
            if m is not None:
                if len(m.groups()) > d.model.count("*"):
                    return name
                out = d.model
                for part in m.groups():
                    out = out.replace("*", part, 1)
                return out
        return d.model
