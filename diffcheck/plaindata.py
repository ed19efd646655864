"""Numbers and arrays as plain JSON data.

Strict JSON has no NaN or infinity, so non-finite numbers are written as the
strings ``"nan"``, ``"inf"`` and ``"-inf"``; arrays become nested lists.  Every
layer that hands results to a report (check records, plot data) spells numbers
this way.
"""

from __future__ import annotations

import math

import numpy as np


def number(x):
    """A float as JSON data: itself if finite, else its name as a string."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def array(a):
    """An array (or scalar) as nested lists of :func:`number`."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 0:
        return number(a)
    return [array(row) for row in a]
