"""Command-line verbs that are more than a line of wiring, one module each; `cli.py` dispatches to them."""
