"""``fer-core``, the command line. One module per command group (:data:`GROUPS`), each with ``add_parser`` (its
commands and their options, next to their handlers) and ``run`` (its handlers); this module only assembles the parser
and turns errors into one line and an exit status. Handlers import their heavy dependencies (torch, Lightning)
themselves, so ``fer-core --help`` stays fast."""

from __future__ import annotations

import argparse
import logging
import sys
from types import ModuleType

from ..errors import FerCoreError
from . import concepts, data, evaluate, explain, models, report, review, studies, train, video
from ._common import json_safe

__all__ = ["GROUPS", "build_parser", "json_safe", "main"]

DESCRIPTION = (
    "``fer-core``: the command line over fer_core's public functions (explain, occlude, evaluate, bench, ...)."
)
GROUPS: tuple[ModuleType, ...] = (explain, evaluate, studies, review, train, models, report, data, video, concepts)
#: the order ``fer-core --help`` has always listed the commands in (the groups' order would move ``probe``)
COMMAND_ORDER = (
    "explain",
    "occlude",
    "video",
    "concepts",
    "evaluate",
    "occlusion-study",
    "region-relevance",
    "localisation",
    "compare-transfer",
    "atlas",
    "pseudo-label",
    "probe",
    "review",
    "agreement",
    "train",
    "claim",
    "bench",
    "import-keras",
    "models",
    "report",
    "synth",
    "data",
)


def build_parser() -> argparse.ArgumentParser:
    """The ``fer-core`` parser: every group registers its commands."""
    parser = argparse.ArgumentParser(prog="fer-core", description=DESCRIPTION)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_parser(sub)
    _list_in_order(sub, COMMAND_ORDER)
    return parser


def _list_in_order(sub: argparse._SubParsersAction, order: tuple[str, ...]) -> None:
    """List the commands in ``order`` in the help (argparse lists them as registered: by group)."""
    rank = {name: i for i, name in enumerate(order)}
    assert set(rank) == set(sub.choices), "COMMAND_ORDER must name every registered command once"
    sub._choices_actions.sort(key=lambda action: rank[action.dest])  # the help's list of commands
    for name in sorted(sub.choices, key=rank.__getitem__):  # the {explain,occlude,...} usage
        sub.choices[name] = sub.choices.pop(name)


def _group_of(command: str) -> ModuleType:
    return next(group for group in GROUPS if command in group.COMMANDS)


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, run the command, return its exit status: 2 for a bad input (one line on stderr), 130 when
    interrupted, 1 for an unexpected error (the traceback only with ``--verbose``)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return _group_of(args.command).run(args)
    except (FerCoreError, ValueError, TypeError) as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (OSError, MemoryError) as exc:
        print(f"error: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, the traceback only on request
        logging.getLogger("fer_core.cli").debug("unexpected error", exc_info=True)
        print(
            f"error: unexpected {type(exc).__name__}: {_one_line(exc)} (run with --verbose for the details)",
            file=sys.stderr,
        )
        return 1


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 600 else text[:600] + " ..."
