"""The ``decide`` command line: parse arguments, call the API, write a Dataset, print a table.

Errors a user can cause (a bad file, an unknown problem, a bad option) print one line on stderr
and exit with status 2, without a traceback; nothing is written unless the whole result is ready.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from decide import __version__
from decide.cli import evaluate, fisheries, pareto, pomdp, tune
from decide.cli.common import formatter
from decide.errors import DecideError

#: Modules that each add their subcommands to the parser.
COMMAND_GROUPS = (pomdp, fisheries, evaluate, tune, pareto)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="decide",
        description="Scientific decision-making under uncertainty.",
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"decide {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in COMMAND_GROUPS:
        group.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 success, 2 user error, 130 Ctrl-C)."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except DecideError as error:
        print(f"decide: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("decide: interrupted; nothing was written", file=sys.stderr)
        return 130
