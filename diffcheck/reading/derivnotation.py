"""What a side written in derivative notation denotes.

`read_derivative(text, state)` recognises `\\frac{d}{dx} f`, `\\frac{dy}{dx}`,
`\\frac{\\partial f}{\\partial x}`, `f'(x)`, `f''(x)`, `\\nabla f`, `dy/dx`,
`\\partial L / \\partial w`, a vector of partial derivatives, and any of these
evaluated at a point (`\\Big|_{x=3}`, `f'(3)`, `\\nabla f(1, 2)`).  What is
differentiated is looked up among the document's definitions; when it cannot
be, the `Derivative` carries the reason as its `problem`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from diffcheck.reading.formulas import (DEFINED, DERIVATIVE_FORMS, EVALUATED_AT, NAME, is_number, plain_name, to_number,
                                        vector_entries)
from diffcheck.reading.mathcase import State, read_side


@dataclass
class Derivative:
    target: str | None            # expression text of what is differentiated
    wrt: list[str]
    order: int
    problem: str | None = None
    at: dict = field(default_factory=dict)   # f'(3): the point written in the notation


def read_derivative(text: str, state: State) -> Derivative | None:
    """The derivative a side denotes, or None when it is not derivative notation."""
    bar = EVALUATED_AT.search(text)
    if bar:
        return _evaluated_at(text, bar, state)
    components = vector_entries(text)
    if components and len(components) > 1:
        return _gradient_vector(components, state)
    for kind, pattern in DERIVATIVE_FORMS:
        match = pattern.match(text)
        if match:
            return _FORMS[kind](match, state)
    return None


def _evaluated_at(text: str, bar: re.Match, state: State) -> Derivative | None:
    """`\\frac{df}{dx}\\Big|_{x=3}`: the derivative before the bar, at the values after it."""
    values = {plain_name(m.group(1)): to_number(m.group(2)) for m in
              re.finditer(r"(" + NAME + r")\s*=\s*(\(?-?\d+(?:\.\d+)?\)?)", bar.group(1))}
    derivative = read_derivative(text[:bar.start()].strip(), state) if values else None
    if derivative is not None:
        derivative.at = {**derivative.at, **values}
    return derivative


def _gradient_vector(components: list[str], state: State) -> Derivative | None:
    """A vector of derivatives of one target, each with respect to one variable: a gradient."""
    parts = [read_derivative(c.strip(), state) for c in components]
    if all(p is not None and p.target == parts[0].target and len(p.wrt) == 1 for p in parts):
        return Derivative(parts[0].target, [p.wrt[0] for p in parts], parts[0].order, parts[0].problem)
    return None


def _operator(match: re.Match, state: State) -> Derivative:
    """`\\frac{d}{dx} body`: the body is a defined name or an expression."""
    order, wrt, body = match.group(1), match.group(2), match.group(3).strip()
    body = re.sub(r"^\\left|\\right$", "", body)
    named = DEFINED.fullmatch(body)
    if named and (plain_name(named.group(1)) in state.definitions or
                  plain_name(named.group(1)) in state.unreadable):
        return _named(named.group(1), [plain_name(wrt)], int(order or 1), state)
    translated = read_side(body, state)
    if translated.ok:
        return Derivative(translated.expression, [plain_name(wrt)], int(order or 1))
    if named:
        return _named(named.group(1), [plain_name(wrt)], int(order or 1), state)
    return Derivative(None, [plain_name(wrt)], int(order or 1), translated.reason)


def _of(match: re.Match, state: State) -> Derivative:
    """`\\frac{dy}{dx}`, `dy/dx`: the derivative of a defined name."""
    return _named(match.group(2), [plain_name(match.group(3))], int(match.group(1) or 1), state)


def _prime(match: re.Match, state: State) -> Derivative:
    """`f'(x)`, `f''(x)`, and `f'(3)`: the derivative at a point."""
    name, primes, variable = match.group(1), match.group(2), match.group(3)
    order = primes.count("'") or 1
    definition = state.definitions.get(plain_name(name))
    at = {}
    if variable and is_number(variable):      # f'(3): the derivative at a point
        at = {definition.parameters[0]: to_number(variable)} if definition and definition.parameters else {}
        variable = None
    wrt = [plain_name(variable)] if variable else (definition.parameters[:1] if definition else [])
    if not wrt:
        return Derivative(None, [], order, f"{name}' names no variable and {name} has no parameters")
    named = _named(name, wrt, order, state)
    named.at = at
    return named


def _nabla(match: re.Match, state: State) -> Derivative:
    """`\\nabla f`, `\\nabla_w L`, `\\nabla f(x, y)`, and `\\nabla f(1, 2)`: the gradient at a point."""
    subscript, name, arguments = match.group(1), match.group(2), match.group(3)
    definition = state.definitions.get(plain_name(name))
    values = [a.strip() for a in (arguments or "").split(",") if a.strip()]
    if definition and values and all(is_number(v) for v in values):
        # \nabla f(3): the gradient at a point
        if len(values) != len(definition.parameters):
            return Derivative(None, [], 1, f"{len(values)} arguments for "
                                           f"{len(definition.parameters)} parameters")
        named = _named(name, definition.parameters, 1, state)
        named.at = {p: to_number(v) for p, v in zip(definition.parameters, values)}
        return named
    if subscript:
        wrt = [plain_name(subscript)]
    elif definition and definition.parameters:
        wrt = definition.parameters
    elif arguments:
        wrt = [plain_name(a.strip()) for a in arguments.split(",") if a.strip()]
    else:
        wrt = []
    return _named(name, wrt, 1, state)


_FORMS = {"operator": _operator, "of": _of, "prime": _prime, "nabla": _nabla}


def _named(name: str, wrt: list[str], order: int, state: State) -> Derivative:
    definition = state.definitions.get(plain_name(name))
    if definition is None and plain_name(name) in state.unreadable:
        return Derivative(None, wrt, order, f"the definition of {name} was not read: "
                                            f"{state.unreadable[plain_name(name)]}")
    if definition is None:
        return Derivative(None, wrt, order, f"{name} is not defined before this derivative")
    if not wrt:
        return Derivative(None, wrt, order, f"cannot tell what {name} is differentiated with respect to")
    return Derivative(definition.expression, wrt, order)
