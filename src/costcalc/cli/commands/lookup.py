"""``costcalc lookup`` and ``costcalc models``: a model's resolved prices; searching the cost map."""

from __future__ import annotations

from contextlib import ExitStack

import typer

from ...formats.registry import write_document
from .. import options as o
from ..app import PlainCommand, app
from ..output import Output


@app.command(cls=PlainCommand)
def lookup(
    model: str = typer.Argument(..., help="A config model_name or a cost-map model (gpt-4o, anthropic/claude-…)."),
    config: str | None = o.CONFIG,
    cost_map: str | None = o.COST_MAP,
    model_id: str | None = typer.Option(None, "--model-id", help="Pick the deployment with this model_info.id."),
    service_tier: str | None = typer.Option(None, "--service-tier", help="priority, flex, …"),
    fmt: o.format_choice("lookup") = o.format_option("lookup"),  # type: ignore[valid-type]
) -> None:
    """The resolved prices of a model, each with where it came from."""
    from ...reports.explain import lookup_doc, render_lookup

    cm, cfg = o.load(cost_map, config)
    doc = lookup_doc(cm, cfg, model, model_id=model_id, service_tier=service_tier)
    with ExitStack() as stack:
        write_document(fmt.value, doc, Output(None, stack), render_lookup)
    if not doc["found"]:
        raise typer.Exit(1)


@app.command(cls=PlainCommand)
def models(
    query: str | None = typer.Argument(None, help="Substring to search for (case-insensitive)."),
    cost_map: str | None = o.COST_MAP,
    provider: str | None = typer.Option(None, "--provider", help="Only this litellm_provider."),
    mode: str | None = typer.Option(None, "--mode", help="Only this mode (chat, embedding, …)."),
    limit: int = typer.Option(50, "--limit", "-n", help="At most this many rows."),
    fmt: o.format_choice("models") = o.format_option("models"),  # type: ignore[valid-type]
    config: str | None = typer.Option(None, "--config", "-c",
                                      help="Also list the config's model_group_alias routes matching the query."),
) -> None:
    """Search the cost map: prices per 1M tokens."""
    from ...reports.explain import config_routes, render_models, search_models

    cm, cfg = o.load(cost_map, config)
    doc = search_models(cm, query, provider=provider, mode=mode, limit=limit)
    if config is not None:
        doc["aliases"] = config_routes(cm, cfg, query)
    with ExitStack() as stack:
        write_document(fmt.value, doc, Output(None, stack), render_models)
    if not doc["models"] and not doc.get("aliases"):
        raise typer.Exit(1)
