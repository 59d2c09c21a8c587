"""From raw delivery to conformed warehouse table, one asset per source."""
