"""The typer application, its help without type jargon, and ``main``: every error becomes one line on stderr and
its exit code (1 data/lookup problem, 2 usage or config error); nothing ever ends in a traceback."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from ..errors import CostcalcError, FieldError
from ..version import __version__


def _placeholder(param: Any) -> str:
    """What help shows for a parameter's value, in words a user knows (never ``<list[str]>``): nothing for a
    flag, the choices, N, NUMBER, FILE, or the parameter's name."""
    if getattr(param, "is_flag", False):
        return ""
    desc = param.type_descriptor
    if desc.is_choice:
        return "|".join(str(getattr(c, "value", c)) for c in desc.choices or ())
    annotation = desc.annotation
    if annotation is int:
        word = "N"
    elif annotation is float:
        word = "NUMBER"
    elif annotation is Path or param.name == "usage":
        word = "FILE"
    else:
        word = param.name.upper().replace("_", "-")
    return word


class _PlainCoercion:
    """A parameter's value coerced as typer coerces it, minus typer's pydantic adapter where the value needs none:
    no value, text (or texts) for a text parameter, a choice, digits for a count, a default of the declared type.
    Building that adapter imports pydantic, most of a short command's start-up (``costcalc lookup``); any other
    value still goes through it."""

    def __init__(self) -> None:
        self._typers: Any = None

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        from typer._param_types import coerce_cli_choice, routes_to_path

        desc = param.type_descriptor
        info, annotation = desc.parameter_info, desc.annotation
        if value is None:
            return () if param.multiple or param.nargs == -1 else None
        plain, ranged = info.parser is None and desc.file_annotation is None, desc.is_ranged
        if plain and desc.is_choice and not desc.is_list:
            with contextlib.suppress(ValueError):  # not a choice: typer words the error
                return coerce_cli_choice(value, choices=desc.choices, case_sensitive=info.case_sensitive, ctx=ctx)
        elif plain and annotation in (str, int, float) and not routes_to_path(annotation, info):
            if type(value) is annotation and (not ranged or value is param.default):
                return value
            if annotation is int and not ranged and type(value) is str and value.isascii() and value.isdigit():
                return int(value)
        elif plain and annotation == list[str] and type(value) in (list, tuple) and all(
                type(v) is str for v in value):
            return list(value)
        if self._typers is None:
            from typer._coercion import build_runtime_param

            self._typers = build_runtime_param(desc)
        return self._typers.coerce(value, param=param, ctx=ctx)


def _plain(params: list[Any]) -> None:
    for param in params:
        if getattr(param, "_runtime_param", False) is None:
            param._runtime_param = _PlainCoercion()
        if param.metavar is None:
            param.metavar = _placeholder(param)
        if param.param_type_name == "argument":
            # the name column already says FILE...; typer would add the Python type (<list[str]>) beside it
            param.display_type_rich = lambda ctx: None


class PlainCommand(TyperCommand):
    """A command whose help has no type jargon."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        _plain(params)
        return params


class PlainGroup(TyperGroup):
    """A command group whose help has no type jargon."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        _plain(params)
        return params


app = typer.Typer(
    cls=PlainGroup,
    no_args_is_help=True,
    help="Price LLM usage exactly as a LiteLLM proxy would: offline, from config.yaml and usage JSONL.",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"costcalc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", "-V", callback=_print_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    pass


map_app = typer.Typer(help="The cost map in use: where it came from, and refreshing it.", no_args_is_help=True,
                      cls=PlainGroup)
app.add_typer(map_app, name="map")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning every error into one line and an exit code; SIGTERM and SIGHUP end it
    as Ctrl-C does (every ``finally`` runs: no half-written report, no leftover parts), exiting 128 + the signal."""
    from ..errors import stop_on_signals

    restore = stop_on_signals()
    try:
        return _main(argv)
    finally:
        restore()


def _main(argv: list[str] | None) -> int:
    from ..errors import Interrupted, raise_if_signalled

    try:
        result = app(args=argv, prog_name="costcalc", standalone_mode=False)
        raise_if_signalled()  # a signal native code swallowed still ends the run as a signal
    except Interrupted as exc:
        sys.stderr.write(f"costcalc: stopped by {exc.name}\n")
        return 128 + exc.signum
    except FieldError as exc:  # the library names request fields: say the flags
        from .options import flag

        sys.stderr.write(f"costcalc: error: {exc.worded(flag)}\n")
        return exc.exit_code
    except CostcalcError as exc:
        sys.stderr.write(f"costcalc: error: {exc}\n")
        return exc.exit_code
    except typer.Exit as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # typer's own handling of Ctrl-C
            sys.stderr.write("costcalc: interrupted\n")
        return exc.exit_code
    except SystemExit:
        if type(sys.stdout).__name__ == "PacifyFlushWrapper":
            # typer met a closed pipe (`costcalc … | head`) and exits 1: the reader has what it wanted
            with contextlib.suppress(OSError):
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the interpreter's flush at exit
            return 0
        raise
    except typer.Abort:
        sys.stderr.write("costcalc: aborted\n")
        return 130
    except typer.TyperException as exc:  # usage errors: typer prints them with the usage line
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            sys.stderr.write(f"costcalc: error: {exc}\n")
        return int(getattr(exc, "exit_code", 2))
    except BrokenPipeError:
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the interpreter's flush at exit
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("costcalc: interrupted\n")
        return 130
    except OSError as exc:  # input or output failed on the way (a full disk, /dev/full, a vanished file)
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"costcalc: error: {where}{exc.strerror or exc}\n")
        return 2
    except UnicodeEncodeError as exc:  # an argument or file name that is not valid UTF-8, on its way out
        sys.stderr.write(f"costcalc: error: cannot write text that is not valid UTF-8 ({exc.reason})\n")
        return 2
    except Exception as exc:
        if isinstance(exc, TypeError) and "surrogates not allowed" in str(exc):  # the same, through orjson
            sys.stderr.write("costcalc: error: cannot write text that is not valid UTF-8 (surrogates not allowed)\n")
            return 2
        sys.stderr.write(f"costcalc: internal error: {type(exc).__name__}: {exc}\n")
        return 3
    if result == 130:  # typer turns Ctrl-C into exit code 130 (nothing here exits 130 otherwise)
        sys.stderr.write("costcalc: interrupted\n")
    return result if isinstance(result, int) else 0

