"""``costcalc map info`` and ``costcalc map update``: the cost map in use, and refreshing it."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

import typer

from ...formats.registry import write_document
from .. import options as o
from ..app import PlainCommand, map_app
from ..output import Output


@map_app.command("info", cls=PlainCommand)
def map_info(
    cost_map: str | None = o.COST_MAP,
    fmt: o.format_choice("map info") = o.format_option("map info"),  # type: ignore[valid-type]
) -> None:
    """Where the cost map in use came from (source, LiteLLM version, date, hash, models)."""
    cm, _ = o.load(cost_map, None)
    with ExitStack() as stack:
        write_document(fmt.value, cm.info.as_dict(), Output(None, stack), _info_lines)


def _info_lines(info: dict[str, Any], console: Any) -> None:
    for k, v in info.items():
        typer.echo(f"{k:16} {v}")


@map_app.command("update", cls=PlainCommand)
def map_update(
    source: str | None = typer.Option(None, "--from", help="URL (http, https, file) or path of a LiteLLM-format "
                                      "map (default: LiteLLM's model_prices_and_context_window.json on GitHub).",
                                      metavar="URL|PATH"),
    timeout: float = typer.Option(30.0, "--timeout", min=1, help="Seconds to wait for the download."),
    fmt: o.format_choice("map update") = o.format_option("map update"),  # type: ignore[valid-type]
) -> None:
    """Download or copy a newer cost map into the user cache; it becomes the default map. Validated first: on
    any failure the map in use is left as it was (exit 2)."""
    from ...rates.mapupdate import update_cost_map

    result = update_cost_map(source, timeout=timeout).as_dict()
    with ExitStack() as stack:
        write_document(fmt.value, result, Output(None, stack), _update_lines)


def _update_lines(result: dict[str, Any], console: Any) -> None:
    state = "unchanged" if result["unchanged"] else "updated"
    typer.echo(f"cost map {state}: {result['models']:,} models ({result['priced_models']:,} with token prices) "
               f"from {result['source']}")
    typer.echo(f"{'path':16} {result['path']}")
    typer.echo(f"{'sha256':16} {result['sha256']}")
    if result["snapshot"]:
        typer.echo(f"{'snapshot':16} {result['snapshot']} (for --map-as-of)")
