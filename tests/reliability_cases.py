"""Case files for the worker, interruption and determinism tests, with their truths.

Every expected value is worked out by hand in the comment beside the case.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# d/dx x**2 = 2x = 6 at x = 3: the claim is right.
SQUARE = '''
[[case]]
name = "square"
where = "Sec 1"
expression = "x**2"
variables = { x = 3.0 }

[[case.claim]]
kind = "gradient"
wrt = "x"
claimed = "6"
'''

# d/dy (2y + 1) = 2, not 3: the claim is wrong.
LINE = '''
[[case]]
name = "line"
where = "Sec 3"
expression = "2*y + 1"
variables = { y = 4.0 }

[[case.claim]]
kind = "gradient"
wrt = "y"
claimed = "3"
'''

# d/dw sum(w*w) = 2w = [2, -4, 6]: right.
VECTOR = '''
[[case]]
name = "vector"
where = "Sec 4"
expression = "sum(w*w)"
variables = { w = [1.0, -2.0, 3.0] }

[[case.claim]]
kind = "gradient"
wrt = "w"
claimed = "[2, -4, 6]"
'''

# The formula claim makes SymPy's simplify() work on the difference between the
# true derivative and "1"; its trigsimp pass does not end (over 150 s measured
# here, against 0.3 s for the other cases).  Only diffcheck's own parser and
# SymPy run: no code from the case file.
SLOW = '''
[[case]]
name = "slow-simplify"
where = "Sec 2"
expression = "tanh((exp(x) - exp(-x))/2 + (exp(y) + exp(-y))/2)**9 * exp(tan(x))"
variables = { x = 0.5, y = 0.25 }

[[case.claim]]
kind = "formula"
wrt = "x"
formula = "1"
'''


def hungry(rows: int = 10_000) -> str:
    """X is a column of ``rows`` entries, so X @ transpose(X) has rows**2 entries:
    800 MB of float64 for 10,000 rows, allocated on the first evaluation."""
    column = ", ".join(f"[{(i % 7) / 7:.3f}]" for i in range(rows))
    return f'''
[[case]]
name = "hungry"
where = "Sec 5"
expression = "sum(X @ transpose(X))"
variables = {{ X = [{column}] }}
'''


def case_file(*cases: str, document: str = "doc.txt") -> str:
    return f'format = 1\ndocument = "{document}"\n' + "".join(cases)


def environment() -> dict:
    """The environment for a ``python -m diffcheck`` subprocess that imports this checkout."""
    import os
    paths = [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "COLUMNS": "200"}


COMMAND = [sys.executable, "-m", "diffcheck", "audit"]
