"""Allow ``python -m advbench``."""

from advbench.cli import main

raise SystemExit(main())
