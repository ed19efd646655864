"""What the static reader knows about a Python value, and expression trees over leaves.

A tensor, array or number the code builds is a `Val`: an expression tree whose
leaves are the literal tensors the code created (`Leaf`), its shape when known,
and whether torch tracks its gradient. Trees are plain tuples:

    ("leaf", Leaf, version)      a leaf tensor; `version` counts in-place updates
    ("num", number)              a Python number
    ("op", name, args, params)   an op of diffcheck's expression language
    ("named", name, tree)        a tree the code bound to a name (becomes a `define`)

Nothing here evaluates document text; literal values are read from `ast` nodes.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass, field
from typing import Any

from diffcheck.language.ops import CONSTANTS, OPS


#: Nodes an expression may have (shared sub-trees counted each time): a loop that
#: rebuilds a value from itself grows its tree without bound.
MAX_TREE_SIZE = 4_000


class Cannot(Exception):
    """The reader cannot follow a construct: its reason names the construct."""


class WouldFail(Exception):
    """The code would raise here when run: the message says what would go wrong."""


@dataclass(eq=False)
class Leaf:
    """A tensor or array the code created from literal data (or at random)."""

    name: str
    value: Any                 # nested lists of numbers; None when drawn at random
    shape: tuple | None
    requires_grad: bool
    framework: str             # "torch" | "numpy"
    dtype: str                 # "float32" | "float64" | "int"
    random: bool = False
    read_from_output: bool = False
    printed_unit: float = 0.0       # when read from output: a unit of its last printed digit
    version: int = 0
    # Gradient bookkeeping: None until the first backward() (torch's x.grad is None),
    # else the backward() contributions since the last zeroing.
    grad: list | None = None
    history: list = field(default_factory=list)   # ("call", tree, index) / ("zero",) / ("print", index)
    updates: list = field(default_factory=list)   # Update records, one per in-place step

    def __repr__(self) -> str:
        return f"Leaf({self.name!r}, shape={self.shape}, version={self.version})"


@dataclass
class Val:
    """A tensor, array or number: its expression over leaves and what is known of it."""

    tree: tuple
    shape: tuple | None = ()
    framework: str = "python"  # "torch" | "numpy" | "python"
    requires_grad: bool = False
    is_leaf: bool = True        # torch: created by the user, or not tracking gradients
    dtype: str = "float64"
    graph: object = None        # tokens of the saved-tensor graph nodes it depends on
    gradient_of: tuple | None = None   # (loss Val, Leaf) when the code names it a hand-written gradient
    origin: "Leaf | None" = None       # a Python number bound to a name: the leaf it is in tensor arithmetic
    size: int = 1                      # nodes of the tree, counting shared sub-trees each time they occur
    number: float | None = None        # arithmetic on named Python floats: its value, beside its tree

    @property
    def concrete(self):
        """The Python number this is, when the reader knows it."""
        return self.tree[1] if self.tree[0] == "num" else self.number


@dataclass
class GradRef:
    """`x.grad` of a leaf, read when used (torch accumulates into the same tensor)."""

    leaf: Leaf


@dataclass
class FreshGrad:
    """One entry of `torch.autograd.grad(...)`: the gradient of one call, never accumulated."""

    leaf: Leaf
    contribution: tuple   # (tree, event), as in Leaf.grad


@dataclass
class ScaledGrad:
    """`lr * x.grad`: a gradient step not yet taken."""

    leaf: Leaf
    factor: float


@dataclass
class Opaque:
    """A value nothing is claimed about (a grad_fn, a dtype): printed, it is skipped."""

    what: str


@dataclass
class LossFunction:
    """`torch.nn.MSELoss()` and kin: called on (prediction, target)."""

    kind: str        # "mse" | "l1"
    reduction: str   # "mean" | "sum"


@dataclass
class Unknown:
    reason: str


@dataclass
class Module:
    path: str        # "torch", "numpy", "torch.nn.functional", ...


@dataclass
class Method:
    """An attribute that is a method, not yet called (`z.mean`)."""

    owner: object
    name: str


@dataclass
class Optimizer:
    params: list     # Val of each parameter leaf
    lr: float


@dataclass
class Function:
    node: object     # ast.FunctionDef
    block: object = None   # the code block it is defined in, and that block's lines
    lines: list = None


@dataclass
class Update:
    """One in-place gradient step on a leaf: p <- p - lr * grad."""

    version: int               # the leaf's version before the step
    lr: float
    contributions: list        # the backward() contributions the step used (autograd)
    manual: tuple | None = None   # the tree of a hand-written gradient, when used instead
    loss: tuple | None = None     # with `manual`: the tree of the loss the code names it the gradient of
    location: object = None
    quote: str = ""


NONE = ("none",)


def leaves(tree, found=None) -> dict:
    """Leaf -> versions used in a tree, in first-use order."""
    found = {} if found is None else found
    stack = [tree]
    while stack:
        node = stack.pop()
        if node[0] == "leaf":
            found.setdefault(node[1], set()).add(node[2])
        elif node[0] == "op":
            stack.extend(reversed(node[2]))
        elif node[0] == "named":
            stack.append(node[2])
    return found


def strip(tree):
    """The tree without its outer names."""
    while tree[0] == "named":
        tree = tree[2]
    return tree


# -- shapes --------------------------------------------------------------------------

def broadcast(a, b):
    if a is None or b is None:
        return None
    result = []
    for x, y in zip(reversed((1,) * (len(b) - len(a)) + tuple(a)), reversed((1,) * (len(a) - len(b)) + tuple(b))):
        if x != y and 1 not in (x, y):
            raise WouldFail(f"the size of tensor a ({x}) must match the size of tensor b ({y})")
        result.append(max(x, y))
    return tuple(reversed(result))


def matmul_shape(a, b):
    if a is None or b is None:
        return None
    if not a or not b:
        raise WouldFail("@ needs tensors of at least one dimension, not a scalar")
    inner_a = a[-1]
    inner_b = b[0] if len(b) == 1 else b[-2]
    if inner_a != inner_b:
        raise WouldFail(f"shapes {list(a)} and {list(b)} cannot be multiplied ({inner_a} != {inner_b})")
    out = tuple(a[:-1]) + (tuple(b[1:]) if len(b) == 1 else tuple(b[:-2]) + (b[-1],))
    return out if len(b) > 1 else tuple(a[:-1])


def literal_shape(value):
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return tuple(shape)


# -- rendering as diffcheck expression text --------------------------------------------

_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, "matmul": 2, "neg": 3, "pow": 4}
_SYMBOL = {"add": " + ", "sub": " - ", "mul": "*", "div": "/", "matmul": " @ ", "pow": "**"}
RESERVED = set(OPS) | set(CONSTANTS)


def usable_name(name: str) -> bool:
    return (name.isidentifier() and name.isascii() and not name.startswith("__")
            and not keyword.iskeyword(name) and name not in RESERVED)


class Renderer:
    """Renders trees of one case: names each leaf once (distinct leaves that share a
    Python name get suffixes) and collects named sub-trees as `define` entries."""

    def __init__(self, inline: bool = False):
        self.names: dict[Leaf, str] = {}
        self.defines: dict[str, str] = {}
        self.inline = inline   # write named sub-trees out instead of defining them

    def leaf_name(self, leaf: Leaf) -> str:
        if leaf not in self.names:
            base = leaf.name if usable_name(leaf.name) else "c"   # an unnamed literal: a constant
            name, n = base, 1
            taken = set(self.names.values()) | set(self.defines)
            while name in taken:
                n += 1
                name = f"{base}_{n}"
            self.names[leaf] = name
        return self.names[leaf]

    def render(self, tree, top: bool = True) -> str:
        return self._text(strip(tree) if top else tree)[0]

    def _text(self, node) -> tuple[str, int]:
        """The text of `node` and its precedence (9: needs no brackets)."""
        kind = node[0]
        if kind == "leaf":
            return self.leaf_name(node[1]), 9
        if kind == "num":
            return _number(node[1]), (9 if node[1] >= 0 else 3)
        if kind == "named":
            return self._named_text(node[1], node[2])
        name, args, params = node[1], node[2], node[3]
        if name == "neg":
            inner, p = self._text(args[0])
            return "-" + (inner if p > 3 else f"({inner})"), 3
        if name in _SYMBOL:
            return self._infix_text(name, args)
        inner = ", ".join(self._text(a)[0] for a in args)
        extra = "".join(f", {k}={_number(v)}" for k, v in params)
        return f"{name}({inner}{extra})", 9

    def _named_text(self, name: str, inner) -> tuple[str, int]:
        """A named sub-tree: its name, defined once, unless it is written out."""
        text = self._text(inner)
        if self.inline or inner[0] == "leaf" or not usable_name(name) or name in self.names.values():
            return text
        body = text[0]
        if self.defines.get(name, body) != body:
            return text
        self.defines[name] = body
        return name, 9

    def _infix_text(self, name: str, args) -> tuple[str, int]:
        p = _PRECEDENCE[name]
        left, lp = self._text(args[0])
        right, rp = self._text(args[1])
        if lp < p or (name == "pow" and lp <= p):
            left = f"({left})"
        # Same precedence on the right: only a+(b+c) and a*(b*c) may drop brackets
        # (a*(B @ c) is not (a*B) @ c when a is a matrix).
        if rp < p or (rp == p and not (name in ("add", "mul") and _op_name(args[1]) == name)) \
                or (name == "pow" and rp < 9):
            right = f"({right})"
        return left + _SYMBOL[name] + right, p


def _op_name(node) -> str | None:
    while node[0] == "named":
        node = node[2]
    return node[1] if node[0] == "op" else None


def _number(value) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    text = repr(float(value))
    return text if "inf" not in text and "nan" not in text else "0"


@dataclass
class Part:
    """One piece of a printed line: literal text, a value, a gradient, or unknown."""

    kind: str                 # "text" | "value" | "grad" | "unknown" | "opaque"
    text: str = ""
    val: Val | None = None
    leaf: Leaf | None = None
    contributions: tuple = ()
    version: int = 0
    reason: str = ""


class _Return(Exception):
    def __init__(self, value):
        self.value = value
