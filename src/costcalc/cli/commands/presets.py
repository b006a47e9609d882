"""``costcalc presets``: the presets of ``costcalc.toml`` and the options each sets."""

from __future__ import annotations

import typer

from ..app import PlainCommand, app


@app.command(cls=PlainCommand)
def presets() -> None:
    """List the report presets (costcalc.toml here, else in the user's config directory) and their options."""
    from ..presets import option_specs, presets_of

    price = typer.main.get_command(app).commands["price"]  # type: ignore[attr-defined]
    path, found = presets_of(price)
    typer.echo(f"{path}: {len(found)} preset(s)")
    specs = option_specs(price)
    for name, preset in found.items():
        typer.echo(f"{name}:")
        for option, value in preset.values.items():
            flag = specs[option].flag
            shown = " ".join(str(v) for v in value) if isinstance(value, list) else str(value).lower() \
                if isinstance(value, bool) else str(value)
            typer.echo(f"  {flag} {shown}")
