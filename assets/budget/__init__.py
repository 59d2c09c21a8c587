"""Budget follow-up for the board: budget against outcome per quarter and tertial, Excel and HTML."""
