"""``python -m fer_core.cli``: the ``fer-core`` entry point, for torchrun and the dashboard's run launcher."""

import sys

from . import main

sys.exit(main())
