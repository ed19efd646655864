"""End to end, one small document per format: each states one right and one wrong
derivative; extraction, the case file and the audit's check must confirm the
right one and refute the wrong one.  (Derivatives worked by hand in comments.)"""


import nbformat
import pytest

from diffcheck.documents.audit import check_case
from diffcheck.documents.catalogue import load
from diffcheck.reading.extract import extract, to_case_file

NOTEBOOK = nbformat.v4.new_notebook()
NOTEBOOK.cells = [
    # d/dt e^{2t} = 2 e^{2t}: right
    nbformat.v4.new_markdown_cell("$$h(t) = e^{2t}$$\n\n$$\\frac{dh}{dt} = 2e^{2t}$$"),
    # d/dt ln t = 1/t, not t: wrong
    nbformat.v4.new_markdown_cell("$$\\frac{d}{dt} \\ln(t) = t$$"),
]

DOCUMENTS = {
    # (x^3)' = 3x^2 right; (sin x)' = cos x, not -cos x: wrong
    "notes.md": "$f(x) = x^3$ so $f'(x) = 3x^2$.\n\n$g(x) = \\sin(x)$ and $g'(x) = -\\cos(x)$.\n",
    "notes.ipynb": nbformat.writes(NOTEBOOK),
    # y = x^2 + 1 at x = 3: 3^2 + 1 = 10 right; dy/dx = 2x = 2(3) = 6, so "= 7" is wrong
    "export.txt": ("In [1]:\nx = 3\n\n\nWith $y = x^2 + 1$ and $x = 3$: $y = 3^2 + 1 = 10$ and\n"
                   "$\\frac{dy}{dx} = 2(3) = 7$.\n"),
    # sigma' = sigma (1 - sigma): right; tanh' = 1 - tanh^2, not 1 + tanh^2: wrong
    "tutorial.py": ("# %% [markdown]\n# Let $u(z) = \\sigma(z)$; then $u'(z) = \\sigma(z)(1 - \\sigma(z))$.\n"
                    "# %%\ndef v(z):\n    \"\"\"$v(z) = \\tanh(z)$ has $v'(z) = 1 + \\tanh(z)^2$.\"\"\"\n"),
    # (x^4)' = 4x^3: right; d/dx (x y) = y, not x: wrong
    "notes.tex": ("\\[ p(x) = x^4 \\]\n\\[ p'(x) = 4x^3 \\]\n"
                  "\\begin{equation}\n\\frac{\\partial}{\\partial x} (x y) = x\n\\end{equation}\n"),
    # (1/x)' = -1/x^2: right; (sqrt x)' = 1/(2 sqrt x), not 1/sqrt x: wrong
    "notes.rst": (".. math::\n\n   q(x) = \\frac{1}{x}\n\n.. math::\n\n   q'(x) = -\\frac{1}{x^2}\n\n"
                  "And :math:`\\frac{d}{dx} \\sqrt{x} = \\frac{1}{\\sqrt{x}}`.\n"),
}


def statuses(tmp_path, name):
    path = tmp_path / name
    path.write_text(DOCUMENTS[name])
    extraction = extract(path)
    assert extraction.problems == [] and extraction.unread == []
    target = tmp_path / "cases.toml"
    target.write_text(to_case_file(extraction, strict=True))
    loaded = load(target)
    assert loaded.errors == []
    found = []
    for case in loaded.cases:
        result = check_case(case, backends=["symbolic", "numeric"])
        found.append([f.status for f in result.findings])
    return found


@pytest.mark.parametrize("name, expected", [
    ("notes.md", [["confirmed"], ["refuted"]]),
    ("notes.ipynb", [["confirmed"], ["refuted"]]),
    ("export.txt", [["confirmed"], ["confirmed", "refuted"]]),    # 10 right; 6 right, 7 wrong
    ("tutorial.py", [["confirmed"], ["refuted"]]),
    ("notes.tex", [["confirmed"], ["refuted"]]),
    ("notes.rst", [["confirmed"], ["refuted"]]),
])
def test_right_claim_confirmed_and_wrong_claim_refuted(tmp_path, name, expected):
    assert statuses(tmp_path, name) == expected
