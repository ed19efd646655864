"""The key's verdicts, recomputed with SymPy and plain arithmetic (never with diffcheck):
each planted formula really differs from the derivative, and the right formulas
of the corpus really are derivatives.  The formulas are typed here as SymPy
objects; nothing is parsed from the documents or the key."""

from __future__ import annotations

import math

import pytest

sp = pytest.importorskip("sympy")

from answerkey import load_key

x, y, w, u, v, x1, x2 = sp.symbols("x y w u v x1 x2")
KEY = {(c.file, c.quote): c for d in load_key() for c in d.claims}

# (file, quote) -> (function, variable, order, what the document says the derivative is)
PLANTED_FORMULAS = {
    ("descent_one_variable.md", "h'(w) = \\frac{1}{\\sqrt{w}}"): (sp.sqrt(w), w, 1, 1 / sp.sqrt(w)),
    ("partial_derivatives.md", "\\frac{\\partial q}{\\partial y} = e^{xy}"): (sp.exp(x * y), y, 1, sp.exp(x * y)),
    ("plot_activation_derivatives.py", "\\frac{d}{dx}\\log(1 + e^x) = \\frac{e^{-x}}{1 + e^{-x}}"):
        (sp.log(1 + sp.exp(x)), x, 1, sp.exp(-x) / (1 + sp.exp(-x))),
    ("chain_rule_notes.tex", "\\frac{d}{dx}\\sin(2x) = \\cos(2x)"): (sp.sin(2 * x), x, 1, sp.cos(2 * x)),
    ("chain_rule_notes.tex", "&= 3(x^2+1)^2 \\cdot x \\\\"): ((x**2 + 1)**3, x, 1, 3 * (x**2 + 1)**2 * x),
    ("chain_rule_notes.tex", "q''(x) = 2e^{2x}"): (sp.exp(2 * x), x, 2, 2 * sp.exp(2 * x)),
    ("matrix_gradients.tex", "\\frac{\\partial f}{\\partial x_2} = 2x_1 + 3x_2"):
        (2 * x1**2 + 2 * x1 * x2 + 3 * x2**2, x2, 1, 2 * x1 + 3 * x2),
    ("logarithms.rst", "\\frac{d}{dx} e^{3x} = e^{3x}"): (sp.exp(3 * x), x, 1, sp.exp(3 * x)),
    ("autograd_basics.ipynb", "\\frac{d}{dx}\\sin(2x) = \\cos(2x)"): (sp.sin(2 * x), x, 1, sp.cos(2 * x)),
}

RIGHT_FORMULAS = [
    (x**3, x, 1, 3 * x**2),
    ((x**2 + 1)**3, x, 1, 6 * x * (x**2 + 1)**2),
    (sp.log(1 + x**2), x, 1, 2 * x / (1 + x**2)),
    (x**3 - 2 * x, x, 2, 6 * x),
    (x * sp.log(x), x, 1, sp.log(x) + 1),
    (x**2 * y + 3 * y, y, 1, x**2 + 3),
    ((u * v + u)**2, u, 1, 2 * (u * v + u) * (v + 1)),
    (w**4, w, 2, 12 * w**2),
    (sp.exp(-x**2), x, 1, -2 * x * sp.exp(-x**2)),
    (x**2 * sp.exp(x), x, 1, 2 * x * sp.exp(x) + x**2 * sp.exp(x)),
]


@pytest.mark.parametrize("where", sorted(PLANTED_FORMULAS), ids=lambda k: f"{k[0]}:{k[1][:20]}")
def test_planted_formula_is_wrong_and_the_key_gives_the_truth(where):
    f, var, order, claimed = PLANTED_FORMULAS[where]
    claim = KEY[where]
    assert not claim.right
    true = sp.diff(f, var, order)
    assert sp.simplify(true - claimed) != 0
    assert claim.why and claim.true_value, claim.describe()


@pytest.mark.parametrize("f, var, order, claimed", RIGHT_FORMULAS)
def test_right_formula_of_the_corpus_is_the_derivative(f, var, order, claimed):
    assert sp.simplify(sp.diff(f, var, order) - claimed) == 0


def test_planted_numbers_recomputed_by_hand():
    assert math.isclose(1.08 - 0.1 * 2 * (1.08 - 3), 1.464)                     # descent_one_variable
    assert (2 * 2 * 1, 2**2 + 3) == (4, 7)                                        # partial_derivatives
    assert math.isclose(0.4 - 0.05 * (2 / 3) * (-0.6667 - 1.7333 - 2.8), 0.5733, abs_tol=1e-4)
    s = 1 / (1 + math.exp(2))
    assert round(s * (1 - s), 4) == 0.1050 and round(s, 4) == 0.1192              # activation
    assert round(-2 * 0.5 * math.exp(-0.25), 4) == -0.7788                        # chain_rule_v3
    assert round(2 * 2 / (1 + 4), 4) == 0.8
    assert round(2 * math.e, 4) == 5.4366 and round(3 * math.e, 4) == 8.1548      # autograd_basics
    assert 0.2 - 0.04 * 20 * 0.2 == pytest.approx(0.04)                           # narrow_valley
    # random_inputs: from the printed x2; torch prints 0.8427 and 0.4673 from the unrounded
    # randn values, so a reader must allow one unit in the last printed digit.
    assert [round(math.cos(0.5684), 4), round(math.cos(-1.0845), 4)] == [0.8428, 0.4674]
    assert [round(v * 2 / 3, 4) for v in (-2, -1)] == [-1.3333, -0.6667]          # matrix_gradients
    assert 0.5 / math.sqrt(4) == 0.25                                             # logarithms
