"""Warehouse-level quality: Great Expectations suites as Dagster asset checks."""
