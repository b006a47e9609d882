"""``--preset NAME``: a command whose options may come from a preset in ``costcalc.toml`` (reports/presets.py).

The preset is expanded before the command line is parsed: its options become command-line words, put before
the user's own, for every option the user did not give (so options given on the command line win, a repeatable
one such as ``--group-by`` included: it replaces the preset's list, it does not add to it).
"""

from __future__ import annotations

from typing import Any

import click

from ..reports.presets import OptionSpec, PresetError, find_file, load_presets, preset_words, search_paths
from .app import PlainCommand


def option_specs(command: click.Command) -> dict[str, OptionSpec]:
    """How each of ``command``'s parameters is written on a command line (``--preset`` itself left out)."""
    specs = {}
    for p in command.params:
        if p.name in (None, "preset", "help"):
            continue
        if isinstance(p, click.Argument):
            specs[p.name] = OptionSpec(p.name, multiple=True)
            continue
        assert isinstance(p, click.Option)
        long = [opt for opt in p.opts if opt.startswith("--")] or list(p.opts)
        specs[p.name] = OptionSpec(long[0], takes_value=not p.is_flag, multiple=p.multiple,
                                   off=p.secondary_opts[0] if p.secondary_opts else None)
    return specs


def _preset_name(args: list[str]) -> str | None:
    for i, word in enumerate(args):
        if word == "--":
            return None
        if word == "--preset" and i + 1 < len(args):
            return args[i + 1]
        if word.startswith("--preset="):
            return word.split("=", 1)[1]
    return None


def presets_of(command: click.Command) -> dict[str, Any]:
    """The presets of the file found (``search_paths``), checked against ``command``'s options."""
    path = find_file()
    if path is None:
        where = " or ".join(str(p) for p in search_paths())
        raise PresetError(f"no preset file: looked for {where}")
    return load_presets(path, option_specs(command))


class PresetCommand(PlainCommand):
    """A command with ``--preset NAME``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        name = _preset_name(args)
        if name is not None and not ctx.resilient_parsing:
            presets = presets_of(self)
            preset = presets.get(name)
            if preset is None:
                known = ", ".join(sorted(presets)) or "none"
                raise PresetError(f"{preset_file(presets)}: no preset {name!r} (presets: {known})")
            parser = self.make_parser(ctx)
            given, _, _ = parser.parse_args(args=list(args))
            words = preset_words(preset, option_specs(self), {k for k, v in given.items() if v not in (None, ())})
            args = [*words, *args]
        return super().parse_args(ctx, args)


def preset_file(presets: dict[str, Any]) -> str:
    path = find_file()
    return str(path) if path is not None else "costcalc.toml"
