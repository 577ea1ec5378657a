"""Helpers shared by the benchmark scripts: peak memory, machine facts and JSON output."""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(os.environ.get("FSWAP_BENCH_RESULTS") or Path(__file__).resolve().parent / "results")
"""Where results go: bench/results, or $FSWAP_BENCH_RESULTS (python -m bench --quick uses a temp folder)."""


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)


def cpu_model() -> str:
    """The CPU's model name and its vector extensions that decide TensorFlow's kernels (Linux)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or "unknown"
    pairs = (line.split(":", 1) for line in text.splitlines()[:40] if ":" in line)
    fields = {key.strip(): value.strip() for key, value in pairs}
    name = fields.get("model name") or "unknown"
    flags = set(fields.get("flags", "").split())
    wanted = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16")
    return f"{name} ({' '.join(f for f in wanted if f in flags) or 'no AVX2'})"


def machine() -> dict[str, Any]:
    """Where the numbers were measured: platform, CPU, whether TensorFlow was asked for oneDNN, load."""
    from fswap.tensorflow_env import onednn_setting

    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "cpu": cpu_model(), "tf_enable_onednn_opts": onednn_setting(),
            "load_average_1_5_15": [round(v, 2) for v in os.getloadavg()]}


def emit(name: str, result: dict[str, Any]) -> None:
    """Print `result` as JSON on stdout and store it as bench/results/<name>.json."""
    text = json.dumps(result, indent=2)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(text + "\n", encoding="utf-8")


def run_child(module: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run `python -m <module> --one <spec as JSON>` in a fresh process (so its peak RSS and compiled
    graphs are its own) and return the last JSON line it prints, or the spec with the error's last lines."""
    import subprocess

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-m", module, "--one", json.dumps(spec)],
                          capture_output=True, text=True, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {**spec, "error": (proc.stderr or proc.stdout).strip().splitlines()[-3:]}
    return json.loads(lines[-1])
