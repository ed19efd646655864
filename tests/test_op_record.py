"""Adding an op is one record: a registry with an extra op, built here without
editing any diffcheck file, reaches the parser, all four methods and the
strategies.  And every record keeps its dtype contract.
"""

import math
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, settings

from diffcheck import check_expr
from diffcheck.backends import BACKENDS
from diffcheck.errors import ExpressionError
from diffcheck.language.bounds import increasing
from diffcheck.language.expr import Apply, postorder, to_text
from diffcheck.language.op import FLOAT_DTYPES, apply_batched, elementwise
from diffcheck.language.ops import OPS, UNIQUE_OPS, extended
from diffcheck.language.parser import parse
from diffcheck.testing.strategies import expressions, points

#: The new op, as one record: x**3, d/dx x**3 = 3 x**2, defined and smooth everywhere.
CUBE = elementwise("cube", "x ** 3", lambda x: x * x * x, lambda sp, x: x ** 3,
                   (lambda ans, x: 3.0 * x * x,), lambda t, x: x * x * x,
                   interval=increasing(lambda x: x ** 3))

#: The same op with a deliberately wrong rule for the engine (2 x**2, not 3 x**2);
#: its NumPy, SymPy and torch forms are right, so only the engine is wrong.
WRONG_CUBE = elementwise("wrong_cube", "x ** 3", lambda x: x * x * x, lambda sp, x: x ** 3,
                         (lambda ans, x: 2.0 * x * x,), lambda t, x: x * x * x,
                         interval=increasing(lambda x: x ** 3))

REGISTRY = extended(CUBE, WRONG_CUBE)


def test_extending_leaves_the_default_registry_alone():
    assert REGISTRY["cube"] is CUBE and REGISTRY["sin"] is OPS["sin"]
    assert "cube" not in OPS and "wrong_cube" not in OPS
    assert len(REGISTRY) == len(OPS) + 2


def test_a_name_given_twice_is_refused():
    clash = elementwise("sin", "x", lambda x: x, lambda sp, x: x, (lambda ans, x: 1.0,), lambda t, x: x)
    with pytest.raises(ValueError, match="'sin' is given twice"):
        extended(clash)


def test_the_parser_reads_the_new_op_only_from_the_registry_it_is_given():
    tree = parse("cube(x) + sin(x)", ["x"], ops=REGISTRY)
    assert [n.op for n in postorder(tree) if isinstance(n, Apply)] == [CUBE, OPS["sin"], OPS["add"]]
    assert to_text(tree) == "cube(x) + sin(x)"
    with pytest.raises(ExpressionError, match="unknown function 'cube'"):
        parse("cube(x)", ["x"])


def test_the_new_op_agrees_on_every_method():
    # d/dx (x**3 + sin x) = 3 x**2 + cos x; at x = 0.7: 3 * 0.49 + cos 0.7 = 1.47 + cos 0.7.
    expected = 1.47 + math.cos(0.7)
    result = check_expr(parse("cube(x) + sin(x)", ["x"], ops=REGISTRY), {"x": 0.7})
    assert result.verdict == "agree", result.reason
    assert set(result.gradients) == set(BACKENDS)
    for method, gradient in result.gradients.items():
        assert gradient["x"] == pytest.approx(expected, rel=1e-8), method


def test_the_new_op_broadcasts_and_reduces_on_every_method():
    # sum(cube(v) * y): d/dv_i = 3 v_i**2 y, d/dy = sum v_i**3.
    v, y = [0.5, -1.0, 2.0], -0.3
    result = check_expr(parse("sum(cube(v) * y)", ["v", "y"], ops=REGISTRY), {"v": v, "y": y})
    assert result.verdict == "agree", result.reason
    for method, gradient in result.gradients.items():
        np.testing.assert_allclose(gradient["v"], [3 * 0.25 * y, 3 * 1.0 * y, 3 * 4.0 * y], rtol=1e-8)
        assert gradient["y"] == pytest.approx(0.125 - 1.0 + 8.0, rel=1e-8), method


def test_a_wrong_rule_on_a_new_op_is_blamed_on_the_engine():
    # The engine says 2 * 0.7**2 = 0.98; the other three 3 * 0.7**2 = 1.47.
    result = check_expr(parse("wrong_cube(x)", ["x"], ops=REGISTRY), {"x": 0.7})
    assert result.verdict == "discrepancy"
    assert [d.backend for d in result.discrepancies] == ["engine"]
    assert result.discrepancies[0].value == pytest.approx(0.98)
    assert result.discrepancies[0].reference == pytest.approx(1.47)


def _ops_in(tree):
    return {n.op.name for n in postorder(tree) if isinstance(n, Apply)}


def test_the_strategies_draw_the_new_op():
    tree = find(expressions(ops=[CUBE, "sin"], variables=["x"]), lambda t: "cube" in _ops_in(t),
                settings=settings(database=None, max_examples=200))
    assert "cube" in _ops_in(tree)


@settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(expressions(ops=[CUBE, "sin", "mul"], variables=["x", "y"], max_leaves=4).flatmap(
    lambda tree: points(tree).map(lambda point: (tree, point))))
def test_drawn_expressions_with_the_new_op_agree(drawn):
    tree, point = drawn
    # Only the ops asked for, and the add/sum the strategies wrap a tree in.
    assert _ops_in(tree) <= {"cube", "sin", "mul", "add", "sum"}
    result = check_expr(tree, point)
    assert result.verdict in ("agree", "nondifferentiable"), (to_text(tree), point, result.reason)


def test_a_registered_op_travels_by_name_and_a_new_one_does_not_pretend_to():
    assert pickle.loads(pickle.dumps(OPS["sin"])) is OPS["sin"]
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        pickle.dumps(CUBE)   # its lambdas do not pickle; it is never swapped for another op


def _sample_arguments(op, dtype):
    """Arguments inside every op's domain: entries 0.25, 0.5, 0.75 (all of log,
    sqrt, arcsin, division, pow hold there), a 2x3 matrix for the products."""
    if op.name in ("matmul", "transpose"):
        matrix = np.linspace(0.25, 0.75, 6, dtype=dtype).reshape(2, 3)
        return [matrix, np.linspace(0.25, 0.75, 3, dtype=dtype)][: op.arity]
    return [np.linspace(0.25, 0.75, 3, dtype=dtype)] * op.arity


@pytest.mark.parametrize("op", UNIQUE_OPS + [CUBE], ids=lambda op: op.name)
def test_every_forward_keeps_the_dtypes_its_record_claims(op):
    assert set(op.dtypes) <= set(FLOAT_DTYPES)
    assert op.dtypes == FLOAT_DTYPES or op.dtype_text, f"{op.name}: say why a dtype is not kept"
    for name in op.dtypes:
        dtype = np.dtype(name)
        args = _sample_arguments(op, dtype)
        assert np.asarray(op.numpy(*args, **op.params)).dtype == dtype, (op.name, name)
        batched = apply_batched(op, [a[None] for a in args], dict(op.params))
        assert np.asarray(batched).dtype == dtype, (op.name, name, "batched")


@pytest.mark.parametrize("op", UNIQUE_OPS, ids=lambda op: op.name)
def test_every_record_holds_every_lowering(op):
    # What the registry promises for each op, read off the record alone.
    assert op.formula and callable(op.numpy) and callable(op.sympy) and callable(op.torch)
    assert len(op.vjp) == op.arity and all(callable(rule) for rule in op.vjp)
    assert op.interval is not None and op.parameter_choices([()] * op.arity)
    assert all(rule is None or callable(rule) for rule in op.domain)
    assert bool(op.domain) == bool(op.domain_text) and (op.kink is None) == (not op.kink_text)
