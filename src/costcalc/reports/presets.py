"""Named report presets: option sets saved in ``costcalc.toml`` and used as ``costcalc price --preset NAME``.

::

    [presets.monthly-finance]
    config = "proxy/config.yaml"
    group_by = ["team", "model"]
    format = "markdown"
    budget = ["total:2000"]

The file is looked for in the current directory, then in the user's config directory (``$XDG_CONFIG_HOME`` or
``~/.config``, ``costcalc/costcalc.toml``; ``%APPDATA%`` on Windows); the first that exists is the one read.
Keys are the long option names of ``costcalc price`` (``group_by`` or ``group-by``; ``usage`` for input
files); an unknown key, table or value type is an error naming the file, the preset and the key. Options given
on the command line win over the preset's.

TOML is read with the standard library's ``tomllib`` (Python 3.11 and newer). costcalc supports Python 3.10
too, where presets are an error saying so rather than a new run-time dependency (``tomli``) for one feature.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CostcalcError

FILE_NAME = "costcalc.toml"


class PresetError(CostcalcError):
    """A preset file or preset that cannot be used: one line naming the file, the preset and the key."""

    exit_code = 2


@dataclass(frozen=True)
class OptionSpec:
    """How a preset value becomes command-line words: ``flag`` (``--group-by``), whether the option takes a value,
    may repeat, and the word that turns a boolean off (``--no-dedupe``)."""

    flag: str
    takes_value: bool = True
    multiple: bool = False
    off: str | None = None
    param: str = ""  # the command's parameter the option sets


@dataclass(frozen=True)
class Preset:
    name: str
    path: str
    values: dict[str, Any]  # option name (underscores) -> value as the file wrote it


def search_paths(cwd: Path | None = None) -> list[Path]:
    """Where ``costcalc.toml`` is looked for, in order."""
    here = (cwd or Path.cwd()) / FILE_NAME
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        user = Path(os.environ["APPDATA"]) / "costcalc" / FILE_NAME
    else:
        base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        user = Path(base) / "costcalc" / FILE_NAME
    return [here, user]


def find_file(cwd: Path | None = None) -> Path | None:
    return next((p for p in search_paths(cwd) if p.is_file()), None)


def _load_toml(path: Path) -> dict[str, Any]:
    if sys.version_info < (3, 11):
        raise PresetError(f"{path}: presets need Python 3.11 or newer (the standard library's tomllib); this is "
                          f"Python {sys.version_info[0]}.{sys.version_info[1]}")
    import tomllib

    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise PresetError(f"{path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise PresetError(f"{path}: not valid TOML ({exc})") from None


def load_presets(path: Path, options: Mapping[str, OptionSpec]) -> dict[str, Preset]:
    """Every preset of the file at ``path``, each key checked against ``options`` (option name -> spec)."""
    doc = _load_toml(path)
    unknown = sorted(set(doc) - {"presets"})
    if unknown:
        raise PresetError(f"{path}: unknown table or key {unknown[0]!r} (a preset file holds [presets.NAME] "
                          "tables)")
    tables = doc.get("presets", {})
    if not isinstance(tables, dict):
        raise PresetError(f"{path}: presets: expected tables [presets.NAME]")
    out = {}
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise PresetError(f"{path}: presets.{name}: expected a table of options")
        values = {}
        for key, value in table.items():
            option = key.replace("-", "_")
            spec = options.get(option)
            if spec is None:
                import difflib

                close = difflib.get_close_matches(option, list(options), n=1, cutoff=0.75)
                hint = f"; did you mean {close[0]}?" if close else ""
                raise PresetError(f"{path}: presets.{name}: unknown key {key!r}: not an option of costcalc "
                                  f"price{hint}")
            _check(path, name, key, value, spec)
            values[option] = value
        out[name] = Preset(name, str(path), values)
    return out


def _check(path: Path, name: str, key: str, value: Any, spec: OptionSpec) -> None:
    where = f"{path}: presets.{name}.{key}"
    scalar = (str, int, float)
    if not spec.takes_value:
        if not isinstance(value, bool):
            raise PresetError(f"{where}: expected true or false, got {value!r}")
    elif spec.multiple:
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(v, scalar) and not isinstance(v, bool) for v in items):
            raise PresetError(f"{where}: expected a string or a list of strings")
    elif isinstance(value, bool) or not isinstance(value, scalar):
        raise PresetError(f"{where}: expected a string or a number, got {type(value).__name__}")


def preset_words(preset: Preset, options: Mapping[str, OptionSpec], given: set[str]) -> list[str]:
    """The preset as command-line words, leaving out the options keyed in ``given`` (the command line's own win).
    Positional values (``usage``) come last."""
    words: list[str] = []
    positional: list[str] = []
    for option, value in preset.values.items():
        if option in given:
            continue
        spec = options[option]
        if not spec.flag.startswith("-"):
            positional += [str(v) for v in (value if isinstance(value, list) else [value])]
        elif not spec.takes_value:
            if value:
                words.append(spec.flag)
            elif spec.off is not None:
                words.append(spec.off)
        else:
            for v in value if isinstance(value, list) else [value]:
                words += [spec.flag, str(v)]
    return words + positional
