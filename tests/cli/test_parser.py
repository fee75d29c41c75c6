"""The parser's assembly: every group's commands are registered and dispatched, in the order the help has always
listed them, and building it loads no Lightning (``fer-core --help`` stays fast)."""

from __future__ import annotations

import argparse
import subprocess
import sys


def test_every_command_belongs_to_one_group_and_keeps_its_place_in_the_help():
    from fer_core.cli import COMMAND_ORDER, GROUPS, build_parser

    owned = [name for group in GROUPS for name in group.COMMANDS]
    assert sorted(owned) == sorted(COMMAND_ORDER) and len(set(owned)) == len(owned)
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert list(sub.choices) == list(COMMAND_ORDER)
    assert [a.dest for a in sub._choices_actions] == list(COMMAND_ORDER)


def test_building_the_parser_loads_no_lightning():
    code = "import sys; from fer_core.cli import build_parser; build_parser(); print('lightning' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
