"""Defaults of the extract gates, measured by `python -m fswap.extract.calibration` (docs/extract.md).

Import-free, so the stage config (read by `fswap validate`, which imports neither numpy nor cv2) and the
calibration tool that checks them share one value."""

MIN_SHARPNESS = 0.09
"""[extract] min_sharpness: between the blurred and the sharp groups of the calibration."""

DEDUPE_THRESHOLD = 0.06
"""[extract] dedupe_threshold: between frozen (near-identical) and moving consecutive faces."""
