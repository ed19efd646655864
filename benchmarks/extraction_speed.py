"""Time `diffcheck.reading.extract` on one document (default: the largest seed).

    python benchmarks/extraction_speed.py [path]

Prints the size, the time of a first extraction (which includes building SymPy's
LaTeX grammar) and of a second one in the same process.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # this checkout's diffcheck
from diffcheck.reading.extract import extract  # noqa: E402

from diffcheck.reading.latexexpr import via_sympy  # noqa: E402

warm = time.perf_counter()
via_sympy("2x")         # imports SymPy's LaTeX parser and builds its grammar, once per process
print(f"LaTeX parser start-up {time.perf_counter() - warm:.2f} s")
path = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/seeds/003_076154eacbe4a861.txt")
start = time.perf_counter()
first = extract(path)
middle = time.perf_counter()
extract(path)
end = time.perf_counter()
print(f"{path.name}: {path.stat().st_size / 1024:.1f} KB, {len(first.document.blocks)} blocks, "
      f"{len(first.cases)} cases, {len(first.unread)} unread")
print(f"first extraction {middle - start:.2f} s (cold caches), "
      f"second {end - middle:.2f} s (cached translations)")
