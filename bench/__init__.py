"""Benchmarks: scripts that print one JSON object (and keep it in bench/results/<name>.json)."""
