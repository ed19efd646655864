"""The two ways code cells ask torch for gradients: `y.backward()`, which
accumulates into every leaf's `.grad`, and `torch.autograd.grad(y, inputs)`,
which returns fresh gradients and accumulates nothing. Both free the graph they
run through unless told to retain it, as torch does.
"""

from __future__ import annotations

import math

from diffcheck.reading.code import library as lib
from diffcheck.reading.code.arguments import _keywords
from diffcheck.reading.code.factories import _concrete
from diffcheck.reading.code.values import NONE, Cannot, FreshGrad, Leaf, Val, WouldFail

_NO_GRAD_FN = "element 0 of tensors does not require grad and does not have a grad_fn"
_AUTOGRAD_GRAD_KEYWORDS = {"outputs", "inputs", "grad_outputs", "retain_graph", "create_graph", "allow_unused",
                           "is_grads_batched", "materialize_grads", "only_inputs"}


def _release_graph(interp, y: Val, retain: bool) -> None:
    """Fail as torch does on a second pass through a freed graph; free it unless retained."""
    if y.graph and y.graph & interp.freed:
        raise WouldFail("Trying to backward through the graph a second time: its saved tensors were "
                        "freed by the first backward() (pass retain_graph=True to it)")
    if not retain and y.graph:
        interp.freed |= y.graph


def _seed(interp, seed_node, y: Val):
    """The gradient passed to backward(), or None for a scalar output (which needs none)."""
    if seed_node is None:
        if y.shape is not None and math.prod(y.shape) != 1:
            raise WouldFail(f"grad can be implicitly created only for scalar outputs (the output has "
                            f"shape {list(y.shape)}; pass a gradient or reduce it with .sum())")
        return None
    seed = interp.operand(interp.ev(seed_node), "backward")
    if seed.tree[0] == "leaf" and not seed.tree[1].name:
        seed.tree[1].name = "v"
    if seed.shape is not None and y.shape is not None and tuple(seed.shape) != tuple(y.shape):
        raise WouldFail(f"Mismatch in shape: the gradient passed to backward() has shape "
                        f"{list(seed.shape)} and the output has shape {list(y.shape)}")
    return seed


def backward(interp, y: Val, node):
    keywords = _keywords(node)
    seed_node = node.args[0] if node.args else keywords.get("gradient")
    retain = False
    if "retain_graph" in keywords:
        retain = bool(_concrete(interp, keywords["retain_graph"], "a retain_graph flag"))
    if not y.requires_grad:
        raise WouldFail(f"{_NO_GRAD_FN} (nothing it is computed from requires grad)")
    seed = _seed(interp, seed_node, y)
    _release_graph(interp, y, retain)
    tree = y.tree if seed is None else ("op", "sum", (("op", "mul", (seed.tree, y.tree), ()),), ())
    event = interp.event("backward", node.lineno, val=Val(tree, (), y.framework, True, False, y.dtype))
    for leaf in _tracked_leaves(tree):
        leaf.grad = (leaf.grad or []) + [(tree, event)]
        leaf.history.append(("call", tree, event))
    return NONE


def _flag(interp, keywords: dict, name: str) -> bool:
    return name in keywords and bool(_concrete(interp, keywords[name], "a flag"))


def autograd_grad(interp, node):
    """`torch.autograd.grad(y, [x1, x2])`: one fresh gradient per input, nothing accumulated."""
    keywords = _keywords(node)
    problem = lib.check_keywords("torch.autograd.grad", keywords, _AUTOGRAD_GRAD_KEYWORDS)
    if problem:
        raise WouldFail(problem)
    outputs = node.args[0] if node.args else keywords.get("outputs")
    inputs = node.args[1] if len(node.args) > 1 else keywords.get("inputs")
    if outputs is None or inputs is None or len(node.args) > 2 or "grad_outputs" in keywords:
        raise Cannot("torch.autograd.grad with unusual arguments")
    y = interp.operand(interp.ev(outputs), "grad")
    targets = interp.ev(inputs)
    targets = list(targets) if isinstance(targets, (list, tuple)) else [targets]
    if not y.requires_grad:
        raise WouldFail(_NO_GRAD_FN)
    if y.shape is not None and math.prod(y.shape) != 1:
        raise WouldFail(f"grad can be implicitly created only for scalar outputs (the output has shape "
                        f"{list(y.shape)})")
    retain = _flag(interp, keywords, "retain_graph") or _flag(interp, keywords, "create_graph")
    _release_graph(interp, y, retain)
    event = interp.event("backward", node.lineno, val=Val(y.tree, (), y.framework, True, False, y.dtype))
    reached = _tracked_leaves(y.tree)
    return tuple(_fresh_gradient(target, reached, y, event) for target in targets)


def _fresh_gradient(target, reached: list[Leaf], y: Val, event) -> FreshGrad:
    if not (isinstance(target, Val) and target.tree[0] == "leaf" and target.requires_grad):
        raise Cannot("torch.autograd.grad with respect to something other than a leaf that requires grad")
    if target.tree[1] not in reached:
        raise WouldFail("one of the differentiated tensors appears to not have been used in the graph "
                        "(pass allow_unused=True)")
    return FreshGrad(target.tree[1], (y.tree, event))


def _tracked_leaves(tree) -> list[Leaf]:
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        if node[0] == "leaf":
            if node[1].requires_grad and node[1] not in found:
                found.append(node[1])
        elif node[0] == "op" and node[1] != "detach":
            stack.extend(node[2])
        elif node[0] == "named":
            stack.append(node[2])
    return found
