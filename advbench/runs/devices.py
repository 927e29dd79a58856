"""Where and how a run computes: ``--device`` resolved once, fixed CPU threads, deterministic CUDA.

``--device`` is resolved before the first pair (``auto``: CUDA when this machine has it, else the
CPU) and the resolved device is what every deep detector gets, what each result line records
and what the run folder's guard compares (by kind, ``cpu`` or ``cuda``; see ``guard``).

Every process that fits detectors (the main one with ``--jobs 1``, else each worker) calls
``configure_process`` first: the same number of CPU threads in torch and in every BLAS / OpenMP
pool (``--threads``), and, on CUDA, torch's deterministic mode: ``use_deterministic_algorithms``
(warning, not failing, for an operation that has no deterministic CUDA kernel), cuDNN's
deterministic kernels without benchmarking, no TF32 and ``CUBLAS_WORKSPACE_CONFIG=:4096:8``
(unless set already), which cuBLAS needs for reproducible matrix products.
"""

from __future__ import annotations

import os

from advbench.errors import AdvbenchError

_THREAD_LIMITS: list = []


def resolve_device(spec: str) -> str:
    """The device that ``--device spec`` means on this machine (``torch_utils.resolve_device``);
    AdvbenchError naming the flag when it has no such device."""
    from advbench.torch_utils import resolve_device as resolve

    try:
        return str(resolve(spec))
    except ValueError as exc:
        raise AdvbenchError(f"--device {spec}: {exc}") from None


def device_kind(device: str) -> str:
    """``cuda:1`` -> ``cuda``: the kind of device, which decides which kernels compute the numbers."""
    return device.partition(":")[0]


def configure_process(threads: int, device: str) -> None:
    """Use ``threads`` CPU threads everywhere in this process and, on CUDA, deterministic kernels."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    _THREAD_LIMITS[:] = [threadpool_limits(limits=threads)]
    if device_kind(device) == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
