"""costcalc: price LLM usage exactly as a LiteLLM proxy would, offline.

The small public API::

    from costcalc import load_cost_map, load_config, PricingEngine, UsageRecord
    engine = PricingEngine(load_cost_map(), load_config("config.yaml"))
    outcome = engine.price(UsageRecord(file="-", line=1, model="gpt-4o", prompt_tokens=1000, completion_tokens=500))
    outcome.cost.total  # 0.0075
"""

__version__ = "0.1.0"

from .config import Deployment, ProxyConfig, load_config  # noqa: E402
from .costmap import CostMap, load_cost_map  # noqa: E402
from .engine import NotPriced, Priced, PricingEngine  # noqa: E402
from .errors import ConfigError, CostcalcError, CostMapError, UsageInputError  # noqa: E402
from .pricing import Cost, Pricer  # noqa: E402
from .resolve import PriceSheet, Resolver, Unpriced  # noqa: E402
from .usage import Rejected, Skipped, UsageRecord, read_usage  # noqa: E402

__all__ = [
    "ConfigError", "Cost", "CostMap", "CostMapError", "CostcalcError", "Deployment", "NotPriced", "PriceSheet",
    "Priced", "Pricer", "PricingEngine", "ProxyConfig", "Rejected", "Resolver", "Skipped", "Unpriced",
    "UsageInputError", "UsageRecord", "load_config", "load_cost_map", "read_usage",
]
