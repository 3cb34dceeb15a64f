"""`python -m chatserver` is the same as the `chatserver` console script."""

from chatserver.cli import main

raise SystemExit(main())
