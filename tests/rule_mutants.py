"""Faults injected into the engine's vector-Jacobian rules (the records of
``diffcheck/language/ops.py``), one mutant per (op, argument, kind of fault).

A mutant is a copy of an op's record with one rule replaced; the record in the
registry is never touched, so nothing leaks into other checks.  The mutant op is
put into an expression by :func:`substitute`, which rebuilds the tree with the
copy wherever the original stood.  Only the engine reads ``vjp``: the symbolic,
numeric and torch methods still differentiate the op their own way, which is
what lets the check notice.  (A mutant op pickles by name, as every op does, so
it must be checked in this process, never sent to a worker.)

Kinds of fault, for every op with a rule and every argument position:

* ``sign``: the rule's result negated;
* ``dropped term``: one term or factor of the partial derivative left out (for
  rules that are a single term: n/a);
* ``constant factor``: the result doubled (the lost or extra factor 2);
* ``broadcast: not reduced`` and ``broadcast: averaged``: for ops that broadcast
  their arguments, the output gradient is not summed back to the argument's
  shape, or is averaged over the broadcast axes instead of summed;
* ``neighbour's rule``: the rule of an op easily confused with this one (sin for
  cos, sum for mean, the other argument's rule of matmul);
* ``relative 1e-6``: the result times (1 + 1e-6).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import numpy as np

from diffcheck.language.expr import Apply, Expr, Var, fold, postorder
from diffcheck.language.ops import OPS, UNIQUE_OPS, Op, elementwise_rule

SIGN, DROPPED, FACTOR, NOT_REDUCED, AVERAGED, NEIGHBOUR, RELATIVE = (
    "sign", "dropped term", "constant factor", "broadcast: not reduced", "broadcast: averaged",
    "neighbour's rule", "relative 1e-6")
KINDS = (SIGN, DROPPED, FACTOR, NOT_REDUCED, AVERAGED, NEIGHBOUR, RELATIVE)


@dataclass(frozen=True)
class RuleMutant:
    """One fault in one rule: ``op``'s rule for argument ``position``, of ``kind``."""

    op: Op
    position: int
    kind: str
    detail: str
    rule: Callable

    @property
    def name(self) -> str:
        return f"{self.op.name}[{self.position}]: {self.kind}"

    def mutated_op(self) -> Op:
        rules = list(self.op.vjp)
        rules[self.position] = self.rule
        return dataclasses.replace(self.op, vjp=tuple(rules))


# Partial derivatives with one term or factor left out, for the elementwise rules
# that are more than one term: (what was dropped, the partial without it).
_DROPPED = {
    "mul": (("the factor y", lambda ans, x, y: np.ones_like(y)),
            ("the factor x", lambda ans, x, y: np.ones_like(x))),
    "div": (("the factor 1/y", lambda ans, x, y: np.ones_like(y)),
            ("the factor 1/y of -ans/y", lambda ans, x, y: -ans)),
    "pow": (("the factor y of y*x**(y-1)", lambda ans, x, y: np.where(y == 0, 0.0, np.power(x, y - 1))),
            ("the factor ln x of ln(x)*x**y", lambda ans, x, y: ans)),
    "square": (("the factor x of 2*x", lambda ans, x: np.full_like(x, 2.0)),),
    "sqrt": (("the factor 1/ans of 0.5/ans", lambda ans, x: np.full_like(x, 0.5)),),
    "tan": (("the term 1 of 1 + ans**2", lambda ans, x: ans * ans),),
    "arcsin": (("the term x**2 of 1/sqrt(1 - x**2)", lambda ans, x: np.ones_like(x)),),
    "arccos": (("the term x**2 of -1/sqrt(1 - x**2)", lambda ans, x: -np.ones_like(x)),),
    "arctan": (("the term x**2 of 1/(1 + x**2)", lambda ans, x: np.ones_like(x)),),
    "tanh": (("the term ans**2 of 1 - ans**2", lambda ans, x: np.ones_like(x)),),
    "sigmoid": (("the factor (1 - ans) of ans*(1 - ans)", lambda ans, x: ans),),
    "leaky_relu": (("the alpha branch (x <= 0)", lambda ans, x, alpha: np.where(x > 0, 1.0, 0.0)),),
    "elu": (("the factor e**x of the x <= 0 branch",
             lambda ans, x, alpha: np.where(x > 0, 1.0, alpha)),),
    "maximum": (("the branch x > y", lambda ans, x, y: np.where(x == y, 0.5, 0.0)),
                ("the branch y > x", lambda ans, x, y: np.where(x == y, 0.5, 0.0))),
    "minimum": (("the branch x < y", lambda ans, x, y: np.where(x == y, 0.5, 0.0)),
                ("the branch y < x", lambda ans, x, y: np.where(x == y, 0.5, 0.0))),
}


def _matmul_without_transpose(position):
    # g @ b instead of g @ b.T (and a @ g instead of a.T @ g): the classic slip.
    def rule(g, ans, a, b):
        a2 = a if a.ndim == 2 else a[None, :]
        b2 = b if b.ndim == 2 else b[:, None]
        g2 = np.reshape(g, (a2.shape[0], b2.shape[1]))
        return (g2 @ b2 if position == 0 else a2 @ g2).reshape((a, b)[position].shape)
    return rule


# Rules that are not elementwise partials, with one part dropped.
_DROPPED_STRUCTURE = {
    ("mean", 0): ("the factor 1/n", lambda g, ans, x, axis: OPS["sum"].vjp[0](g, ans, x, axis)),
    ("matmul", 0): ("the transpose of b", _matmul_without_transpose(0)),
    ("matmul", 1): ("the transpose of a", _matmul_without_transpose(1)),
    ("transpose", 0): ("the transpose itself", lambda g, ans, x: np.array(g)),
}

# An op easily confused with each one, per argument position: its rule for the
# same position is swapped in.  Where the confusable op's rule is mathematically
# the same for that position (add's and sub's rule for x), another is named.
_NEIGHBOURS = {
    "add": ("mul", "sub"), "sub": ("div", "add"), "mul": ("div", "div"), "div": ("mul", "mul"),
    "pow": ("mul", "mul"), "neg": ("abs",), "square": ("sqrt",), "exp": ("log",), "log": ("exp",),
    "sqrt": ("square",), "sin": ("cos",), "cos": ("sin",), "tan": ("tanh",),
    "arcsin": ("arccos",), "arccos": ("arcsin",), "arctan": ("tan",), "sinh": ("cosh",),
    "cosh": ("sinh",), "tanh": ("tan",), "sigmoid": ("softplus",), "softplus": ("sigmoid",),
    "relu": ("leaky_relu",), "leaky_relu": ("elu",), "elu": ("leaky_relu",), "abs": ("relu",),
    "maximum": ("minimum", "minimum"), "minimum": ("maximum", "maximum"), "sum": ("mean",),
    "mean": ("sum",),
}


def _neighbour_rule(op: Op, position: int):
    if op.name == "matmul":   # no other product op: the rule for the other argument
        other = op.vjp[1 - position]
        return "matmul's rule for the other argument", other
    names = _NEIGHBOURS.get(op.name)
    if names is None:
        return None
    neighbour = OPS[names[position]]
    rule = neighbour.vjp[position]
    same_params = set(neighbour.params) == set(op.params)

    def borrowed(g, ans, *args, **params):
        # The neighbour's rule with this node's parameters when it takes the same
        # ones (sum for mean keeps the axis), else with its own defaults.
        return rule(g, ans, *args, **(params if same_params else neighbour.params))

    return f"{neighbour.name}'s rule", borrowed


def _broadcasts(op: Op) -> bool:
    return op.elementwise and op.arity > 1


def _full_contribution(rule, position):
    """The rule's output before broadcasting is undone: the rule evaluated with its
    argument broadcast to the output's shape (where summing back is a no-op)."""
    def full(g, ans, *args, **params):
        widened = list(args)
        widened[position] = np.broadcast_to(args[position], np.shape(ans))
        return rule(g, ans, *widened, **params)
    return full


def _averaged_back(grad, shape):
    # unbroadcast with mean in place of sum: right shape, wrong values.
    grad = np.asarray(grad)
    while grad.ndim > len(shape):
        grad = grad.mean(axis=0)
    for axis, length in enumerate(shape):
        if length == 1 and grad.shape[axis] != 1:
            grad = grad.mean(axis=axis, keepdims=True)
    return grad


def mutants_of(op: Op, position: int) -> dict[str, RuleMutant | str]:
    """Every kind of fault for one rule: a :class:`RuleMutant`, or the reason the
    kind does not apply (n/a)."""
    rule = op.vjp[position]
    found: dict[str, RuleMutant | str] = {}

    def add(kind, detail, mutant_rule):
        found[kind] = RuleMutant(op, position, kind, detail, mutant_rule)

    add(SIGN, "result negated", lambda *a, **p: -rule(*a, **p))
    if op.name in _DROPPED:
        detail, partial = _DROPPED[op.name][position]
        add(DROPPED, f"dropped {detail}", elementwise_rule(position, partial))
    elif (op.name, position) in _DROPPED_STRUCTURE:
        detail, mutant_rule = _DROPPED_STRUCTURE[op.name, position]
        add(DROPPED, f"dropped {detail}", mutant_rule)
    else:
        found[DROPPED] = "n/a: the rule is a single term"
    add(FACTOR, "result doubled", lambda *a, **p: 2.0 * rule(*a, **p))
    if _broadcasts(op):
        full = _full_contribution(rule, position)
        add(NOT_REDUCED, "output gradient not summed back to the argument's shape", full)
        add(AVERAGED, "broadcast axes averaged, not summed",
            lambda g, ans, *args, **p: _averaged_back(full(g, ans, *args, **p), np.shape(args[position])))
    else:
        found[NOT_REDUCED] = found[AVERAGED] = "n/a: the op does not broadcast"
    neighbour = _neighbour_rule(op, position)
    if neighbour is None:
        found[NEIGHBOUR] = "n/a: no op of its kind"
    else:
        add(NEIGHBOUR, *neighbour)
    add(RELATIVE, "result times (1 + 1e-6)", lambda *a, **p: rule(*a, **p) * (1 + 1e-6))
    return found


def rule_slots() -> list[tuple[Op, int]]:
    """Every (op, argument position) whose rule the engine uses.  ``detach`` has a
    rule on its record but the engine never calls it: its output needs no gradient."""
    return [(op, position) for op in UNIQUE_OPS if op.differentiable for position in range(op.arity)]


def all_mutants() -> list[RuleMutant | tuple[Op, int, str, str]]:
    """Every rule mutant, and (op, position, kind, reason) for each kind that is n/a."""
    out = []
    for op, position in rule_slots():
        for kind, mutant in mutants_of(op, position).items():
            out.append(mutant if isinstance(mutant, RuleMutant) else (op, position, kind, mutant))
    return out


def substitute(expr: Expr, original: Op, mutant: Op) -> Expr:
    """``expr`` rebuilt with ``mutant`` wherever ``original`` was applied."""
    def rebuild(node: Apply, args: list) -> Apply:
        op = mutant if node.op is original else node.op
        return Apply(op, tuple(args), node.params, node.column)
    return fold(expr, lambda leaf: leaf, rebuild)


def applied_to_variables(expr: Expr, op: Op) -> bool:
    """Whether ``expr`` applies ``op`` to something that depends on a variable:
    only there does the engine call its rule (``arcsin(0.5) + x`` never does)."""
    varying: set[int] = set()
    for node in postorder(expr):
        if isinstance(node, Var) or (isinstance(node, Apply) and any(id(a) in varying for a in node.args)):
            varying.add(id(node))
            if isinstance(node, Apply) and node.op is op:
                return True
    return False
