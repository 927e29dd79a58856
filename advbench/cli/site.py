"""``advbench site REPORTS_DIR --out DIR``: build the static results site of every run folder.

``--out`` is refused when it is REPORTS_DIR, inside it or above it, a file, or an existing folder that
is neither empty nor a site built earlier (``advbench.site.build``)."""

from __future__ import annotations

import sys


def _site(args) -> int:
    from advbench.site.build import build

    index = build(args.reports_dir, args.out)
    print(f"advbench site: wrote {index} (open it in a browser)", file=sys.stderr)
    return 0


def register(sub) -> None:
    """Add the ``site`` sub-command to the CLI."""
    site = sub.add_parser(
        "site",
        help="build a static results site from the run folders under a folder",
        description="Build a static HTML site (index, one page per run folder, leaderboards) from the "
        "leaderboard entries that `advbench report` writes; it works from file:// without a server.",
    )
    site.add_argument(
        "reports_dir", metavar="REPORTS_DIR", help="folder whose run folders (with results.jsonl) to show"
    )
    site.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="folder to write the site into, replaced as a whole; an existing one must be empty or a site built "
        "by `advbench site`, and it may not be REPORTS_DIR, inside it or above it",
    )
    site.set_defaults(handler=_site)
