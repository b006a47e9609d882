"""``costcalc validate``: lint a proxy config."""

from __future__ import annotations

from contextlib import ExitStack

import typer

from ...formats.registry import write_document
from .. import options as o
from ..app import PlainCommand, app
from ..output import Output


@app.command(cls=PlainCommand)
def validate(
    config: str = typer.Option(..., "--config", "-c", help="LiteLLM proxy config.yaml.", metavar="CFG"),
    cost_map: str | None = o.COST_MAP,
    fmt: o.format_choice("validate") = o.format_option("validate"),  # type: ignore[valid-type]
    verbose: bool = typer.Option(False, "--verbose", "-v",
                                 help="List every finding (a rule firing 3 or more times is one line otherwise)."),
) -> None:
    """Lint a proxy config: exit 1 on errors, 0 when there are only warnings."""
    from ...rates.costmap import load_cost_map
    from ...reports.request import config_path
    from ...reports.validate import render_validate, validate_doc

    doc = validate_doc(o.library_call(config_path, config), load_cost_map(cost_map))
    with ExitStack() as stack:
        write_document(fmt.value, doc, Output(None, stack), lambda d, console: render_validate(d, console, verbose))
    if not doc["ok"]:
        raise typer.Exit(1)
