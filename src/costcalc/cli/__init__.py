"""The ``costcalc`` command: parsing options and calling the library, no pricing logic.

The flow of ``costcalc price``: options (cli/options.py, each declared once) → a ``PriceRequest`` built and checked
once (reports/request.py) → one library call (reports/pipeline.py ``run``; ``costcalc.price`` from Python) → the
format's writer (formats/registry.py) → the exit code. Every other command is the same shape over its own library
call (cli/commands/<name>.py). Errors are values until ``main`` (cli/app.py): one line on stderr and an exit code.

Adding an option / a format / an engine
---------------------------------------
- **An option**: a field on ``PriceRequest`` (reports/request.py) with its default, the rule it has with other
  fields as one ``Rule`` in ``RULES`` (message naming fields as ``{since}``), and its use in reports/pipeline.py.
  In the CLI: declare the ``typer.Option`` once in cli/options.py (shared) or at the top of the command's module
  (its own), add the parameter to the command and pass it to ``o.request(...)``; a flag whose name is not
  ``--`` + the field's name goes into ``options.FLAGS``. A rule between the option and the format goes into
  ``options.check_format`` (through the section it shows: ``SECTION_OF``).
- **A format**: a module under formats/ with ``write(result, out, style)`` (or ``records(engine)`` for per-record
  output), and one ``Format(...)`` line in formats/registry.py: the commands that offer it, what it ``needs`` the
  pipeline to compute (request fields) and the sections it ``shows``. Every ``--format`` choice list and every
  rule between a format and an option is derived from that line.
- **An engine**: fulfil engines/contract.py (sums as ``SumRow``s, unpriced counts, the lines left to the Python
  engine, ``Unsupported`` before counting anything), add its name to ``ENGINES`` and its case to
  ``choose_engine`` in engines/choose.py, and its call to ``_execute`` in reports/pipeline.py.
"""

from . import app as _app
from .commands import diff, lookup, maps, price, sql, validate  # noqa: F401 - each registers its command

app = _app.app
main = _app.main

__all__ = ["app", "main"]
