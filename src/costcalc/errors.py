"""costcalc's own exceptions: values that carry where a problem is, until the CLI turns them into one line."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from typing import Any


class CostcalcError(Exception):
    """Base class; ``str()`` is the one-line message shown to users."""

    exit_code = 1


class ConfigError(CostcalcError):
    """A proxy config that cannot be priced sensibly (exit 2)."""

    exit_code = 2

    def __init__(self, path: str, message: str, *, deployment: str | None = None, key: str | None = None):
        self.path, self.deployment, self.key = path, deployment, key
        where = path
        if deployment is not None:
            where += f": deployment {deployment}"
        if key is not None:
            where += f": {key}"
        super().__init__(f"{where}: {message}")


class CostMapError(CostcalcError):
    """A cost map that cannot be read (exit 2)."""

    exit_code = 2


class UsageInputError(CostcalcError):
    """A usage file that cannot be opened at all (exit 2); bad lines are rejections, not errors."""

    exit_code = 2


class UsageError(CostcalcError):
    """An option given a value that cannot work (exit 2), found past the argument parser."""

    exit_code = 2


class Interrupted(BaseException):
    """A signal that ends the run (SIGTERM, SIGHUP): like Ctrl-C's KeyboardInterrupt, it unwinds every ``finally``
    (temporary outputs and worker parts are removed, the previous report stays) and exits 128 + its number."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        import signal

        return signal.Signals(self.signum).name


#: The last signal a run received (for engines whose native code swallows the exception the handler raised).
received: list[int] = []


def raise_if_signalled() -> None:
    """Raise ``Interrupted`` for a signal whose handler ran but whose exception never reached Python: native code
    (DuckDB's query loop) that checks for signals and carries on. Called before a step that must not follow a
    signal: returning a query's rows, putting a report in place, exiting 0."""
    if received:
        raise Interrupted(received[-1])


def stop_on_signals() -> Callable[[], None]:
    """Turn SIGTERM and SIGHUP into ``Interrupted`` in this (main) thread; returns what restores the handlers."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    received.clear()

    def handler(signum: int, frame: Any) -> None:
        received.append(signum)
        raise Interrupted(signum)

    previous = {}
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            previous[sig] = signal.signal(sig, handler)

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold back Ctrl-C, SIGTERM and SIGHUP (delivered when the block ends) around a step a signal must not cut:
    a temporary file made but not yet remembered would be left behind, and an exception raised inside a native
    module's import (DuckDB's) aborts it with a traceback of its own.

    The mask is the calling thread's: a thread started inside the block keeps it for good, which is how helper
    threads are started (a signal the kernel hands to a thread that does not block it still runs the Python
    handler in the main thread, held block or not)."""
    import signal

    held = {signal.SIGINT, signal.SIGTERM, *((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ())}
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, OSError, ValueError):  # no POSIX signal masks here
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class FieldError(UsageError):
    """A request field given a value that cannot work, or fields that do not go together (exit 2).

    ``field`` names the request field (``budgets``, ``where``, ``since``). ``detail`` is the message; it may name
    other fields as ``{since}``. The library says ``compare: needs a window: since, month or last``; the CLI words
    the same error with its flags (``worded``): ``--compare``, ``--since``.

    ``about_value``: the message reads after the field's name (``" 'x': expected KEY=VALUE:AMOUNT"``: a value
    that cannot be read, one line); otherwise it is a rule about the field, which the CLI shows as a usage error
    of its option.
    """

    def __init__(self, field: str, detail: str, *, about_value: bool = False):
        self.field, self.detail, self.about_value = field, detail, about_value
        super().__init__(self.worded(lambda name: name))

    def worded(self, name_of: Callable[[str], str], *, with_field: bool = True) -> str:
        """The message with ``name_of(field)`` for every field it names (a flag, in the CLI)."""
        text = re.sub(r"\{([a-z_]+)\}", lambda m: name_of(m.group(1)), self.detail)
        if self.about_value:
            return f"{name_of(self.field)}{text}"
        return f"{name_of(self.field)}: {text}" if with_field else text

