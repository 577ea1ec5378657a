"""fswap asks TensorFlow for oneDNN on x86-64 unless the user chose (fswap.tensorflow_env)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from fswap.tensorflow_env import ONEDNN_VARIABLE, X86_64, onednn_setting, prefer_onednn


def test_unset_on_x86_64_is_set_to_one() -> None:
    env: dict[str, str] = {}
    assert prefer_onednn(env, machine="x86_64") is True
    assert env == {ONEDNN_VARIABLE: "1"}
    assert onednn_setting(env) == "1"


@pytest.mark.parametrize("value", ["0", "1"])
def test_a_value_the_user_gave_is_kept(value: str) -> None:
    env = {ONEDNN_VARIABLE: value}
    assert prefer_onednn(env, machine="AMD64") is False
    assert env == {ONEDNN_VARIABLE: value}


def test_other_architectures_keep_tensorflows_choice() -> None:
    env: dict[str, str] = {}
    assert prefer_onednn(env, machine="aarch64") is False
    assert env == {}
    assert onednn_setting(env) == "unset"


def _onednn_in_effect(env: dict[str, str]) -> str:
    code = ("import fswap, tensorflow\n"
            "from tensorflow.python.util import _pywrap_util_port as port\n"
            "print('onednn', port.IsMklEnabled())\n")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.skipif(platform.machine().lower() not in X86_64, reason="x86-64 only")
def test_importing_fswap_first_gives_tensorflow_onednn_and_zero_turns_it_off() -> None:
    """TensorFlow 2.21 leaves oneDNN off on AVX2-only CPUs; `import fswap` must turn it on before TF starts,
    and an explicit TF_ENABLE_ONEDNN_OPTS=0 must still win."""
    base = {k: v for k, v in os.environ.items() if k != ONEDNN_VARIABLE}
    base["TF_CPP_MIN_LOG_LEVEL"] = "3"
    assert _onednn_in_effect(base) == "onednn True"
    assert _onednn_in_effect({**base, ONEDNN_VARIABLE: "0"}) == "onednn False"
