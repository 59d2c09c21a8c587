"""The data steward's web app (`finsam steward serve`): review, accept and reopen held rows behind
a login. Above the warehouse and the steward's review data; only the command line imports it."""
