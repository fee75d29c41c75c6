"""Pinned CPU numerics: a training run gives the same floating-point results on a machine whatever its thread
count or CPU affinity, and results that differ only in the last bits between x86-64 machines with AVX2.

A CPU run's last bits depend on several things besides the seed: how many threads split each reduction, which
instruction set the kernels were compiled for (ATen's vectorised ops, oneDNN's convolutions, MKL's and OpenBLAS's
matrix products all pick AVX2, AVX-512 or AMX paths at run time), the memory layout, and the blocking a kernel picks
for the CPU's caches. A pinned process runs single-threaded and caps every library at AVX2, which every x86-64 server
since 2013 has. That fixes the first three: on one machine, ``taskset -c 0`` and all cores give byte-identical
weights (tested). It cannot fix the last: on an AMD EPYC the fair_mmd runs recorded on another machine matched for
the first steps and drifted from step 5 on (the 7th digit), after which training moves like another seed. So
claims are decided on the mean of several seeds, and "reproduces the recorded figures" means a mean within the
seed-to-seed spread (:func:`fer_core.train.claim_stats.mean_shift_tolerance`), equal to the digit on the machine
that recorded them. (The SynthFACS renderer's bytes are the same with and without AVX-512, and differ only on CPUs
without AVX2: tested.)

The caps are read when the libraries first run a kernel, so they only take effect in a fresh process:
:func:`pinned_env` is the environment such a process (a claim's training worker) is started with. In a pinned
process, convolution nets train in channels-last layout, which oneDNN's AVX2 kernels run about 1.5x faster on this
project's small nets. It stays off elsewhere: torch 2.14.1's oneDNN AVX-512 kernels crash (segfault) in the
backward pass of a strided 1x1 convolution in channels-last layout, which every mini-Xception block has.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["PINNED_ENV", "pinned_env", "is_pinned", "numerics_profile", "use_channels_last"]

PINNED_ENV: dict[str, str] = {
    "ATEN_CPU_CAPABILITY": "avx2",  # ATen's vectorised kernels
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # oneDNN (torch's CPU convolutions)
    "DNNL_MAX_CPU_ISA": "AVX2",  # the same cap under oneDNN's older name
    "MKL_CBWR": "AVX2",  # MKL's conditional numerical reproducibility (torch's CPU matrix products)
    "OPENBLAS_CORETYPE": "Haswell",  # numpy's OpenBLAS (scikit-learn's probes, scipy)
    "OPENCV_CPU_DISABLE": "AVX512-SKX",  # OpenCV's dispatch (crop resizing, grey conversion) at AVX2
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}


@contextmanager
def pinned_env() -> Iterator[dict[str, str]]:
    """Set :data:`PINNED_ENV` in ``os.environ`` while processes are started (they inherit it), then restore it.

    Yields
    ------
    dict[str, str]
        A copy of :data:`PINNED_ENV`: the variables now set.

    Examples
    --------
    >>> with pinned_env():  # doctest: +SKIP
    ...     pool = ProcessPoolExecutor(2, mp_context=get_context("spawn"))
    """
    saved = {k: os.environ.get(k) for k in PINNED_ENV}
    os.environ.update(PINNED_ENV)
    try:
        yield dict(PINNED_ENV)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def is_pinned() -> bool:
    """True in a process started with :data:`PINNED_ENV` (every cap in place before torch ran a kernel)."""
    return all(os.environ.get(k) == v for k, v in PINNED_ENV.items())


def numerics_profile() -> dict[str, object]:
    """What this process computes with, for a run's record: pinned or not, threads, and the kernels' ISA."""
    import torch

    return {
        "pinned": is_pinned(),
        "torch_threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "onednn_max_isa": os.environ.get("ONEDNN_MAX_CPU_ISA", "default"),
    }


def use_channels_last(model: torch.nn.Module) -> torch.utils.hooks.RemovableHandle | None:
    """In a pinned process, put a convolution net's weights in channels-last layout and convert its input there at
    the first convolution (every later layer follows the input's layout). Returns the hook's handle, or None where
    the layout stays as it is (not pinned, or not a convolution net)."""
    import torch
    from torch import nn

    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not is_pinned() or len(convs) < 2:
        return None
    model.to(memory_format=torch.channels_last)

    def to_channels_last(_module: nn.Module, args: tuple) -> tuple:
        x = args[0]
        return (x.contiguous(memory_format=torch.channels_last), *args[1:]) if x.dim() == 4 else args

    return convs[0].register_forward_pre_hook(to_channels_last)
