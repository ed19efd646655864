"""The expression language: what it reads, and what it refuses without running it."""

import numpy as np
import pytest

from diffcheck.errors import ExpressionError
from diffcheck.language.expr import Apply, Const, Var, evaluate, to_text
from diffcheck.language.parser import MAX_DEPTH, MAX_NODES, MAX_TEXT_LENGTH, parse, parse_value


def test_reads_arithmetic_with_python_precedence():
    tree = parse("3*x**2 - 2*x + 5", ["x"])
    assert float(evaluate(tree, {"x": np.array(3.0)})) == 26.0


def test_unary_minus_binds_looser_than_power():
    assert float(evaluate(parse("-x**2", ["x"]), {"x": np.array(3.0)})) == -9.0


def test_matrix_expression_with_data():
    tree = parse("mean((sigmoid(X @ W + b) - y)**2)", ["X", "W", "b", "y"])
    assert isinstance(tree, Apply) and tree.op.name == "mean"


@pytest.mark.parametrize("alias,name", [("ln", "log"), ("asin", "arcsin"), ("acos", "arccos"),
                                        ("atan", "arctan"), ("max", "maximum"), ("min", "minimum"),
                                        ("dot", "matmul")])
def test_aliases_name_the_same_op(alias, name):
    args = "x, y" if name in ("maximum", "minimum", "matmul") else "x"
    assert parse(f"{alias}({args})", ["x", "y"]).op.name == name


@pytest.mark.parametrize("name", ["gamma", "beta", "I", "E", "S", "N", "lambda_", "pi", "e"])
def test_declared_names_are_variables_even_when_libraries_use_them(name):
    tree = parse(f"{name} * 2", [name])
    assert isinstance(tree.args[0], Var) and tree.args[0].name == name


def test_undeclared_pi_and_e_are_constants():
    tree = parse("pi * e", [])
    assert isinstance(tree.args[0], Const) and tree.args[0].value == np.pi
    assert tree.args[1].value == np.e


def test_parameters_by_position_and_keyword():
    assert parse("leaky_relu(x, 0.2)", ["x"]).params == {"alpha": 0.2}
    assert parse("sum(X, axis=1)", ["X"]).params == {"axis": 1}
    assert parse("mean(X, -1)", ["X"]).params == {"axis": -1}


def test_list_literals_are_constants():
    tree = parse("dot(w, [1, 2.5])", ["w"])
    assert tree.args[1].value.tolist() == [1.0, 2.5]


def test_to_text_round_trips():
    for text in ["3 * x**2 - 2 * x + 5", "(x + y) * z", "x - (y - z)", "(-x)**2", "-x**2",
                 "x**y**z", "(x**y)**z", "sum(X, axis=1)", "leaky_relu(x, alpha=0.2)"]:
        tree = parse(text, ["x", "y", "z", "X"])
        again = parse(to_text(tree), ["x", "y", "z", "X"])
        point = {"x": np.array(1.3), "y": np.array(0.7), "z": np.array(-0.4),
                 "X": np.array([[1.0, 2.0], [3.0, 4.0]])}
        assert np.allclose(evaluate(tree, point), evaluate(again, point), rtol=0, atol=0), text


def test_parse_value_reads_numbers_and_lists():
    assert parse_value("-2.5") == -2.5
    assert parse_value("[[1, 2], [3, -4]]").tolist() == [[1, 2], [3, -4]]


@pytest.mark.parametrize("text,message,column", [
    ("__import__('os').system('ls')", "attribute access is not allowed", 1),
    ("__import__('os')", "names starting with '__' are not allowed: '__import__'", 1),
    ("x.__class__", "attribute access is not allowed", 1),
    ("x.T", "attribute access is not allowed", 1),
    ("__builtins__", "names starting with '__' are not allowed: '__builtins__'", 1),
    ("(lambda: 1)()", "only diffcheck's ops can be called", 2),
    ("lambda x: x", "lambda is not allowed", 1),
    ("[x for x in [1]]", "comprehensions are not allowed", 1),
    ("sum(x for x in [1])", "comprehensions are not allowed", 4),
    ("x[0]", "indexing is not supported", 1),
    ("'abc'", "strings are not allowed", 1),
    ("f'{x}'", "f-strings are not allowed", 1),
    ("'{0.__class__}'.format(x)", "attribute access is not allowed", 1),
    ("open('/tmp/diffcheck-sentinel', 'w')", "unknown function 'open'", 1),
    ("eval('1')", "unknown function 'eval'", 1),
    ("x if x else 1", "conditional expressions are not supported", 1),
    ("x // 2", "operator '//' is not supported", 1),
    ("(y := 2)", "assignment is not allowed", 2),
    ("2 ** 2 ** 2 ** 10", "exponent is too large (limit 1024)", 6),
    ("x ** 100000", "exponent is too large (limit 1024)", 6),
    ("x + 1e1000", "number is larger than 1e+100", 5),
    ("x + 1" + "0" * 400, "number is larger than 1e+100", 5),
    ("foo + 1", "unknown name 'foo' (declare it as a variable, e.g. --at foo=1)", 1),
    ("exp + 1", "'exp' is a function; call it as exp(...)", 1),
    ("exp(x, x)", "exp() takes 1 arguments, got 2", 1),
    ("max(x)", "max() takes 2 arguments, got 1", 1),
    ("sum(x, axis=0.5)", "sum(): axis must be a whole number", 13),
    ("leaky_relu(x, slope=2)", "leaky_relu() has no parameter 'slope'", 21),
    ("x +", "invalid syntax", None),
    ("import os", "invalid syntax", None),
    ("", "expression is empty", None),
])
def test_refuses_with_a_clear_message(text, message, column):
    with pytest.raises(ExpressionError) as caught:
        parse(text, ["x"])
    assert caught.value.reason.startswith(message)
    if column is not None:
        assert caught.value.column == column


def test_nothing_in_refused_text_runs(tmp_path):
    sentinel = tmp_path / "ran"
    attempts = [f"open({str(sentinel)!r}, 'w')",
                f"__import__('pathlib').Path({str(sentinel)!r}).touch()",
                f"[__import__('os').system('touch {sentinel}') for _ in [1]]",
                f"x.__class__.__init__.__globals__['os'].system('touch {sentinel}')"]
    for text in attempts:
        with pytest.raises(ExpressionError):
            parse(text, ["x"])
    assert not sentinel.exists()


def _balanced_sum(terms: int) -> str:
    if terms == 1:
        return "x"
    return f"({_balanced_sum(terms // 2)} + {_balanced_sum(terms - terms // 2)})"


def test_limits_on_size_depth_and_length():
    with pytest.raises(ExpressionError, match=f"the limit is {MAX_TEXT_LENGTH}"):
        parse("x" + " + x" * MAX_TEXT_LENGTH, ["x"])
    with pytest.raises(ExpressionError, match=f"more than {MAX_DEPTH} levels deep"):
        parse("**".join(["x"] * (MAX_DEPTH + 2)), ["x"])
    with pytest.raises(ExpressionError, match=f"more than {MAX_NODES} nodes"):
        parse(_balanced_sum(MAX_NODES // 2 + 1), ["x"])


def test_long_sums_are_not_too_deep():
    tree = parse(" + ".join(f"x{i}" for i in range(500)), [f"x{i}" for i in range(500)])
    assert float(evaluate(tree, {f"x{i}": np.array(1.0) for i in range(500)})) == 500.0


def test_deep_parentheses_are_an_error_not_a_crash():
    with pytest.raises(ExpressionError):
        parse("(" * 5000 + "x" + ")" * 5000, ["x"])


def test_error_names_its_source():
    with pytest.raises(ExpressionError) as caught:
        parse("foo", [], where="cases/a.toml, case 'loss'")
    assert str(caught.value).startswith("cases/a.toml, case 'loss', column 1: unknown name 'foo'")


@pytest.mark.parametrize("name", ["__class__", "1x", "a-b", "x y", ""])
def test_variable_names_must_be_plain_identifiers(name):
    with pytest.raises(ExpressionError):
        parse("1", [name])
