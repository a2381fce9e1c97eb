"""The `hlsgen` command line: one subcommand per job, each defined in its own module.

Errors the user can fix (bad model name, bad yaml, out-of-range bits...) are raised as
`UserError` subclasses and printed as one line with exit code 1; nothing else is swallowed.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# (subcommand module, registration function). Each module's `register(subparsers)` adds its
# parser and sets `func`; keeping the list here makes the command set obvious at a glance.
_COMMANDS = (
    "hlsgen.cmd_evaluate",
    "hlsgen.cmd_demo",
    "hlsgen.cmd_train",
    "hlsgen.cmd_explore",
    "hlsgen.cmd_generate",
    "hlsgen.cmd_check",
    "hlsgen.cmd_csim",
    "hlsgen.cmd_cosim",
    "hlsgen.cmd_synth",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hlsgen", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:  # command not built yet
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from quant.errors import UserError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as e:
        print(f"hlsgen {args.command}: error: {e}", file=sys.stderr)
        return e.exit_code


if __name__ == "__main__":
    sys.exit(main())
