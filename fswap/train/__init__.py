"""The train stage's library: loss-term API, schedule, checkpoints, the compiled train step and reporting.

Importing this package is cheap; submodules that need TensorFlow import it themselves.
"""
