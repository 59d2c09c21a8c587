"""Validation: Pandera schemas per source and per warehouse table, and the issue frame they produce."""
