"""What the data steward reviews: held rows, notices and reconciliation conflicts."""
