"""Where the team's shared folder is: beside the checkout (as CI lays it out), else /work/shared."""

from __future__ import annotations

from pathlib import Path

_CANDIDATES = (Path(__file__).resolve().parents[2] / "shared", Path("/work/shared"))
SHARED = next((p for p in _CANDIDATES if (p / "istio-testdata").is_dir()), _CANDIDATES[0])
ISTIO_TESTDATA = SHARED / "istio-testdata"
CHECK_CONTRACT = SHARED / "tools" / "check-contract"
