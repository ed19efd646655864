"""The math claim finder on small documents written here; expected cases derived by hand."""

import pytest

from diffcheck.reading import markdown, mathfinder
from diffcheck.reading.latexexpr import translate


def find(text):
    return mathfinder.find(markdown.read("doc.md", text))


@pytest.mark.parametrize("latex, expected", [
    ("3x^2 + 4x + 2", "3*x**2 + 4*x + 2"),
    ("\\frac{1}{1+e^{-z}}", "1/(1 + exp(-z))"),
    ("\\sigma(z)(1-\\sigma(z))", "(1 - sigmoid(z))*sigmoid(z)"),
    ("1 - \\tanh(x)^2", "1 - tanh(x)**2"),
    ("w_1x_1 + w_2x_2", "w_1*x_1 + w_2*x_2"),
    ("\\left( x + 1 \\right)^2", "(x + 1)**2"),
    ("\\sin(x)\\cos(x)", "sin(x)*cos(x)"),
    ("2x\\sin(x) + x^2\\cos(x)", "2*x*sin(x) + x**2*cos(x)"),
    ("3x^2y", "3*x**2*y"),              # TeX's superscript is one token: 3 x^{2} y (SymPy's grammar refuses it)
    ("1 - \\tanh^2(x)", "1 - tanh(x)**2"),
    ("\\text{ReLU}(z) + \\operatorname{softplus}(z)", "relu(z) + softplus(z)"),
    ("\\left[ x^2 \\sin(x) \\right]", "x**2*sin(x)"),
    ("2 \\times 3x", "6*x"),            # 2 * 3x = 6x
    ("6(3) + 4", "22"),                  # 18 + 4
])
def test_latex_translations(latex, expected):
    # same meaning as the hand translation: equal values at a point where every op is defined
    assert same_value(translate(latex).expression, expected)


def same_value(left: str, right: str) -> bool:
    import numpy as np

    from diffcheck.language.expr import evaluate
    from diffcheck.language.parser import parse
    point = {"x": 0.7, "y": 1.3, "z": 0.9, "a": 1.1, "b": 0.6, "c": 1.2, "w_1": 0.8, "w_2": 1.4,
             "x_1": 0.45, "x_2": 1.7, "x_3": 0.35, "eta": 0.3, "w": 0.55, "y_hat": 0.65, "q": 0.95}
    names = [n for n in point if n in left or n in right]
    values = {n: np.float64(point[n]) for n in names}
    return float(evaluate(parse(left, names), values)) == pytest.approx(
        float(evaluate(parse(right, names), values)), rel=1e-12)


def test_sum_over_an_explicit_range_is_expanded():
    # sum_{i=1}^{3} i x_i = 1 x_1 + 2 x_2 + 3 x_3
    assert same_value(translate("\\sum_{i=1}^{3} i \\cdot x_i").expression, "x_1 + 2*x_2 + 3*x_3")
    assert translate("\\sum_{i=1}^{3} x_i + 1").reason == "where the \\sum's summand ends is ambiguous; bracket it"


@pytest.mark.parametrize("latex, reason", [
    ("\\sum_{i=1}^{n} x_i", "\\sum with a symbolic range is outside the expression language"),
    ("\\mathrm{GELU}(x)", "function 'GELU' is not read"),
    ("\\arcsec(x)", "\\arcsec is not read (it stands in for another function here)"),
])
def test_latex_refusals_give_reasons(latex, reason):
    assert translate(latex).reason == reason


def test_derivative_formula_of_a_defined_function():
    found = find("Let $f(x) = x^3 + 2x$. Then $f'(x) = 3x^2 + 2$.\n")
    # d/dx (x^3 + 2x) = 3x^2 + 2: a right formula, checked at a generic point
    assert found.cases == [{
        "name": "line-1", "where": "line 1", "quote": "f'(x) = 3x^2 + 2",
        "expression": "x**3 + 2 * x", "variables": {"x": 0.7}, "wrt": ["x"],
        "note": "no point stated: checked at a generic point",
        "claim": [{"kind": "formula", "wrt": "x", "formula": "3 * x**2 + 2"}]}]
    assert found.unread == []


def test_wrong_gradient_value_at_a_stated_point_is_kept_as_claimed():
    # g = x w^2 at x = 2, w = 3: dg/dw = 2xw = 12; the document says 13 (wrong), kept as written
    found = find("$g(x, w) = x w^2$. For x = 2, w = 3, then $\\frac{\\partial g}{\\partial w} = 13$.\n")
    assert found.cases[0]["variables"] == {"w": 3.0, "x": 2.0}
    assert found.cases[0]["claim"] == [{"kind": "gradient", "wrt": "w", "claimed": "13",
                                        "at": {"w": 3.0, "x": 2.0}}]


def test_substituted_chain_gives_the_point_and_value_claims():
    # 6x + 4 at x = 3: 6(3) + 4 = 18 + 4 = 22; "18 + 4" and "22" are the same value, claimed once
    found = find("$6x + 4 = 6(3) + 4 = 18 + 4 = 22$\n")
    assert found.cases[0]["expression"] == "6 * x + 4"
    assert found.cases[0]["claim"] == [{"kind": "value", "claimed": "22", "at": {"x": 3.0}}]


def test_wrong_intermediate_step_is_its_own_value_claim():
    # 6(3) + 4 = 22, but the middle side 16 + 4 is 20: claimed "20" at x = 3, which the audit refutes
    found = find("$6x + 4 = 6(3) + 4 = 16 + 4 = 22$\n")
    assert {c["claimed"] for c in found.cases[0]["claim"]} == {"22", "20"}


def test_derivation_steps_and_redefinition():
    text = "$y = x^2$\n\n$y = x^3$\n\n$\\frac{dy}{dx} = 3 x \\cdot x = 3x^2$\n"
    case = find(text).cases[0]
    # the second definition replaces the first: d/dx x^3; the steps stay as written
    assert case["expression"] == "x**3"
    assert case["claim"] == [{"kind": "derivation", "wrt": "x", "steps": ["3 * x * x", "3 * x**2"]}]


def test_gradient_vector_as_bmatrix():
    text = "$f(w_1, w_2) = w_1 x + w_2$\n\n$$\\nabla f = \\begin{bmatrix} x \\\\ 1 \\end{bmatrix}$$\n"
    case = find(text).cases[0]
    assert case["wrt"] == ["w_1", "w_2"]
    assert case["claim"] == [{"kind": "formula", "wrt": "w_1", "formula": "x"},
                             {"kind": "formula", "wrt": "w_2", "formula": "1"}]


def test_second_derivative_is_marked_for_review():
    case = find("$f(x) = x^3$ and $f''(x) = 6x$\n").cases[0]
    assert case["review"] is True
    assert case["claim"] == [{"kind": "formula", "wrt": "x", "formula": "6 * x", "order": 2}]


def test_plain_text_derivative_in_prose():
    case = find("$y = x^2$\n\ndy/dx = 2x\n").cases[0]
    assert case["claim"] == [{"kind": "formula", "wrt": "x", "formula": "2 * x"}]


def test_unreadable_definition_makes_the_derivative_unread_with_its_reason():
    found = find("$$L = \\sum_{i=1}^{n} (y_i - w x_i)^2$$\n\n$$\\frac{dL}{dw} = 2$$\n")
    assert found.cases == []
    assert [u.reason for u in found.unread] == [
        "the definition of L was not read: \\sum with a symbolic range is outside the expression language"]
    assert found.unread[0].location.line == 3


def test_prose_equations_without_claims_are_ignored():
    found = find("The dataset has $N = 12$ rows and $x = 3$ is the input.\n")
    assert found.cases == [] and found.unread == []


def test_unbalanced_dollar_does_not_crash():
    found = find("It costs $5 and $\\frac{1}{ is broken.\n")
    assert found.cases == []


@pytest.mark.parametrize("latex", [
    "x^{3} + x^{2} + x + 1", "(x + y) \\cdot z", "x^2 - 3 \\cdot y / z", "{a + b}/c", "-x^2 + w_{1}",
    "e^{x} - x", "(x - 1)^{2} \\times y", "\\frac{1}{1 + e^{-z}}", "\\sigma(z) \\cdot (1 - \\sigma(z))",
    "-\\frac{1}{x^2}", "\\sqrt{x^2 + y^2}", "\\ln(x) + \\exp(2 \\cdot x)", "\\frac{\\frac{1}{x}}{y}",
    "\\tanh(x)^2", "\\frac{e^{x}}{1+e^{x}}", "e^{-x^{2}}", "\\left(a + b\\right)^{3} \\cdot \\eta",
    "3x^2 + 4x + 2", "2(x + 1)", "(x + 1)(x - 1)", "e^{2x}", "0.5x - x_1", "\\frac{1}{2}(y - 3)^{2}",
    "xy + z", "(x + y)z", "x_1x_2 + w_1 x_1", "\\hat{y} - y",
])
def test_fast_path_agrees_with_the_sympy_route(latex):
    # formulas already in the language skip SymPy's slow parser; both readings must agree
    from diffcheck.reading.latexexpr import _already_in_language, via_sympy

    direct, slow = _already_in_language(latex), via_sympy(latex).expression
    assert direct is not None and slow is not None
    assert same_value(direct, slow)


def test_values_and_derivatives_at_points_written_in_the_notation():
    # f = x^2 + 1: f(3) = 10 right, f'(3) = 2*3 = 6 right, f'(2) = 4, so "5" is wrong but kept as claimed
    found = find("$f(x) = x^2 + 1$, so $f(3) = 10$ and $f'(3) = 6$ and $f'(2) = 5$.\n")
    assert [(c["variables"], c["claim"]) for c in found.cases] == [
        ({"x": 3.0}, [{"kind": "value", "claimed": "10", "at": {"x": 3.0}}]),
        ({"x": 3.0}, [{"kind": "gradient", "wrt": "x", "claimed": "6", "at": {"x": 3.0}}]),
        ({"x": 2.0}, [{"kind": "gradient", "wrt": "x", "claimed": "5", "at": {"x": 2.0}}]),
    ]


def test_claimed_numbers_keep_their_written_precision():
    found = find("$g(x) = x^2$. For x = 0.5, $\\frac{dg}{dx} = 1.000$.\n")
    assert found.cases[0]["claim"] == [{"kind": "gradient", "wrt": "x", "claimed": "1.000", "at": {"x": 0.5}}]


def test_update_rule_with_a_gradient_formula_is_a_formula_claim_for_review():
    # L = (wx - y)^2: dL/dw = 2(wx - y)x, the gradient the update uses
    text = "$L(w) = (w x - y)^2$\n\n$$w \\leftarrow w - \\eta \\cdot 2(w x - y) x$$\n"
    case = find(text).cases[0]
    assert case["expression"] == "(w * x - y)**2" and case["review"] is True
    [claim] = case["claim"]
    assert (claim["kind"], claim["wrt"]) == ("formula", "w")
    assert same_value(claim["formula"], "2 * (w * x - y) * x")


def test_update_rule_stating_the_method_only_is_ignored():
    found = find("$L(w) = w^2$\n\n$$w \\leftarrow w - \\eta \\frac{\\partial L}{\\partial w}$$\n")
    assert found.cases == [] and found.unread == []


def test_update_step_with_numbers_checks_its_arithmetic():
    # 0.5 - 0.1 * 2 = 0.3, so "= 0.4" is refuted: the side's value 0.3 is claimed to be 0.4
    case = find("$$w := 0.5 - 0.1 \\cdot 2 = 0.4$$\n").cases[0]
    assert case["claim"] == [{"kind": "value", "expression": "0.3", "claimed": "0.4"}]


def test_latex_the_parser_cannot_handle_is_unread_with_its_location():
    found = find("Text.\n\n$f(x) = x^2$\n\n$$f'(x) = \\int_0^x 2 \\, dt$$\n")
    assert [(u.location.line, u.reason) for u in found.unread] == [(5, "\\int is not read")]


def test_statements_joined_by_rightarrow_are_read_separately():
    # f = 3x^2 - 2x + 5: f' = 6x - 2, and at 3: 18 - 2 = 16
    text = ("$f(x) = 3x^2 - 2x + 5 \\quad\\rightarrow\\quad \\nabla f(x) = "
            "\\frac{\\partial f}{\\partial x} = 6x - 2$\n\n$\\nabla f(3) = 16$\n")
    cases = find(text).cases
    assert [c["claim"] for c in cases] == [
        [{"kind": "formula", "wrt": "x", "formula": "6 * x - 2"}],
        [{"kind": "gradient", "wrt": "x", "claimed": "16", "at": {"x": 3.0}}],
    ]


def test_points_separated_by_commas_in_math():
    # h = x y at x = 4, y = -3: dh/dx = y = -3
    found = find("$h(x, y) = x y$ and $x = 4, y = -3$, then $\\frac{\\partial h}{\\partial x} = -3$.\n")
    assert found.cases[0]["claim"] == [{"kind": "gradient", "wrt": "x", "claimed": "-3",
                                        "at": {"x": 4.0, "y": -3.0}}]


TRICKY = [
    "=", "= =", "x =", "= 3", "f(x) =", "f() = 2", "f'( ) = 3", "\\frac{d}{dx} =", "\\frac{}{}",
    "\\nabla = 0", "\\nabla f(1, 2) = (1, 2)", "f(x) = x \\\\ f'(x) = 1 \\\\ &= 2", "a := ", "\\leftarrow",
    "x = (1, 2, 3) = [4]", "\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix} = 0", "((((x)))) = (((1",
    "\\frac{\\partial^2 f}{\\partial x^2} = 2", "y = 1e400", "x = --3", "x = (-3)", "f(x)=x^2, f(-1) = (1)",
    "\\sigma = \\sigma(", "\\sqrt{} = 1", "f(x) = x^{x^{x^{x}}}", "{" * 2000 + "}" * 2000 + " = 1",
]


def test_tricky_formulas_never_make_the_finder_fail():
    text = "\n\n".join(f"$${formula}$$" for formula in TRICKY) + "\n"
    found = find(text)
    assert [u for u in found.unread if "finder failed" in u.reason or "nested" in u.reason] == []


def test_where_clause_definitions_are_substituted_and_marked_for_review():
    # f = qz with q = x + y: df/dz = q = x + y, both steps right once q is known
    text = "$$f = qz \\quad \\text{where} \\quad q = x + y$$\n\n$$\\frac{\\partial f}{\\partial z} = q = x + y$$\n"
    case = find(text).cases[0]
    assert case["expression"] == "q * z" and case["define"] == {"q": "x + y"}
    assert sorted(case["variables"]) == ["x", "y", "z"]
    assert case["claim"] == [{"kind": "derivation", "wrt": "z", "steps": ["q", "x + y"]}]
    assert case["review"] is True and "q (line 1)" in case["note"]


def test_written_parameters_are_never_replaced_by_earlier_definitions():
    # y was defined, but h(x, y) names y as its own parameter
    text = "$y = x^2$\n\n$h(x, y) = x y$\n\n$\\frac{\\partial h}{\\partial y} = x$\n"
    case = find(text).cases[0]
    assert "define" not in case and case["expression"] == "x * y"


def test_a_decorated_or_word_name_on_the_left_is_a_definition_not_a_claim():
    found = find("$\\hat{y} = w x + b$\n\n$Loss = (\\hat{y} - y)^2$\n")
    assert found.cases == [] and found.unread == []


def test_a_product_of_two_variables_is_not_read_as_their_digits():
    # f = xy and f(x, y) = -12 says nothing about x and y: "-12" is not x = -1, y = 2
    found = find("$f(x, y) = xy$\n\n$$f(x, y) = -12$$\n")
    assert found.cases == []
    assert [u.reason for u in found.unread] == ["a value is stated but the document states no value for x, y"]


def test_evaluation_bar_gives_the_point():
    # d/dx (3x^2 + 4x + 2) at x = 3: 6*3 + 4 = 22
    case = find("$\\frac{d}{dx}(3x^2 + 4x + 2) \\Big|_{x=3} = 22$\n").cases[0]
    assert case["claim"] == [{"kind": "gradient", "wrt": "x", "claimed": "22", "at": {"x": 3.0}}]


def test_derivative_with_respect_to_a_decorated_name():
    # L = (y_hat - y)^2: dL/dy_hat = 2 (y_hat - y)
    case = find("$L = (\\hat{y} - y)^2$ so $\\frac{\\partial L}{\\partial \\hat{y}} = 2(\\hat{y} - y)$\n").cases[0]
    assert case["wrt"] == ["y_hat"]
    assert same_value(case["claim"][0]["formula"], "2 * (y_hat - y)")


def test_where_clause_inside_one_formula_is_read_before_the_claim():
    # L = (wx - y)^2 given after "where": dL/dw = 2(wx - y)x
    text = "$$\\frac{\\partial L}{\\partial w} = 2(wx - y)x \\quad \\text{where} \\quad L = (wx - y)^2$$\n"
    case = find(text).cases[0]
    assert case["expression"] == "(w * x - y)**2"
    assert same_value(case["claim"][0]["formula"], "2 * (w * x - y) * x")


def test_unicode_math_and_plain_text_derivative_in_a_sentence():
    # y = x^2 + 2 written with math italic letters and a superscript; dy/dx = 2x
    found = find("$$𝑦=𝑥²+2$$\n\nSo dy/dx = 2x, which is linear.\n")
    assert [(c["expression"], c["claim"]) for c in found.cases] == [
        ("x**2 + 2", [{"kind": "formula", "wrt": "x", "formula": "2 * x"}])]


def test_plain_text_partial_derivative_with_unicode_operators():
    # L = (wx - y)^2: ∂L/∂w = 2(wx − y)·x
    case = find("$L = (wx - y)^2$\n\n∂L/∂w = 2(wx − y)·x\n").cases[0]
    assert same_value(case["claim"][0]["formula"], "2 * (w * x - y) * x")


def test_a_list_of_assignments_states_a_point_even_for_a_defined_name():
    # y was defined as x + 2, but "x = 1, y = 2" gives data; the loss at that point is (1 * 1 - 2)^2 = 1
    found = find("$y = x + 2$\n\n$x = 1, y = 2$ and $L(w) = (w x - y)^2$ so $L(1) = 1$\n")
    assert [(c["variables"], c["claim"]) for c in found.cases] == [
        ({"w": 1.0, "x": 1.0, "y": 2.0}, [{"kind": "value", "claimed": "1", "at": {"w": 1.0, "x": 1.0, "y": 2.0}}])]


def test_a_formula_continuing_another_block_is_not_attached_to_a_where_clause():
    text = "$$= (s - y)^2 \\qquad \\text{where} \\qquad s = \\frac{1}{1 + e^{-z}}$$\n"
    found = find(text)
    assert found.cases == [] and found.unread == []


def test_chain_rule_factors_are_skipped_and_the_rest_checked():
    # f = (x + y) z: df/dx = (df/dq)(dq/dx) = z * 1 = z; the factor side is not checkable, the others are
    text = ("$f(x, y, z) = (x + y)z$\n\n"
            "$$\\frac{\\partial f}{\\partial x} = \\frac{\\partial f}{\\partial q} \\cdot "
            "\\frac{\\partial q}{\\partial x} = z \\cdot 1 = z$$\n")
    case = find(text).cases[0]
    assert case["claim"] == [{"kind": "derivation", "wrt": "x", "steps": ["z * 1", "z"]}]


def test_two_names_for_one_definition():
    # MSE = J(w, b) = (w x + b - y)^2: dJ/db = 2 (w x + b - y)
    text = "$MSE = J(w, b) = (w x + b - y)^2$\n\n$\\frac{\\partial J}{\\partial b} = 2(w x + b - y)$\n"
    case = find(text).cases[0]
    assert same_value(case["expression"], "(w * x + b - y)**2")
    assert same_value(case["claim"][0]["formula"], "2 * (w * x + b - y)")


def test_a_defined_function_applied_to_its_parameters_is_its_definition():
    # s = 1/k with k(z) = 1 + e^{-z}: ds/dz = -1/k(z)^2 * (-e^{-z}) = e^{-z} / (1 + e^{-z})^2
    text = ("$$s(z) = \\frac{1}{k(z)} \\quad \\text{where} \\quad k(z) = 1 + e^{-z}$$\n\n"
            "$$\\frac{ds}{dz} = -\\frac{1}{k(z)^2} (-e^{-z})$$\n")
    case = find(text).cases[0]
    assert same_value(case["expression"], "1 / (1 + exp(-z))")
    assert same_value(case["claim"][0]["formula"], "exp(-z) / (1 + exp(-z))**2")


def test_a_defined_function_applied_to_other_arguments_is_not_read_as_a_product():
    found = find("$k(z) = z^2$\n\n$$g(z) = k(2z) + 1$$\n\n$$g'(z) = 8z$$\n")
    assert found.cases == []
    assert [u.reason for u in found.unread] == [
        "k(...) applies a function the formula does not define",
        "the definition of g was not read: k(...) applies a function the formula does not define"]
