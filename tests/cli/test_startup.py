"""``fer-core --help`` and every ``COMMAND --help`` build their parser without torch or Lightning; the names the
parser offers are the ones the packages implement."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
from fer_core.cli import COMMAND_ORDER, build_parser
for argv in [["--help"], *[[c, "--help"] for c in COMMAND_ORDER]]:
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:
        assert exc.code == 0, argv
heavy = sorted(m for m in ("torch", "lightning", "sklearn", "cv2", "pandas") if m in sys.modules)
print("heavy=" + ",".join(heavy))
"""


def test_help_imports_no_torch_nor_lightning():
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "heavy="


def test_parser_names_are_the_implemented_ones():
    from fer_core import names
    from fer_core.data.adapters import ADAPTERS
    from fer_core.explain import FILLS, METHODS
    from fer_core.studies import LOCALISATION_METHODS

    assert tuple(sorted(ADAPTERS)) == names.DATASET_FORMATS
    assert METHODS is names.METHODS and FILLS is names.FILLS and LOCALISATION_METHODS is names.LOCALISATION_METHODS
