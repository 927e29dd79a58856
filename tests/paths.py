"""Where the repository and the shared real data are, for tests at any depth of ``tests/``."""

from pathlib import Path

#: The repository root.
REPO = Path(__file__).resolve().parents[1]
#: The shared real data beside the clone (absent on machines without it: those tests skip).
SHARED_DATA = REPO.parent / "shared" / "data"
