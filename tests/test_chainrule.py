"""Deep compositions: the symbolic derivative as a program, in linear time."""

import math

import numpy as np
import pytest

from diffcheck.backends import symbolic, sympy_lowering
from diffcheck.backends.symbolic import PROGRAM_DEPTH, SymbolicBackend
from diffcheck.checking.harness import check_expr, make_problem, normalise_point


def _nested_sin(depth: int) -> str:
    text = "x"
    for _ in range(depth):
        text = f"sin({text})"
    return text


def _nested_sin_derivative(depth: int, x: float) -> float:
    # d/dx sin(sin(...sin(x))) = product over levels of cos(inner value), by hand.
    derivative, value = 1.0, x
    for _ in range(depth):
        derivative *= math.cos(value)
        value = math.sin(value)
    return derivative


@pytest.mark.parametrize("depth", [PROGRAM_DEPTH + 1, 150])
def test_a_deep_composition_is_differentiated_as_a_program(depth):
    point = normalise_point({"x": 0.7})
    problem = make_problem(_nested_sin(depth), point)
    result = SymbolicBackend().gradient(problem, point)
    assert result.ok, result.reason
    assert float(result.gradients["x"]) == pytest.approx(_nested_sin_derivative(depth, 0.7), rel=1e-14)


def test_program_agrees_with_sympy_diff_of_the_whole_expression():
    # The backend's program of local derivatives against SymPy differentiating
    # the whole expression, both evaluated at 30 digits.
    import sympy as sp

    text = "sum(tanh(W @ v + b) * exp(c)) + relu(c) * c**3 + sqrt(c**2 + 1) * maximum(c, 2) + abs(sum(v))"
    point = normalise_point({"W": [[0.3, -1.2], [0.5, 0.7]], "v": [0.4, -0.9], "b": [0.1, 0.2],
                             "c": 1.3})
    problem = make_problem(text, point)
    program = SymbolicBackend().gradient(problem, point)
    symbols = {n: sympy_lowering.symbol_array(sp, n, v.shape) for n, v in point.items()}
    function = sympy_lowering.to_sympy(sp, problem.expr, symbols)[()]
    values = {s: sympy_lowering.exact_rational(sp, float(v)) for n in point
              for s, v in zip(np.ravel(symbols[n]), np.ravel(point[n]))}
    for name in point:
        whole = [float(sp.diff(function, s).evalf(30, subs=values)) for s in np.ravel(symbols[name])]
        np.testing.assert_allclose(np.ravel(program.gradients[name]), whole, rtol=1e-15, atol=1e-300)


def test_a_detached_and_kinked_deep_expression_checks_on_all_methods():
    text = "detach(x) * " + _nested_sin(PROGRAM_DEPTH + 5) + " + relu(x - 2)"
    result = check_expr(text, {"x": 0.4})
    assert result.verdict == "agree", result.reason


def test_recursion_inside_sympy_is_a_skip_not_an_error(monkeypatch):
    # SymPy's walks are recursive; running out of depth in one is the backend
    # declining the expression, with the reason, not a failure of the check.
    def too_deep(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(symbolic, "to_sympy", too_deep)
    point = normalise_point({"x": 0.7})
    result = SymbolicBackend().gradient(make_problem(_nested_sin(3), point), point)
    assert result.status == "skipped"
    assert "SymPy ran out of recursion depth" in result.reason
