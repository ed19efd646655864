"""Gradient steps, for the interpreter: `p -= lr * p.grad`, `p.data = p.data - ...`,
`p.sub_(...)`, `p = p - lr * g` with a hand-written gradient `g`, and what a
hand-written gradient's name says it is the gradient of. A mixin of `Interpreter`."""

from __future__ import annotations

import ast
import re

from diffcheck.reading.code.expressions import _number
from diffcheck.reading.code.values import Cannot, Leaf, ScaledGrad, Update, Val, WouldFail, leaves

_GRAD_NAME = re.compile(r"^(?:d(?P<loss>[A-Za-z]\w*?)_?d(?P<p1>[A-Za-z]\w*)|d(?P<p2>[A-Za-z]\w*)|"
                        r"grad_(?P<p3>\w+)|(?P<p4>\w+?)_grad|dJ_d(?P<p5>\w+)|dL_d(?P<p6>\w+))$")
LOSS_NAMES = ("loss", "cost", "J", "L", "error", "mse", "l", "E")


class Steps:
    # -- gradient steps ------------------------------------------------------------

    def updates_leaf(self, target, value_node, node, data: bool = False) -> bool:
        """`p = p - lr * p.grad` (or `p.data = p.data - ...`): a step on leaf p."""
        if not (isinstance(value_node, ast.BinOp) and isinstance(value_node.op, (ast.Sub, ast.Add))):
            return False
        base = value_node.left.value if (isinstance(value_node.left, ast.Attribute)
                                         and value_node.left.attr == "data") else value_node.left
        if not (isinstance(base, ast.Name) and isinstance(target, ast.Name) and base.id == target.id):
            return False
        try:
            owner = self.lookup(base.id, base)
        except (Cannot, WouldFail):
            return False
        if isinstance(owner, Val) and owner.origin is not None:
            owner = self.as_leaf(owner)
        if not (isinstance(owner, Val) and owner.tree[0] == "leaf"):
            return False
        sign = -1 if isinstance(value_node.op, ast.Sub) else 1
        return self.step(owner, value_node.right, sign, node, in_place=False, rebinds=not data)

    def step(self, owner: Val, amount, sign: int, node, in_place: bool, rebinds: bool = False) -> bool:
        """Record p <- p + sign * amount when amount is `lr * p.grad` or `lr * g`; False otherwise."""
        leaf = owner.tree[1]
        try:
            evaluated = self.ev(amount)
        except (Cannot, WouldFail):
            evaluated = None
        if isinstance(evaluated, ScaledGrad) and evaluated.leaf is leaf:
            return self._record_step(owner, evaluated.factor, sign, node, in_place, rebinds, None, None)
        factors = _product_factors(amount)
        grad_nodes = [f for f in factors if _is_grad_of(f, leaf, self)]
        rest = [f for f in factors if f not in grad_nodes]
        rate = 1.0
        for factor in rest if grad_nodes else rest[:-1] if len(rest) > 1 else []:
            number = _number(self.ev(factor))
            if number is None:
                return False
            rate *= number
        manual = loss = None
        if grad_nodes:
            if len(grad_nodes) != 1:
                return False
            if leaf.grad is None:
                raise WouldFail(f"{leaf.name}.grad is None here (no backward() has reached it): "
                                "unsupported operand type(s) for *: 'NoneType'")
            if not owner.is_leaf:
                return False
        else:
            if len(rest) < 2:
                return False
            gradient = self.ev(rest[-1])
            if not isinstance(gradient, Val) or gradient.concrete is not None:
                return False
            manual = gradient.tree
            loss = gradient.gradient_of[0].tree if gradient.gradient_of else None
        return self._record_step(owner, rate, sign, node, in_place, rebinds, manual, loss)

    def _record_step(self, owner, rate, sign, node, in_place, rebinds, manual, loss) -> bool:
        leaf = owner.tree[1]
        if manual is None and leaf.grad is None:
            raise WouldFail(f"{leaf.name}.grad is None here (no backward() has reached it): "
                            "unsupported operand type(s) for *: 'NoneType'")
        if in_place and owner.requires_grad and not self.no_grad:
            raise WouldFail(f"{leaf.name} is a leaf tensor that requires grad and is updated in place "
                            "outside torch.no_grad()")
        rate = -sign * rate
        quote = self.lines[node.lineno - 1].strip() if 0 < node.lineno <= len(self.lines) else ""
        leaf.updates.append(Update(leaf.version, rate, list(leaf.grad or []), manual, loss,
                                   self.location(node.lineno), quote))
        leaf.version += 1
        tracked = owner.requires_grad and (in_place or not rebinds or not self.no_grad)
        if rebinds and not self.no_grad and owner.requires_grad:
            # p = p - lr * p.grad outside no_grad: p is now a non-leaf, its .grad stays None.
            self.rebind_leaf(leaf, Val(("leaf", leaf, leaf.version), owner.shape, owner.framework, True,
                                       False, owner.dtype, frozenset({object()})))
            return True
        self.rebind_leaf(leaf, Val(("leaf", leaf, leaf.version), owner.shape, owner.framework,
                                   tracked, True, owner.dtype))
        return True

    def note_manual_gradient(self, name: str, value: Val, node) -> None:
        """A hand-written gradient (`dw = ...`, `dloss_dw = ...`): remember what it claims to be."""
        match = _GRAD_NAME.match(name)
        if not match:
            return
        param = next(g for g in match.groups()[1:] if g) if any(match.groups()[1:]) else None
        scope = {**self.globals, **self.scopes[-1]}
        target = scope.get(param)
        if isinstance(target, Val) and target.origin is not None:
            target = self.as_leaf(target)
        if not (isinstance(target, Val) and target.tree[0] == "leaf"):
            return
        loss_names = [match.group("loss")] if match.group("loss") else list(LOSS_NAMES)
        for loss_name in loss_names:
            loss = scope.get(loss_name)
            if isinstance(loss, Val) and loss.shape == () and target.tree[1] in leaves(loss.tree) \
                    and target.tree[2] in leaves(loss.tree)[target.tree[1]]:
                value.gradient_of = (loss, target.tree[1])
                self.event("formula", node.lineno, val=value, leaf=target.tree[1],
                           extra={"loss": loss, "name": name})
                return



def is_loss_name(name: str) -> bool:
    lowered = name.lower()
    return name in LOSS_NAMES or lowered.startswith(("loss", "cost", "mse", "error")) or lowered.endswith("_loss")


def _product_factors(node) -> list:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _product_factors(node.left) + _product_factors(node.right)
    return [node]


def _is_grad_of(node, leaf: Leaf, interp) -> bool:
    while isinstance(node, ast.Attribute) and node.attr == "data":
        node = node.value
    if not (isinstance(node, ast.Attribute) and node.attr == "grad"):
        return False
    try:
        owner = interp.ev(node.value)
    except (Cannot, WouldFail):
        return False
    return isinstance(owner, Val) and owner.tree[0] == "leaf" and owner.tree[1] is leaf


