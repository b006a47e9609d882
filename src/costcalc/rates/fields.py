"""The field lists LiteLLM 1.110.2's pricing depends on, generated from its wheel (data/litellm_fields.json).

- ``CUSTOM_PRICING_FIELDS``: pricing keys a deployment's ``litellm_params`` may set; others are dropped
  by the proxy (PRICING.md §7.1), and these are what turns custom pricing on (§7.2).
- ``MODEL_INFO_FIELDS``: the keys ``get_model_info`` passes on to the cost formulas; any other key reaches
  them only if it matches ``ABOVE_THRESHOLD`` (§2.6).
"""

from __future__ import annotations

import json
import re
from importlib import resources

_data = json.loads(resources.files("costcalc").joinpath("data/litellm_fields.json").read_text())

CUSTOM_PRICING_FIELDS: frozenset[str] = frozenset(_data["custom_pricing_fields"])
MODEL_INFO_FIELDS: frozenset[str] = frozenset(_data["model_info_fields"])
ABOVE_THRESHOLD = re.compile(_data["above_threshold_pattern"])

# Price-like keys of a model_info block (LiteLLM keeps every model_info key; these are the ones that price).
PRICE_KEY = re.compile(r"(cost|_per_|pricing|multiplier)")
