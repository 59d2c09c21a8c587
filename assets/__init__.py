"""Dagster assets, one package per area; each exposes its assets and checks."""
