"""Pinned numerics: what a claim's worker process computes with, and the invariants that make its figures the same
on any x86-64 machine with AVX2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import torch

from fer_core.train.numerics import PINNED_ENV, is_pinned, pinned_env, use_channels_last

RENDER = """
import hashlib, json
from fer_core.data.synthfacs import SynthSpec, generate
h = hashlib.sha256()
for s in generate(SynthSpec(n=60, size=48, seed=4, intensity=(0.25, 0.6))):
    h.update(s.image.tobytes())
print(h.hexdigest())
"""


def _child(code: str, env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | env | {"PYTHONPATH": os.getcwd()},
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_pinned_env_is_set_for_children_and_restored_after():
    before = {k: os.environ.get(k) for k in PINNED_ENV}
    with pinned_env():
        assert is_pinned()
        profile = json.loads(
            _child(
                "import json; from fer_core.train.numerics import numerics_profile; "
                "print(json.dumps(numerics_profile()))",
                {},
            )
        )
    assert profile == {"pinned": True, "torch_threads": 1, "cpu_capability": "AVX2", "onednn_max_isa": "AVX2"}
    assert {k: os.environ.get(k) for k in PINNED_ENV} == before


def test_synthfacs_bytes_do_not_depend_on_avx512():
    """The claims' data are rendered outside the pinned workers: the renderer must give the same bytes whether or not
    OpenCV dispatches to AVX-512 (hash computed here against a child with AVX-512 off)."""
    here = _child(RENDER, {})
    assert _child(RENDER, {"OPENCV_CPU_DISABLE": "AVX512-SKX"}) == here


def test_channels_last_changes_layout_not_results():
    from fer_core.models import create_model

    torch.manual_seed(0)
    model = create_model("mini_xception", num_classes=7, in_chans=3, widths=[8, 16]).eval()
    x = torch.randn(4, 3, 48, 48)
    with torch.no_grad():
        before = model(x)
    os.environ.update(PINNED_ENV)  # is_pinned() only reads the environment; kernels already loaded stay as they are
    try:
        handle = use_channels_last(model)
    finally:
        for k in PINNED_ENV:
            os.environ.pop(k, None)
    assert handle is not None and model.stem[0][0].weight.is_contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        torch.testing.assert_close(model(x), before, rtol=1e-5, atol=1e-5)
    handle.remove()
    assert use_channels_last(model) is None  # not pinned: the layout stays as it is
