"""Command-line verbs, one module each; `cli.py` defines the arguments and dispatches to them.

Each module imports what its verb needs inside the function that runs it, so loading one verb
(e.g. `rules lint`) does not load another's dependencies.
"""

DEFAULT_CONFIG = "/etc/auditwatch/auditwatch.yml"
EXIT_OK, EXIT_FINDINGS, EXIT_CONFIG, EXIT_RUNTIME = 0, 1, 2, 3
