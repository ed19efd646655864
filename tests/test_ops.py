"""Every op in the registry, on every backend, at points inside its domain.

Parametrised over the registry: an op added to diffcheck.language.ops is covered here the
moment it is added (a structural op must also be given a template below, or the
test for it fails and says so).
"""

import numpy as np
import pytest

from diffcheck import check_expr
from diffcheck.language.ops import UNIQUE_OPS

#: Expressions for ops that are not elementwise, with points.
STRUCTURAL = {
    "sum": [("sum(sin(M), axis=0) @ c", {"M": [[0.3, -1.2, 2.0], [0.5, 0.1, -0.7]], "c": [1.0, -2.0, 0.5]}),
            ("sum(M * M)", {"M": [[0.3, -1.2], [0.5, 0.1]]})],
    "mean": [("mean(exp(M), axis=1) @ c", {"M": [[0.3, -1.2, 2.0], [0.5, 0.1, -0.7]], "c": [1.0, -2.0]}),
             ("mean(M**3)", {"M": [[0.3, -1.2], [0.5, 0.1]]})],
    "matmul": [("sum(tanh(A @ B))", {"A": [[0.3, -1.2, 2.0], [0.5, 0.1, -0.7]],
                                      "B": [[1.0, 0.5], [-0.3, 0.2], [0.8, -1.1]]}),
               ("u @ A @ v", {"u": [0.5, -1.0], "A": [[0.3, -1.2, 2.0], [0.5, 0.1, -0.7]],
                              "v": [1.0, 2.0, -0.5]}),
               ("dot(u, u * v)", {"u": [0.5, -1.0, 2.0], "v": [1.0, 2.0, -0.5]})],
    "transpose": [("sum(transpose(A) @ B)", {"A": [[0.3, -1.2], [0.5, 0.1]], "B": [[1.0, 0.5], [-0.3, 2.0]]})],
    "detach": [("sum(detach(v) * v)", {"v": [0.5, -1.0, 2.0]})],
}

#: Candidate values; each op is checked at those inside its derivative's domain.
CANDIDATES = [0.3, -0.45, 0.8, -1.7, 2.2]


def _elementwise_cases(op):
    """Unary: op(x) and sum(op(v)).  Binary: op(x, y) and sum(op(v, y)), which
    broadcasts the scalar y against the vector v."""
    names = ["x", "y"][: op.arity]
    call = f"{op.name}({', '.join(names)})"
    broadcast = f"sum({op.name}(v{', y' if op.arity == 2 else ''}))"
    cases = []
    for i, first in enumerate(CANDIDATES):
        second = CANDIDATES[(i + 2) % len(CANDIDATES)] + (1.5 if op.name == "pow" else 0.0)
        args = [np.array(first), np.array(second)][: op.arity]
        if not _inside(op, args):
            continue
        point = dict(zip(names, [first, second]))
        cases.append((call, point))
        vector = [first, first * 0.5 + 0.05, first * 0.9]
        if _inside(op, [np.array(vector), np.array(second)][: op.arity]):
            cases.append((broadcast, {"v": vector, **({"y": second} if op.arity == 2 else {})}))
    return cases


def _inside(op, args):
    params = dict(op.params)
    for position in range(op.arity):
        mask = op.domain_mask(position, args, params)
        if mask is not None and not np.all(mask):
            return False
    kink = op.kink_mask(args, params)
    return kink is None or not np.any(kink)


@pytest.mark.parametrize("op", UNIQUE_OPS, ids=lambda op: op.name)
def test_every_op_agrees_on_all_backends(op):
    cases = _elementwise_cases(op) if op.elementwise else STRUCTURAL.get(op.name)
    assert cases, f"op {op.name} has no test points: add a template to STRUCTURAL"
    for text, point in cases:
        result = check_expr(text, point)
        assert result.verdict == "agree", f"{text} at {point}: {result.reason}"
        assert set(result.gradients) == {"symbolic", "numeric", "engine", "torch"}


@pytest.mark.parametrize("op", UNIQUE_OPS, ids=lambda op: op.name)
def test_every_op_has_a_formula_and_every_lowering(op):
    assert op.formula and op.numpy and op.sympy and op.torch
    assert len(op.vjp) == op.arity


def test_broadcasting_gradient_is_summed_back_to_the_operand_shape():
    result = check_expr("sum(M * r)", {"M": [[1.0, 2.0], [3.0, 4.0]], "r": [10.0, 20.0]})
    assert result.gradients["engine"]["r"].tolist() == [4.0, 6.0]
    assert result.gradients["engine"]["M"].tolist() == [[10.0, 20.0], [10.0, 20.0]]
