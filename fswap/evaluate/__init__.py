"""Evaluation of a swap: identity transfer, reconstruction quality, temporal stability and mask sanity.

`fswap.evaluate.metrics` holds the pure numpy metrics; `report` writes report.json and report.html; the
other modules gather the inputs (held-out faces, generator outputs, tracks of the converted video).
Importing this package never imports TensorFlow.
"""
