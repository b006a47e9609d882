"""``--format focus``: the run as a FinOps FOCUS 1.2 cost and usage dataset (CSV), for finance tools.

One row per UTC day × deployment × team (a deployment is a config ``model_list`` entry; a record priced straight
from the cost map counts under its cost-map key). Every column FOCUS 1.2 marks Mandatory is present, with its
data type and allowed values, and so are the conditional columns this data can fill:

- BilledCost = EffectiveCost: the cost the proxy books (config prices, then discount and margin), the number the
  rest of costcalc reports. ContractedCost: the same records at the config's negotiated prices, before discount
  and margin. ListCost: at the public cost map's prices (what the provider lists); a record whose model has no
  public price (a custom deployment) is listed at its contracted cost and counted in ``x_ListPriceMissing``.
- ChargePeriodStart/End: the day; BillingPeriodStart/End: its calendar month (UTC, FOCUS' date/time format).
- ProviderName = PublisherName = InvoiceIssuerName: the LiteLLM provider that served the call (openai, azure, …);
  BillingAccountId: the same provider (costcalc does not know the account number on the invoice).
- SubAccountId/Name: the team; ResourceId: the deployment (label as reports show it); ResourceName: the model
  name clients call.
- ConsumedQuantity = PricingQuantity: tokens (prompt + completion), or seconds for per-second deployments,
  with ConsumedUnit = PricingUnit = "Tokens" / "Seconds"; PricingCategory "Standard" (agreed rates).
- Left out, as FOCUS 1.2 allows for conditional columns: unit prices and SKU ids (a row mixes input, cached and
  output tokens, which have different rates, so no single unit price times the quantity gives the cost; when
  present FOCUS forbids them null on usage rows), regions, availability zones and commitment discounts.
- ``x_`` columns (FOCUS' prefix for custom columns) carry the request count, the token split and the models.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import IO

import orjson

from .aggregate import NONE
from .cells import SafeCsvDictWriter
from .ledger import SCALE, Cell, Ledger, decimal_text, dollars

FOCUS_VERSION = "1.2"

# FOCUS 1.2's Mandatory columns (specification/columns, feature level "Mandatory"), in the spec's order.
MANDATORY = ("BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
             "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd",
             "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost",
             "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName")
# Conditional and recommended columns this data fills.
OPTIONAL = ("ChargeFrequency", "ConsumedQuantity", "ConsumedUnit", "PricingCategory", "PricingCurrency", "ResourceId",
            "ResourceName", "ResourceType", "ServiceSubcategory", "SubAccountId", "SubAccountName", "Tags")
CUSTOM = ("x_Requests", "x_PromptTokens", "x_CompletionTokens", "x_CacheReadTokens", "x_CacheWriteTokens",
          "x_Models", "x_ListPriceMissing", "x_FxRate", "x_PricedWith")
COLUMNS = MANDATORY + OPTIONAL + CUSTOM

# Rate of one day (YYYY-MM-DD) in the billing currency: the currency conversion, or None for dollars.
DayRate = Callable[[str], Decimal]


def focus_decimal(value: Decimal | int) -> str:
    """A FOCUS Decimal: plain digits with a decimal point always (``3500.0``), so that readers that infer column
    types (pandas, and focus-validator through it) see decimals, not integers."""
    text = decimal_text(Decimal(value))
    return text if "." in text else text + ".0"


def _moment(d: date) -> str:
    return d.strftime("%Y-%m-%dT00:00:00Z")


def _month(d: date) -> tuple[date, date]:
    start = d.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def focus_rows(ledger: Ledger, currency: str = "USD", rate: DayRate | None = None) -> list[dict[str, str]]:
    """The FOCUS rows of a ledger, ordered by day, provider, deployment and team. Records without a timestamp
    have no charge period: they are left out (the caller reports how many, ``undated``)."""
    groups: dict[tuple[str, ...], Cell] = {}
    models: dict[tuple[str, ...], set[str]] = {}
    for key, cell in ledger.cells.items():
        k = key[:5]  # day, provider, resource id, resource name, team
        g = groups.get(k)
        if g is None:
            g = groups[k] = Cell()
            models[k] = set()
        g.merge(cell)
        models[k].add(key[5])
    rows = []
    for k in sorted(groups):
        day, provider, resource_id, resource_name, team = k
        if day.startswith("("):
            continue
        cell = groups[k]
        d = date.fromisoformat(day)
        bill_start, bill_end = _month(d)
        fx = rate(day) if rate is not None else None

        def money(exact: int, fx: Decimal | None = fx) -> str:
            amount = Fraction(exact, SCALE) * (Fraction(fx) if fx is not None else 1)
            return focus_decimal(dollars(amount))

        per_second = cell.per_second == cell.requests and cell.requests > 0
        quantity = focus_decimal(Decimal(cell.seconds.numerator) / Decimal(cell.seconds.denominator)) \
            if per_second else focus_decimal(cell.tokens)
        unit = "Seconds" if per_second else "Tokens"
        has_team = team != NONE
        rows.append({
            "BilledCost": money(cell.billed),
            "BillingAccountId": provider,
            "BillingAccountName": provider,
            "BillingCurrency": currency,
            "BillingPeriodEnd": _moment(bill_end),
            "BillingPeriodStart": _moment(bill_start),
            "ChargeCategory": "Usage",
            "ChargeClass": "",
            "ChargeDescription": f"{cell.requests} request(s) to {resource_name} ({', '.join(sorted(models[k]))})"
                                 + (f" for team {team}" if has_team else ""),
            "ChargePeriodEnd": _moment(d + timedelta(days=1)),
            "ChargePeriodStart": _moment(d),
            "ContractedCost": money(cell.contracted),
            "EffectiveCost": money(cell.billed),
            "InvoiceIssuerName": provider,
            "ListCost": money(cell.listed),
            "PricingQuantity": quantity,
            "PricingUnit": unit,
            "ProviderName": provider,
            "PublisherName": provider,
            "ServiceCategory": "AI and Machine Learning",
            "ServiceName": f"{provider} LLM API",
            "ChargeFrequency": "Usage-Based",
            "ConsumedQuantity": quantity,
            "ConsumedUnit": unit,
            "ResourceId": resource_id,
            "ResourceName": resource_name,
            "ResourceType": "LLM deployment",
            "ServiceSubcategory": "Generative AI",
            "SubAccountId": team if has_team else "",
            "SubAccountName": team if has_team else "",
            "Tags": orjson.dumps({"team": team} if has_team else {}).decode(),
            "PricingCategory": "Standard",
            "PricingCurrency": "USD",
            "x_Requests": str(cell.requests),
            "x_PromptTokens": str(cell.prompt_tokens),
            "x_CompletionTokens": str(cell.completion_tokens),
            "x_CacheReadTokens": str(cell.cache_read_tokens),
            "x_CacheWriteTokens": str(cell.cache_write_tokens),
            "x_Models": " ".join(sorted(models[k])),
            "x_ListPriceMissing": str(cell.list_missing),
            "x_FxRate": decimal_text(fx) if fx is not None else "",
            "x_PricedWith": " ".join(sorted(cell.configs)),
        })
    return rows


def undated_records(ledger: Ledger) -> int:
    return sum(c.requests for k, c in ledger.cells.items() if k[0].startswith("("))


def write_focus(ledger: Ledger, out: IO[str], currency: str = "USD", rate: DayRate | None = None) -> int:
    """Write the FOCUS CSV; returns the number of rows."""
    rows = focus_rows(ledger, currency, rate)
    w = SafeCsvDictWriter(out, COLUMNS)
    w.writeheader()
    w.writerows(rows)
    return len(rows)
