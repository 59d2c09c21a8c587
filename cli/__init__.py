"""The `finsam` command line: the top floor, above orchestration."""
