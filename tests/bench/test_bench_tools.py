"""bench tooling: the summary of `python -m bench` and the plot read the results JSON correctly."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import plot  # noqa: E402
from bench.__main__ import FULL, MODULES, QUICK, summarize  # noqa: E402

EXTRACT = {"results": {"640x360": {"baseline": {"faces_per_s": 8.0}, "fast": {"faces_per_s": 40.0}}}}
CONVERT = {"modes": {"baseline": {"fps": 4.0, "speedup_vs_baseline": 1.0, "mad_vs_baseline": 0.0},
                     "every_5": {"fps": 20.0, "speedup_vs_baseline": 5.0, "mad_vs_baseline": 0.8}}}
TRAIN = {"results": [{"resolution": 64, "capacity": "standard", "precision": "float32",
                      "fswap": {"images_per_s": 30.0}, "baseline": {"images_per_s": 31.0},
                      "ratio_fswap_to_baseline": 0.968, "share_of_float32_matmul_peak": 0.4,
                      "peak_rss_mb": 2000.0},
                     {"resolution": 64, "capacity": "standard", "precision": "bfloat16", "error": ["boom"]}],
         "speedup": {}}
ATTENTION = {"batch": 4, "positions": 4096,
             "runs": [{"query_block": "plain", "recompute": False, "train_step_ms": 900.0},
                      {"query_block": "auto", "recompute": False, "train_step_ms": 350.0},
                      {"query_block": 256, "recompute": True, "train_step_ms": 700.0}]}


def test_summary_picks_the_headline_numbers_and_skips_failed_rows() -> None:
    out = summarize({"extract": EXTRACT, "convert": CONVERT, "train": TRAIN, "attention": {"error": ["x"]},
                     "train_no_attention": {"results": TRAIN["results"][:1]},
                     "alignments": {"modes": {"detect": {}, "reuse": {}}, "speedup_reuse_vs_detect": 1.7}})
    assert out["convert_reuse_alignments_speedup"] == 1.7
    assert out["extract_faces_per_s_640x360"] == {"baseline": 8.0, "fast": 40.0}
    assert out["convert_fps_640x360"]["every_5"] == 20.0
    assert out["convert_speedup_vs_baseline"]["every_5"] == 5.0
    assert out["convert_mad_vs_baseline"]["every_5"] == 0.8
    assert list(out["train"]) == ["64:standard:float32", "64:standard:float32:no_attention"]
    assert out["train"]["64:standard:float32"]["ratio_to_hand_written"] == 0.968
    goals = out["issue19_goals"]
    assert goals["3_input_pipeline"]["met"] == "not measured"
    measured = {"stores": {"decoded": {}}, "png_same_batches_tensorflow": True,
                "decoded_tensorflow_tf_data_batches_per_s_vs_decoded": 1.1,
                "png_tensorflow_tf_data_batches_per_s_vs_decoded": 0.8}
    three = summarize({"input_pipeline": measured})["issue19_goals"]["3_input_pipeline"]
    assert three["met"] is True
    assert three["measured"]["png_tensorflow_tf_data_batches_per_s_vs_decoded"] == 0.8
    slower = {**measured, "decoded_tensorflow_tf_data_batches_per_s_vs_decoded": 0.73}
    assert summarize({"input_pipeline": slower})["issue19_goals"]["3_input_pipeline"]["met"] is False
    failed = summarize({"input_pipeline": {"stores": {"decoded": {}, "png+tensorflow": {"error": ["x"]}}}})
    assert failed["issue19_goals"]["3_input_pipeline"]["met"] is False
    assert goals["5_convert"]["met"] is True and goals["5_convert"]["measured"]["speedup"] == 5.0
    assert goals["2_share_of_peak"]["measured"] == 0.4 and goals["2_share_of_peak"]["met"] is False
    assert goals["1_bfloat16"]["met"] == "not measured"  # the bfloat16 row failed: no ratio
    assert goals["6_onnx"]["met"] == "not measured" and goals["7_gpu"]["met"] == "not measured"
    empty = summarize({})
    assert list(empty) == ["issue19_goals"]
    assert all(goal["met"] == "not measured" for goal in empty["issue19_goals"].values())


def test_quick_and_full_plans_cover_the_same_benchmarks() -> None:
    assert set(QUICK) == set(FULL) == {"attention", "extract", "convert", "alignments", "train",
                                      "train_no_attention", "memory-fswap-only", "input_pipeline"}
    assert MODULES == {"train_no_attention": "train", "memory-fswap-only": "train"}
    named = ["--name", "train_no_attention"]
    assert FULL["train_no_attention"][-2:] == QUICK["train_no_attention"][-2:] == named


def test_plot_draws_one_panel_per_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    results = {"extract": EXTRACT, "convert": CONVERT, "train": TRAIN, "attention": ATTENTION}
    for name, data in results.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setattr(plot, "RESULTS", tmp_path)
    panels = plot.panels()
    assert [p[0].split()[0] for p in panels] == ["Extraction", "Conversion", "Training", "Self-attention"]
    assert panels[1][2] == [4.0, 20.0] and panels[1][4] == 25.0
    assert panels[2][1] == ["64 standard float32 fswap", "64 standard float32 hand-written"]
    assert panels[3][1][:2] == ["plain N×N (baseline)", "automatic (query_block 0)"]
    out = tmp_path / "perf.png"
    plot.main(["--out", str(out)])
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000


def test_plot_without_results_says_how_to_make_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plot, "RESULTS", tmp_path)
    with pytest.raises(SystemExit, match="python -m bench"):
        plot.main(["--out", str(tmp_path / "x.png")])
