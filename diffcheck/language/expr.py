"""The expression tree every backend lowers from.

Nodes compare by identity (``eq=False``): trees can be 100,000 nodes deep, and a
recursive ``__eq__`` or ``__hash__`` would hit Python's recursion limit.  For the
same reason every walk over a tree is iterative (:func:`postorder`, :func:`fold`).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from diffcheck.errors import ShapeError
from diffcheck.language.op import apply_batched


@dataclass(eq=False, frozen=True)
class Var:
    """A variable, named by the user; its value comes with the point."""

    name: str
    column: int | None = None

    children: tuple = ()


@dataclass(eq=False, frozen=True)
class Const:
    """A numeric literal (scalar or nested list), or the constants ``pi`` and ``e``.

    ``text`` keeps the literal as written so the symbolic backend can read
    ``0.1`` as the exact decimal one tenth rather than its binary neighbour.
    """

    value: np.ndarray
    text: str
    column: int | None = None

    children: tuple = ()


@dataclass(eq=False, frozen=True)
class Apply:
    """An op applied to argument nodes, with static parameters such as ``axis``."""

    op: Any  # diffcheck.language.ops.Op; typed loosely to keep this module import-light
    args: tuple
    params: dict = field(default_factory=dict)
    column: int | None = None

    @property
    def children(self) -> tuple:
        return self.args


Expr = Var | Const | Apply


_ORDERS: "weakref.WeakKeyDictionary[Expr, tuple]" = weakref.WeakKeyDictionary()


def postorder(root: Expr) -> tuple[Expr, ...]:
    """Every distinct node below ``root``, each after all of its children.

    Trees are immutable, so the order is computed once per root and kept for as
    long as the tree lives: checking many points walks it many times."""
    order = _ORDERS.get(root)
    if order is None:
        order = _ORDERS[root] = tuple(_postorder(root))
    return order


def _postorder(root: Expr) -> list[Expr]:
    order: list[Expr] = []
    seen: set[int] = set()
    stack: list[tuple[Expr, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for child in reversed(node.children):
            if id(child) not in seen:
                stack.append((child, False))
    return order


def fold(root: Expr, leaf: Callable[[Expr], Any], apply: Callable[[Apply, list], Any], *,
         keep: bool = False) -> Any:
    """Evaluate a tree bottom-up: ``leaf(node)`` for leaves, ``apply(node, arg_results)``
    for ops.  Shared subtrees are evaluated once.  Returns the root's result, or
    with ``keep=True`` every node's result by ``id(node)``.

    Every lowering and evaluation of a tree is a fold (NumPy, SymPy, torch, the
    chain-rule program, the engine's forward, interval bounds, text); it walks
    :func:`postorder`, so a tree 100,000 nodes deep needs no recursion."""
    results: dict[int, Any] = {}
    for node in postorder(root):
        if isinstance(node, Apply):
            results[id(node)] = apply(node, [results[id(a)] for a in node.args])
        else:
            results[id(node)] = leaf(node)
    return results if keep else results[id(root)]


def variables(root: Expr) -> list[str]:
    """Names of the variables in ``root``, in order of first appearance."""
    names: dict[str, None] = {}
    for node in postorder(root):
        if isinstance(node, Var):
            names.setdefault(node.name)
    return list(names)


def size(root: Expr) -> int:
    """Number of distinct nodes."""
    return len(postorder(root))


_INFIX = {"add": ("+", 1), "sub": ("-", 1), "mul": ("*", 2), "div": ("/", 2),
          "matmul": ("@", 2), "pow": ("**", 4)}


def to_text(root: Expr) -> str:
    """Render a tree back into expression text that diffcheck's parser reads."""

    def leaf(node):
        text = node.name if isinstance(node, Var) else node.text
        return text, (3 if text.startswith("-") else 9)

    def apply(node, parts):
        name = node.op.name
        if name in _INFIX:
            symbol, prec = _INFIX[name]
            (left, lp), (right, rp) = parts
            # ** is right-associative; the others are left-associative, so a right
            # operand of the same precedence keeps its parentheses: x * (y / z)
            # is not the tree x * y / z, and rounds differently.
            left_needs = lp < prec or (name == "pow" and lp <= prec)
            right_needs = rp < prec or (name != "pow" and rp <= prec)
            left = f"({left})" if left_needs else left
            right = f"({right})" if right_needs else right
            return f"{left} {symbol} {right}" if prec < 4 else f"{left}{symbol}{right}", prec
        if name == "neg":
            (inner, ip), = parts
            return (f"-({inner})" if ip < 3 else f"-{inner}"), 3
        args = [p for p, _ in parts]
        args += [f"{k}={v}" for k, v in node.params.items() if v != node.op.params.get(k)]
        return f"{name}({', '.join(args)})", 9

    return fold(root, leaf, apply)[0]


def evaluate(root: Expr, values: dict[str, np.ndarray], *, keep: bool = False,
             frozen: dict[int, np.ndarray] | None = None, batch: bool = False,
             perturb: Callable | None = None):
    """The value of ``root`` in NumPy, given a value for each variable.

    With ``keep=True`` returns the dict of every node's value by ``id(node)``
    instead, for analyses that inspect intermediate results.  ``frozen`` maps
    ``id(node)`` to a value used in place of computing that node (the numeric
    backend holds ``detach`` nodes at their unperturbed values).  With
    ``batch=True`` every value in ``values`` and ``frozen`` carries a leading
    batch axis (one entry per point) and so does the result: one walk of the tree
    evaluates all the points.  ``perturb``, if given, is applied to every op's
    result (the numeric backend moves each by a unit of rounding to measure how
    much rounding the expression amplifies): ``perturb(value)`` for elementwise
    ops, ``perturb(value, magnitude)`` for the others, ``magnitude`` being the op
    over its arguments' absolute values.  Operands whose shapes an op cannot
    combine raise :class:`~diffcheck.errors.ShapeError`.
    """
    def leaf(node):
        if frozen and id(node) in frozen:
            return frozen[id(node)]
        if isinstance(node, Var):
            return values[node.name]
        return node.value[None] if batch else node.value

    def apply(node, args):
        if frozen and id(node) in frozen:
            return frozen[id(node)]
        value = apply_numpy(node, args, batch)
        return value if perturb is None else perturb_result(node, value, args, perturb, batch)

    with np.errstate(all="ignore"):
        return fold(root, leaf, apply, keep=keep)


def perturb_result(node: Apply, value, args: list, perturb: Callable, batch: bool = False):
    """``node``'s result moved by ``perturb`` as Monte Carlo arithmetic moves it.

    An op that adds up terms (sum, mean, matmul) rounds its partial sums in an
    order another method need not share: its rounding reaches an ulp of the terms'
    magnitudes (the op over the arguments' absolute values), not of its result,
    which is exactly 0 when the terms cancel (``y @ x`` at y = [2, -1e-6, 0],
    x = [-1e-6, -2, -1e-9]; ``sum(x)`` is -8.3e-17 in NumPy's order and 0 in
    torch's).  Such ops get ``perturb(value, magnitude)``, the others ``perturb(value)``.
    """
    if node.op.elementwise:
        return perturb(value)
    return perturb(value, apply_numpy(node, [np.abs(a) for a in args], batch))


def rounding_jitter(rng: np.random.Generator) -> Callable:
    """A ``perturb`` for :func:`evaluate` (and the engine) that moves a float array
    up or down by one unit of rounding at random, entry by entry: of the value
    itself, or of ``magnitude`` when given (see :func:`perturb_result`)."""
    def jitter(value, magnitude=None):
        value = np.asarray(value)
        if value.dtype.kind != "f":
            return value
        step = rng.choice((-_EPS, _EPS), size=value.shape)
        if magnitude is None:
            return value * (1.0 + step)
        with np.errstate(all="ignore"):
            moved = value + np.abs(magnitude) * step
        return np.where(np.isfinite(value), moved, value)
    return jitter


_EPS = float(np.finfo(np.float64).eps)


def apply_numpy(node: Apply, args: list, batch: bool = False) -> np.ndarray:
    """One op's NumPy forward (over a batch of points with ``batch=True``), with
    shape mistakes reported against the op."""
    try:
        if batch:
            return np.asarray(apply_batched(node.op, args, node.params))
        return np.asarray(node.op.numpy(*args, **node.params))
    except (ValueError, IndexError, np.exceptions.AxisError) as err:
        shapes = " and ".join(str(np.shape(a)) for a in args)
        raise ShapeError(f"{node.op.name}: cannot combine shapes {shapes} ({err})",
                         column=node.column) from None


def substitute(root: Expr, definitions: dict[str, Expr]) -> Expr:
    """``root`` with each variable named in ``definitions`` replaced by its tree.

    Case files name sub-expressions (``z = "x0*w0 + b"``) so a formula reads like
    the document's; every backend sees the expanded tree, with each definition
    shared rather than copied.
    """
    if not definitions:
        return root

    def leaf(node):
        return definitions.get(node.name, node) if isinstance(node, Var) else node

    def apply(node, args):
        changed = any(new is not old for new, old in zip(args, node.args))
        return Apply(node.op, tuple(args), node.params, node.column) if changed else node

    return fold(root, leaf, apply)
