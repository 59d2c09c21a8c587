"""Dagster wiring: definitions, resources, partitions, settings. No business logic here."""
