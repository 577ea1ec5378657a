"""fd 2 during a CLI command: TensorFlow's C++ log noise is dropped, everything else passes, and fd 2,
sys.stderr and the import machinery are as they were afterwards (fswap/native_stderr.py)."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import textwrap
import threading

from fswap.native_stderr import _pump, filter_lines, is_tensorflow_noise

START_INFO = (b"I0000 00:00:1796116808.111366    8073 cpu_feature_guard.cc:227] This TensorFlow binary is "
              b"optimized to use available CPU instructions in performance-critical operations.\n")
BANNERS = (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
           b"To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow.\n")
WARNING = b"W0000 00:00:1796116808.2   8073 cuda_executor.cc:1] could not open file to read NUMA node\n"
REMAPPER = (b"E0000 00:00:1796116983.403173    9715 meta_optimizer.cc:967] remapper failed: "
            b"INVALID_ARGUMENT: Mutation::Apply error: fanout "
            b"'gradient_tape/decoder_b_1/upscale3_act_1/LeakyRelu/LeakyReluGrad' exist for missing node "
            b"'decoder_b_1/upscale3_conv_1/BiasAdd'.\n")
REAL_ERROR = b"E0000 00:00:1796116983.5   9715 cuda_dnn.cc:535] Could not create cudnn handle\n"
OTHER_OPTIMIZER_ERROR = b"E0000 00:00:1796116983.5   9715 meta_optimizer.cc:950] model pruner: giving up\n"
FATAL = b"F0000 00:00:1796116983.6   9715 tensor.cc:77] Check failed: size mismatch\n"


def test_noise_follows_tf_cpp_min_log_level_and_grappler_pass_failures_are_dropped() -> None:
    for level, hidden in [(0, set()), (1, {"info", "banner", "grappler"}),
                          (2, {"info", "banner", "warning", "grappler"}),
                          (3, {"info", "banner", "warning", "grappler", "error", "other"})]:
        lines = {"info": START_INFO, "banner": BANNERS[0], "warning": WARNING, "grappler": REMAPPER,
                 "error": REAL_ERROR, "other": OTHER_OPTIMIZER_ERROR, "fatal": FATAL, "plain": b"hello\n"}
        dropped = {name for name, line in lines.items() if is_tensorflow_noise(line, level)}
        assert dropped == hidden, level
    assert is_tensorflow_noise(BANNERS[1]) and is_tensorflow_noise(REMAPPER.rstrip(b"\n"))


def test_filter_lines_keeps_the_rest_and_cuts_a_noise_line_that_starts_mid_line() -> None:
    data = START_INFO + b"real line\n" + b"train:  10%| | 1/10" + REMAPPER + REAL_ERROR + WARNING
    assert filter_lines(data) == b"real line\ntrain:  10%| | 1/10" + REAL_ERROR
    assert filter_lines(data, 0) == data


def pumped(chunks: list[bytes], min_level: int = 2) -> bytes:
    """What `_pump` passes on when `chunks` are written one by one into its pipe."""
    src_r, src_w = os.pipe()
    dst_r, dst_w = os.pipe()
    thread = threading.Thread(target=_pump, args=(src_r, dst_w, min_level))
    thread.start()
    for chunk in chunks:
        os.write(src_w, chunk)
    os.close(src_w)
    thread.join(timeout=30)
    assert not thread.is_alive()
    os.close(dst_w)
    out = b""
    while block := os.read(dst_r, 1 << 16):
        out += block
    os.close(src_r)
    os.close(dst_r)
    return out


def test_pump_drops_noise_written_in_any_pieces_and_passes_bars_and_errors() -> None:
    chunks = [START_INFO[:30], START_INFO[30:] + b"first ", b"line\n", b"\rtrain: 0%", REMAPPER,
              b"\rtrain: 50%", b"\n", REAL_ERROR[:5], REAL_ERROR[5:], FATAL, b"no newline at the end"]
    assert pumped(chunks) == (b"first line\n\rtrain: 0%\rtrain: 50%\n" + REAL_ERROR + FATAL
                              + b"no newline at the end")


def test_pump_lets_an_unfinished_line_out_without_waiting_for_its_end() -> None:
    src_r, src_w = os.pipe()
    dst_r, dst_w = os.pipe()
    thread = threading.Thread(target=_pump, args=(src_r, dst_w, 2))
    thread.start()
    try:
        for piece in (b"\rconvert: 3/9", b"E12"):  # a bar, and text that might be the start of a log line
            os.write(src_w, piece)
            ready, _, _ = select.select([dst_r], [], [], 30)
            assert ready and os.read(dst_r, 100) == piece  # the pump did not wait for a newline
    finally:
        os.close(src_w)
        thread.join(timeout=30)
        for fd in (src_r, dst_r, dst_w):
            os.close(fd)


SESSION_SCRIPT = """
import os, sys, types
sys.modules["tensorflow"] = types.ModuleType("tensorflow")  # as if imported: the filter starts at once
from fswap.native_stderr import quiet_native_stderr
finders, before = list(sys.meta_path), sys.stderr
with quiet_native_stderr():
    inside = sys.stderr
    os.write(2, {noise!r} + b"native line\\n")
    print("python line", file=sys.stderr)
    assert inside is not before and inside.fileno() != 2
    assert os.fstat(2).st_ino != os.fstat(inside.fileno()).st_ino  # fd 2 is the pipe, sys.stderr is not
    {ending}
assert sys.stderr is before and sys.meta_path == finders and inside.closed
os.write(2, {noise!r})  # outside the block nothing is filtered
print("done", file=sys.stderr)
"""


def run_session(ending: str = "pass") -> subprocess.CompletedProcess:
    script = textwrap.dedent(SESSION_SCRIPT).format(noise=START_INFO + REMAPPER, ending=ending)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120, env=env)


def test_a_session_filters_fd_2_and_puts_everything_back() -> None:
    done = run_session()
    assert done.returncode == 0, done.stderr
    after = START_INFO + REMAPPER + b"done\n"
    assert done.stderr.endswith(after)
    inside = done.stderr[: -len(after)]  # Python's lines go to the terminal directly, so in any order
    assert sorted(inside.splitlines()) == [b"native line", b"python line"]


def test_what_was_written_just_before_a_crash_still_comes_out() -> None:
    done = run_session("os.write(2, b'last words before the crash\\n'); os.abort()")
    assert done.returncode == -6
    assert b"last words before the crash\n" in done.stderr
    assert b"meta_optimizer" not in done.stderr and b"cpu_feature_guard" not in done.stderr
