"""Helpers of the convert stage: multi-face tracking, crop geometry, frame layouts, the conversion engine.

Only `engine` imports TensorFlow (through the generator), and only when a generator is loaded.
"""
