"""Hostile documents, generated on demand (none of them is committed).

`make_hostile(directory)` writes every file below into `directory` and returns
{name: Path}.  A reader must turn each into a located one-line problem or an
"unread" entry, never a traceback, and must go on reading the other files of
the same run.  `make_long_markdown(directory)` writes the 40 KB Markdown
document the extraction benchmark times; all its claims are right.

Run by hand:  python tests/documents/hostile/make.py OUTDIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# What each file is for (the tests print this when a file is mishandled).
PURPOSE = {
    "huge_outputs.ipynb": "a valid notebook whose cell outputs hold about 1 MB of text",
    "deep_nesting.ipynb": "JSON nested 100,000 levels deep (json.loads raises RecursionError)",
    "invalid_json.ipynb": "a truncated notebook: not JSON at all",
    "not_a_notebook.ipynb": "valid JSON that is not a notebook (a list)",
    "unbalanced_dollars.md": "Markdown with unbalanced $ and $$ delimiters",
    "unparseable_latex.md": "a derivative of an integral, which SymPy's LaTeX parser cannot translate",
    "unparseable_latex.tex": "the same formula in a LaTeX document, plus an unclosed environment",
    "binary.md": "binary bytes (NUL, invalid UTF-8) under a .md name",
    "empty.md": "an empty file",
    "empty.ipynb": "an empty file named .ipynb",
    "long_lines.py": "a percent script with a 200,000-character line and a syntax error",
}

UNPARSEABLE = r"\frac{\partial}{\partial x}\left[\int_0^x e^{-t^2}dt\right] = e^{-x^2}"


def _huge_outputs() -> str:
    line = "epoch loss: 0.693147 (still learning, please wait)\n"
    noise = line * (1_000_000 // len(line) + 1)
    cells = [
        {"cell_type": "markdown", "id": "a1", "metadata": {},
         "source": "For $f(x) = x^2$ we have $f'(x) = 2x$."},
        {"cell_type": "code", "id": "a2", "execution_count": 1, "metadata": {},
         "source": "for epoch in range(20000):\n    print('epoch loss: 0.693147 (still learning, please wait)')",
         "outputs": [{"output_type": "stream", "name": "stdout", "text": noise}]},
        {"cell_type": "code", "id": "a3", "execution_count": 2, "metadata": {},
         "source": "import torch\nx = torch.tensor(3.0, requires_grad=True)\n(x ** 2).backward()\nx.grad",
         # 2 * 3 = 6
         "outputs": [{"output_type": "execute_result", "execution_count": 2, "metadata": {},
                      "data": {"text/plain": "tensor(6.)"}}]},
    ]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _deep_nesting() -> str:
    depth = 100_000
    return ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": '
            + "[" * depth + "]" * depth + "}")


def _invalid_json() -> str:
    text = json.dumps({"cells": [{"cell_type": "markdown", "metadata": {},
                                  "source": "$\\frac{d}{dx} x^2 = 2x$"}],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    return text[: len(text) // 2]


def _unbalanced_dollars() -> str:
    return (
        "# Unbalanced math\n\n"
        "The derivative of $x^2 is $2x, and $$f'(x) = 3x^2\n\n"
        "never closes.  A lone dollar: costs $5.\n\n"
        "```python\nprint('$')\n```\n\n"
        "After all that, a well-formed claim: $\\frac{d}{dx} x^3 = 3x^2$.\n"
    )


def _unparseable_md() -> str:
    return (
        "# The fundamental theorem\n\n"
        "Differentiating an integral with respect to its upper limit:\n\n"
        f"$$\n{UNPARSEABLE}\n$$\n\n"
        "A simple one after it: $\\frac{d}{dx}(x^2) = 2x$.\n"
    )


def _unparseable_tex() -> str:
    return (
        "\\documentclass{article}\n\\begin{document}\n"
        f"\\begin{{equation}}\n  {UNPARSEABLE}\n\\end{{equation}}\n"
        "And $\\frac{d}{dx}(x^2) = 2x$.\n"
        "\\begin{align}\n  \\frac{d}{dx} x^3 &= 3x^2 \\\\\n"   # never closed
        "\\end{document}\n"
    )


def _long_lines_py() -> str:
    return (
        "# %% [markdown]\n# The derivative of $x^2$ is $2x$.\n\n"
        "# %%\nvalues = [" + ", ".join("1.0" for _ in range(40_000)) + "]\n\n"
        "# %%\ndef broken(:\n    return x ** 2\n"
    )


def make_hostile(directory: str | Path) -> dict[str, Path]:
    """Write every hostile file into `directory` (created if needed); return name -> path."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    texts = {
        "huge_outputs.ipynb": _huge_outputs(),
        "deep_nesting.ipynb": _deep_nesting(),
        "invalid_json.ipynb": _invalid_json(),
        "not_a_notebook.ipynb": json.dumps([1, 2, 3]),
        "unbalanced_dollars.md": _unbalanced_dollars(),
        "unparseable_latex.md": _unparseable_md(),
        "unparseable_latex.tex": _unparseable_tex(),
        "empty.md": "",
        "empty.ipynb": "",
        "long_lines.py": _long_lines_py(),
    }
    paths = {}
    for name, text in texts.items():
        paths[name] = out / name
        paths[name].write_text(text, encoding="utf-8")
    paths["binary.md"] = out / "binary.md"
    paths["binary.md"].write_bytes(bytes(range(256)) * 8 + b"\x00\xff\xfe$x^2$\x00")
    return paths


# Sections of the long document: each is a template filled with different
# numbers, so the document is varied rather than one paragraph repeated.
def _cubic(k: int) -> str:
    a, b, x = k % 4 + 1, k % 5 + 2, k % 3 + 1
    slope = 3 * a * x * x + b                     # d/dx (a x^3 + b x) = 3a x^2 + b
    return (
        f"## Section {k}: a cubic\n\n"
        f"Let $f(x) = {'' if a == 1 else a}x^3 + {b}x$.  Then $f'(x) = {3 * a}x^2 + {b}$ "
        f"and at $x = {x}$ the slope is ${slope}$.\n\n"
        "```python\n"
        f"x = torch.tensor({x}.0, requires_grad=True)\n"
        f"f = {a} * x ** 3 + {b} * x\n"
        "f.backward()\n"
        f"print(x.grad)  # >>> tensor({slope}.)\n"
        "```\n\n"
    )


def _descent(k: int) -> str:
    c = k % 7 + 2                                  # f(w) = (w - c)^2, f'(w) = 2(w - c)
    grad = -2 * c                                  # at w = 0
    new_w = 0.25 * 2 * c                           # 0 - 0.25 * (-2c) = c/2
    return (
        f"## Section {k}: one descent step\n\n"
        f"For $L(w) = (w - {c})^2$, \\(L'(w) = 2(w - {c})\\).  From $w = 0$ with learning rate $0.25$:\n\n"
        "```python\n"
        "w = 0.0\n"
        f"grad = 2 * (w - {c})\n"
        "w = w - 0.25 * grad\n"
        "print(grad, w)\n"
        "```\n\n"
        f"```text\n{float(grad)} {float(new_w)}\n```\n\n"
    )


def _partials(k: int) -> str:
    p, q = k % 3 + 1, k % 4 + 2                    # f = x^2 y at (p, q): (2pq, p^2)
    return (
        f"## Section {k}: partial derivatives\n\n"
        f"With $g(x, y) = x^2 y$, $$\\frac{{\\partial g}}{{\\partial x}} = 2xy, \\qquad "
        f"\\frac{{\\partial g}}{{\\partial y}} = x^2,$$ so $\\nabla g({p}, {q}) = ({2 * p * q}, {p * p})$.\n\n"
        "Prose between the formulas, as real notes have: the gradient points uphill, and its length "
        "says how steep the surface is at that point.  Nothing in this paragraph is a claim.\n\n"
    )


def make_long_markdown(directory: str | Path, size: int = 40_000) -> Path:
    """Write `long_40kb.md` (at least `size` bytes of varied, all-right sections) and return its path."""
    parts = ["# A long document\n\n", "```python\nimport torch\n```\n\n"]
    makers = (_cubic, _descent, _partials)
    k = 0
    while sum(len(p) for p in parts) < size:
        parts.append(makers[k % 3](k))
        k += 1
    path = Path(directory) / "long_40kb.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(parts), encoding="utf-8")
    return path


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-out")
    for name, path in sorted(make_hostile(target).items()):
        print(f"{path}  ({path.stat().st_size} bytes): {PURPOSE[name]}")
    long_md = make_long_markdown(target)
    print(f"{long_md}  ({long_md.stat().st_size} bytes): the timing benchmark's document")
