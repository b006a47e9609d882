"""``--preset NAME``: a command whose options may come from a preset in ``costcalc.toml`` (reports/presets.py).

The preset is expanded before the command line is parsed: its options become command-line words, put before
the user's own, for every option the user did not give (so options given on the command line win, a repeatable
one such as ``--group-by`` included: it replaces the preset's list, it does not add to it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .app import PlainCommand


def option_specs(command: Any) -> dict[str, Any]:
    """How each of ``command``'s parameters is written on a command line, by the key a preset names it with: its
    long option without dashes (``group_by`` for ``--group-by``, ``format`` for ``--format``; ``usage`` for the
    input files). ``--preset`` itself is left out."""
    from ..reports.presets import OptionSpec

    specs = {}
    for p in command.params:
        if p.name in (None, "preset", "help"):
            continue
        if p.param_type_name == "argument":
            specs[p.name] = OptionSpec(p.name, multiple=True, param=p.name)
            continue
        long = [opt for opt in p.opts if opt.startswith("--")] or list(p.opts)
        specs[long[0].lstrip("-").replace("-", "_")] = OptionSpec(
            long[0], takes_value=not p.is_flag, multiple=p.multiple,
            off=p.secondary_opts[0] if p.secondary_opts else None, param=p.name)
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


def presets_of(command: Any) -> tuple[Path, dict[str, Any]]:
    """The file found (``search_paths``) and its presets, checked against ``command``'s options."""
    from ..reports.presets import PresetError, find_file, load_presets, search_paths

    path = find_file()
    if path is None:
        where = " or ".join(str(p) for p in search_paths())
        raise PresetError(f"no preset file: looked for {where}")
    return path, load_presets(path, option_specs(command))


class PresetCommand(PlainCommand):
    """A command with ``--preset NAME``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        name = _preset_name(args)
        if name is not None and not ctx.resilient_parsing:
            # loaded only when a preset is asked for: help and plain runs import no report module from here
            from ..reports.presets import PresetError, preset_words

            path, presets = presets_of(self)
            preset = presets.get(name)
            if preset is None:
                known = ", ".join(sorted(presets)) or "none"
                raise PresetError(f"{path}: no preset {name!r} (presets: {known})")
            parsed, _, _ = self.make_parser(ctx).parse_args(args=list(args))
            given = {param for param, value in parsed.items() if value not in (None, ())}
            specs = option_specs(self)
            words = preset_words(preset, specs, {key for key, spec in specs.items() if spec.param in given})
            args = [*words, *args]
        return super().parse_args(ctx, args)
