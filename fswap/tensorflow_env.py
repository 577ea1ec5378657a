"""Process settings TensorFlow reads once, at its import; `import fswap` applies them before any TF import.

TensorFlow 2.21 turns its oneDNN kernels on by default only on x86 CPUs with AVX-512 VNNI/BF16 or AMX. On
other x86 CPUs (AVX2 machines such as AMD EPYC or most desktops) it falls back to its Eigen kernels, whose
convolution gradients are several times slower: on a 2-core AVX2 EPYC the fast recipe's train step took
1.37 s with them and 0.63 s with oneDNN (bench.quality_cost --onednn both, docs/performance.md), and a
5×5 output head's forward and backward alone ~133 ms against ~28 ms. So fswap asks for oneDNN on every
x86-64 CPU unless the user set `TF_ENABLE_ONEDNN_OPTS` themselves; oneDNN changes results only by
float32 rounding (TensorFlow's own note says so when it starts).

Nothing here imports TensorFlow.
"""

from __future__ import annotations

import os
import platform
from collections.abc import MutableMapping

ONEDNN_VARIABLE = "TF_ENABLE_ONEDNN_OPTS"
X86_64 = frozenset({"x86_64", "amd64", "x64"})


def prefer_onednn(environ: MutableMapping[str, str] | None = None, machine: str | None = None) -> bool:
    """Set TF_ENABLE_ONEDNN_OPTS=1 on x86-64 when it is unset; returns whether this call set it.

    A value the user gave (0 or 1) is kept. Other architectures keep TensorFlow's own choice (aarch64
    builds pick oneDNN+ACL by CPU)."""
    env = os.environ if environ is None else environ
    arch = (platform.machine() if machine is None else machine).lower()
    if ONEDNN_VARIABLE in env or arch not in X86_64:
        return False
    env[ONEDNN_VARIABLE] = "1"
    return True


def onednn_setting(environ: MutableMapping[str, str] | None = None) -> str:
    """What the process asked TensorFlow for: the variable's value, or "unset" (TensorFlow decides)."""
    env = os.environ if environ is None else environ
    return env.get(ONEDNN_VARIABLE, "unset")
