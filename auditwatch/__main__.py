"""`python -m auditwatch`: the same command line as the `auditwatch` script."""

from auditwatch.commands.cli import main

raise SystemExit(main())
