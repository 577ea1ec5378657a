"""bench.profile_step: op types read from TensorFlow's trace names, self time of nested events."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.profile_step import op_type, self_times  # noqa: E402


def test_op_type_reads_tensorflow_op_events_and_skips_executor_events() -> None:
    assert op_type("model/decoder_a/conv2d_3/Conv2D:_MklNativeFusedConv2D") == "_MklNativeFusedConv2D"
    assert op_type("gradient_tape/while/MatMul:BatchMatMulV2") == "BatchMatMulV2"
    assert op_type("ExecutorState::Process") is None  # the executor, not an op
    assert op_type("FunctionRun") is None  # no op type
    assert op_type("__inference_train_step_123") is None
    assert op_type("scope/x:lowercase") is None


def test_self_time_subtracts_nested_events_once() -> None:
    # While [0, 100) holds MatMul [10, 40) and Softmax [50, 70) (itself holding Exp [55, 60)); Add after
    events = [(0, 100, "While"), (10, 30, "MatMul"), (50, 20, "Softmax"), (55, 5, "Exp"), (120, 7, "Add")]
    assert self_times(events) == {"While": 50, "MatMul": 30, "Softmax": 15, "Exp": 5, "Add": 7}
    # the same events in another order; an event that ends where the next starts is not its parent
    shuffled = [events[i] for i in (4, 2, 0, 3, 1)] + [(127, 3, "Add")]
    assert self_times(shuffled) == {"While": 50, "MatMul": 30, "Softmax": 15, "Exp": 5, "Add": 10}
    # the sum of self times is the time covered by the outermost events
    assert sum(self_times(events).values()) == 100 + 7
