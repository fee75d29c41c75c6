"""Run every benchmark and print ratios against references measured in the same run.

Usage: ``python bench/run.py [--quick]`` (or ``make bench`` / ``fer-core bench``).
"""

from __future__ import annotations

import json
import sys

from fer_core.workflows.bench import run_all

if __name__ == "__main__":
    print(json.dumps(run_all(quick="--quick" in sys.argv), indent=2))
