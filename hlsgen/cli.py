"""The `hlsgen` command line: one subcommand per job, each defined in its own module.

Errors the user can fix (bad model name, bad yaml, out-of-range bits...) are raised as
`UserError` subclasses and printed as one line with exit code 1, as are usage errors and files
that cannot be read or written (OSError); Ctrl-C exits 130 with one line. Nothing else is
swallowed: a programming error keeps its traceback.
"""
from __future__ import annotations

import argparse
import difflib
import importlib
import importlib.metadata
import os
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


class _Parser(argparse.ArgumentParser):
    """Usage errors on one line, exit 1: argparse's 2 means 'no design meets the target' here."""

    def error(self, message):
        self.exit(1, f"{self.prog}: error: {message}\n")


class _CommandParser(_Parser):
    """A subcommand's parser. A misspelt flag (--fsp 30) usually also leaves a required one
    (--fps) missing, and argparse reports only the latter: look for unknown arguments first,
    with the required ones relaxed, and name them."""

    def parse_known_args(self, args=None, namespace=None):
        required = [a for a in self._actions if a.required]
        for a in required:
            a.required = False
        try:
            _, extras = super().parse_known_args(args, argparse.Namespace())
        finally:
            for a in required:
                a.required = True
        if extras:
            self.error(self._unrecognized(extras))
        return super().parse_known_args(args, namespace)

    def _unrecognized(self, extras: list[str]) -> str:
        msg = "unrecognized arguments: " + " ".join(extras)
        flags = [s for a in self._actions for s in a.option_strings]
        for x in extras:
            close = difflib.get_close_matches(x.split("=")[0], flags, n=1) if x.startswith("-") else []
            if close:
                return f"{msg} (did you mean {close[0]}?)"
        return msg


def _version() -> str:
    try:
        return importlib.metadata.version("hlsgen")
    except importlib.metadata.PackageNotFoundError:   # running from a source tree that is not installed
        import hlsgen
        return getattr(hlsgen, "__version__", "unknown")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hlsgen", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_CommandParser)
    for name in _COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:  # command not built yet
                continue
            raise
        module.register(sub)
    return parser


def _os_message(e: OSError) -> str:
    return f"{e.strerror}: {e.filename}" if e.strerror and e.filename is not None else str(e)


def main(argv: list[str] | None = None) -> int:
    from quant.errors import UserError

    where = "hlsgen"
    try:
        args = build_parser().parse_args(argv)   # in the try: Ctrl-C while the commands import (torch, ~2 s)
        where = f"hlsgen {args.command}"
        rc = int(args.func(args) or 0)
        sys.stdout.flush()   # a closed pipe (`| head`) raises here, inside the handlers, not at exit
        return rc
    except UserError as e:
        print(f"{where}: error: {e}", file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:
        # stdout's reader has gone: nothing to say. Python docs, "Note on SIGPIPE": point stdout
        # at devnull so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as e:     # a file named on the command line cannot be read or written
        print(f"{where}: error: {_os_message(e)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{where}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
