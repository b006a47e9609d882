"""costcalc's own exceptions: values that carry where a problem is, until the CLI turns them into one line."""

from __future__ import annotations


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
