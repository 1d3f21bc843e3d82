"""Makes this directory's helper module importable as `aaa_support` (see
tests/engine/accounting/conftest.py for why by that name)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
