"""Makes this directory's helper module importable as `acct_support`.

With --import-mode=importlib and pythonpath [".", "tests"], `engine.accounting...` is
the real package, so the helpers cannot be imported by package path; the test modules
import `acct_support` (a name no other directory uses) from here instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
