"""Text from users (case files, documents, file names) made safe to print.

An escape sequence in a quote or a file name must never reach a terminal raw:
control characters (C0 but newline and tab, DEL, C1) are shown as ``\\xNN``.
Kept free of heavy imports: the command line uses it before anything is loaded.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text) -> str:
    """``text`` with every control character but newline and tab shown as ``\\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", str(text))
