"""SUS: the submission to the national follow-up system and the statistics boards read."""
