"""Benchmarks: national-scale landing zones for measuring the pipeline."""
