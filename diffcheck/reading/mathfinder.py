"""Claims a document states in its formulas: derivatives, derivations, values.

`find(document)` walks the math blocks in order (and prose for points such as
"for x = 4" and plain-text `dy/dx = ...`), keeping what the document has
defined so far (`f(x) = ...`, `y = ...`, `L = ...`; a redefinition replaces) and
the values it has stated (`x = 3`).  Each formula is split into rows (`\\\\`) and
each row into the sides of its chain of equalities; the first side decides what
the chain claims:

* a derivative (`\\frac{d}{dx} f`, `\\frac{dy}{dx}`, `\\frac{\\partial f}{\\partial x}`,
  `f'(x)`, `f''(x)`, `\\nabla f`, `dy/dx`, `\\partial L / \\partial w`): symbolic
  sides are `formula` / `derivation` claims, numeric sides `gradient` claims;
* a defined name or any expression with variables: further symbolic sides are a
  `derivation` (each equals the first), numeric sides `value` claims;
* only numbers (`18 + 4 = 22`): the arithmetic, as `value` claims.

Numeric sides need a point: the values the document stated, or the numbers
substituted into the symbolic side before (`6x + 4 = 6(3) + 4` gives x = 3).
Anything claim-like that cannot be translated is `Unread` with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from diffcheck.reading.document import Block, Document, Found, Location, Unread
from diffcheck.reading.formulas import (DEFINED, DERIVATIVE_FORMS, EVALUATED_AT, NAME, RELATIONS, STEP, Chain, claimed_text,
                       clean_side, expression_variables, formula_chains, is_number, plain_name, split_top,
                       to_number, values_substituted, vector_entries)
from diffcheck.reading.latexexpr import normalise_unicode, translate

GENERIC_VALUES = (0.7, 1.3, 0.9, 1.1, 0.6, 1.2, 0.8, 1.4)
DEFINE_WINDOW = 12   # a name defined within this many formulas before a claim is substituted into it
_PROSE_POINT = re.compile(r"(?<![\w$\\])([A-Za-z](?:_\d+)?)\s*=\s*(-?\d+(?:\.\d+)?)(?![\w.])")
# "so dy/dx = 6x + 4.", "f'(x) = 3x^2": plain-text derivatives in running text, up to the sentence's end
_PROSE_DERIVATIVE = re.compile(r"(?<![\w/\\])((?:(?:d|\\partial\s*)\w+\s*/\s*(?:d|\\partial\s*)\w+|[A-Za-z]'+\(\w+\))"
                               r"\s*=\s*[^,;:\n]+?)(?=[.,;:]?\s*$|[.,;:]\s)", re.M)
_APPLICATION = re.compile(r"(?<![A-Za-z\\])(" + NAME + r")\s*\(([^()]*)\)")
_DERIVATIVE_INSIDE = re.compile(r"\\frac\{\s*(?:d|\\partial)|\\partial|\\nabla|[A-Za-z]'")
_INLINE_MATH = re.compile(r"\$\$.*?\$\$|\$.*?\$|\\\(.*?\\\)|\\\[.*?\\\]", re.S)


@dataclass
class _Definition:
    expression: str
    parameters: list[str]
    latex: str = ""          # as written, to read the values later substituted into it
    explicit: bool = False   # parameters written out, f(x, y): they are never replaced by definitions
    index: int = 0           # the formula it was stated in (State.formulas at the time)
    line: int = 0


@dataclass
class _State:
    definitions: dict[str, _Definition] = field(default_factory=dict)
    point: dict[str, float] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)   # name -> why its definition was not read
    formulas: int = 0        # chains read so far


def find(document: Document) -> Found:
    """Every derivative, derivation and value claim in the document's formulas."""
    found = Found()
    state = _State()
    for block in document.blocks:
        try:
            if block.kind == "math":
                for chain in formula_chains(block):
                    _claims(chain, state, found)
            elif block.kind == "prose":
                _prose(block, state, found)
        except RecursionError:
            found.unread.append(Unread(block.location, block.text[:200], "nested too deeply to read"))
        except Exception as err:      # one passage the finder fails on must not stop the rest
            found.unread.append(Unread(block.location, block.text[:200],
                                       f"the math finder failed here ({type(err).__name__}: {err})"))
    return found


def _prose(block: Block, state: _State, found: Found) -> None:
    plain = normalise_unicode(_INLINE_MATH.sub(" ", block.text))
    for match in _PROSE_POINT.finditer(plain):
        name = plain_name(match.group(1))
        if name not in state.definitions:
            state.point[name] = float(match.group(2))
    for match in _PROSE_DERIVATIVE.finditer(plain):
        offset = plain.count("\n", 0, match.start())
        where = Location(block.location.path, block.location.line + offset, block.location.cell)
        sides = split_top(match.group(1), "=")
        _claims(Chain(sides, where, match.group(1).strip()), state, found)


def _claims(chain: Chain, state: _State, found: Found) -> None:
    state.formulas += 1
    sides = chain.sides
    if any(RELATIONS.search(side) for side in sides) or any(":" in side[-1:] for side in sides[:1]):
        return
    if chain.update:
        _update_claims(chain, state, found)
        return
    first = re.sub(r"\\left|\\right|\\displaystyle", "", sides[0]).strip()
    if first.endswith(":"):
        first = first[:-1]
    derivative = _derivative(first, state)
    if derivative is not None:
        _derivative_claims(chain, derivative, state, found)
        return
    defined = DEFINED.match(first)
    if defined and not is_number(first):
        _named_claims(chain, plain_name(defined.group(1)), defined.group(2), state, found)
        return
    _expression_claims(chain, state, found)


@dataclass
class _Derivative:
    target: str | None            # expression text of what is differentiated
    wrt: list[str]
    order: int
    problem: str | None = None
    at: dict = field(default_factory=dict)   # f'(3): the point written in the notation


def _derivative(text: str, state: _State) -> _Derivative | None:
    """The derivative a side denotes, or None when it is not derivative notation."""
    bar = EVALUATED_AT.search(text)
    if bar:
        values = {plain_name(m.group(1)): to_number(m.group(2)) for m in
                  re.finditer(r"(" + NAME + r")\s*=\s*(\(?-?\d+(?:\.\d+)?\)?)", bar.group(1))}
        derivative = _derivative(text[:bar.start()].strip(), state) if values else None
        if derivative is not None:
            derivative.at = {**derivative.at, **values}
        return derivative
    components = vector_entries(text)
    if components and len(components) > 1:
        parts = [_derivative(c.strip(), state) for c in components]
        if all(p is not None and p.target == parts[0].target and len(p.wrt) == 1 for p in parts):
            return _Derivative(parts[0].target, [p.wrt[0] for p in parts], parts[0].order, parts[0].problem)
        return None
    for kind, pattern in DERIVATIVE_FORMS:
        match = pattern.match(text)
        if not match:
            continue
        if kind == "operator":
            order, wrt, body = match.group(1), match.group(2), match.group(3).strip()
            body = re.sub(r"^\\left|\\right$", "", body)
            named = DEFINED.fullmatch(body)
            if named and (plain_name(named.group(1)) in state.definitions or
                          plain_name(named.group(1)) in state.unreadable):
                return _named(named.group(1), [plain_name(wrt)], int(order or 1), state)
            translated = _read(body, state)
            if translated.ok:
                return _Derivative(translated.expression, [plain_name(wrt)], int(order or 1))
            if named:
                return _named(named.group(1), [plain_name(wrt)], int(order or 1), state)
            return _Derivative(None, [plain_name(wrt)], int(order or 1), translated.reason)
        if kind == "of":
            return _named(match.group(2), [plain_name(match.group(3))], int(match.group(1) or 1), state)
        if kind == "prime":
            name, primes, variable = match.group(1), match.group(2), match.group(3)
            order = primes.count("'") or 1
            definition = state.definitions.get(plain_name(name))
            at = {}
            if variable and is_number(variable):      # f'(3): the derivative at a point
                at = {definition.parameters[0]: to_number(variable)} if definition and definition.parameters else {}
                variable = None
            wrt = [plain_name(variable)] if variable else (definition.parameters[:1] if definition else [])
            if not wrt:
                return _Derivative(None, [], order, f"{name}' names no variable and {name} has no parameters")
            named = _named(name, wrt, order, state)
            named.at = at
            return named
        if kind == "nabla":
            subscript, name, arguments = match.group(1), match.group(2), match.group(3)
            definition = state.definitions.get(plain_name(name))
            values = [a.strip() for a in (arguments or "").split(",") if a.strip()]
            if definition and values and all(is_number(v) for v in values):
                # \nabla f(3): the gradient at a point
                if len(values) != len(definition.parameters):
                    return _Derivative(None, [], 1, f"{len(values)} arguments for "
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
    return None


def _named(name: str, wrt: list[str], order: int, state: _State) -> _Derivative:
    definition = state.definitions.get(plain_name(name))
    if definition is None and plain_name(name) in state.unreadable:
        return _Derivative(None, wrt, order, f"the definition of {name} was not read: "
                                             f"{state.unreadable[plain_name(name)]}")
    if definition is None:
        return _Derivative(None, wrt, order, f"{name} is not defined before this derivative")
    if not wrt:
        return _Derivative(None, wrt, order, f"cannot tell what {name} is differentiated with respect to")
    return _Derivative(definition.expression, wrt, order)


def _derivative_claims(chain: Chain, derivative: _Derivative, state: _State, found: Found) -> None:
    if derivative.problem:
        found.unread.append(Unread(chain.location, chain.quote, derivative.problem))
        return
    # sides in derivative notation restate the claim ("= \\frac{\\partial f}{\\partial q} \\cdot
    # \\frac{\\partial q}{\\partial x}", the chain rule's factors): not checkable, the others are
    rest = [s for s in chain.sides[1:] if _derivative(s.strip(), state) is None and not _DERIVATIVE_INSIDE.search(s)]
    if not rest:
        return
    if len(derivative.wrt) > 1:
        components = vector_entries(rest[-1])
        if not components or len(components) != len(derivative.wrt):
            found.unread.append(Unread(chain.location, chain.quote,
                                       f"a gradient of {len(derivative.wrt)} components needs as many entries"))
            return
        sides_per_variable = [[c] for c in components]
    else:
        sides_per_variable = [rest]
    case = _Case(chain, derivative.target, state)
    case.inferred.update(derivative.at)
    for wrt, sides in zip(derivative.wrt, sides_per_variable):
        translated = _translate_all(sides, chain, state, found)
        if translated is None:
            return
        case.wrt.append(wrt)
        symbolic = [t for t in translated if expression_variables(t)]
        numbers = [(side, t) for side, t in zip(sides, translated) if not expression_variables(t)]
        extra = {"order": derivative.order} if derivative.order > 1 else {}
        if len(symbolic) == 1:
            case.claims.append({"kind": "formula", "wrt": wrt, "formula": symbolic[0], **extra})
        elif len(symbolic) > 1:
            case.claims.append({"kind": "derivation", "wrt": wrt, "steps": symbolic, **extra})
        if numbers:
            case.infer_point(sides, translated)
        if numbers and not symbolic and not case.has_point():
            # "df/dx = 2" with no point stated: the derivative is that constant everywhere
            case.claims.append({"kind": "formula", "wrt": wrt, "formula": numbers[-1][1], **extra})
        elif numbers:
            for side, number in numbers:
                case.numeric({"kind": "gradient", "wrt": wrt, "claimed": claimed_text(side, number), **extra})
        if derivative.order > 1:
            case.review = "a derivative of order 2 or more: the case format checks first derivatives"
    case.emit(found)


def _named_claims(chain: Chain, name: str, parameters: str | None, state: _State, found: Found) -> None:
    arguments = [a.strip() for a in parameters.split(",")] if parameters else []
    also = DEFINED.match(chain.sides[1].strip()) if len(chain.sides) > 2 else None
    if also and not is_number(chain.sides[1]) and not arguments:
        # "MSE = J(w, b) = ...": the second name is the one defined, the first names it too
        _named_claims(Chain(chain.sides[1:], chain.location, chain.quote), plain_name(also.group(1)),
                      also.group(2), state, found)
        if plain_name(also.group(1)) in state.definitions:
            state.definitions[name] = state.definitions[plain_name(also.group(1))]
        return
    definition = state.definitions.get(name)
    if definition and arguments and all(is_number(a) for a in arguments):
        _value_at(chain, definition, arguments, state, found)    # "f(3) = 29"
        return
    translated = [_read(s, state) for s in chain.sides[1:]]
    if not translated[0].ok:
        if len(chain.sides) > 2 or parameters:     # "f(x) = <unreadable>" is still a definition
            found.unread.append(Unread(chain.location, chain.quote, translated[0].reason))
        state.definitions.pop(name, None)
        state.unreadable[name] = translated[0].reason
        return
    first = translated[0].expression
    if expression_variables(first):
        params = ([plain_name(p.strip()) for p in parameters.split(",")] if parameters
                  else sorted(expression_variables(first)))
        state.definitions[name] = _Definition(first, params, clean_side(chain.sides[1]), bool(parameters),
                                              state.formulas, chain.location.line)
        state.unreadable.pop(name, None)
        if len(chain.sides) > 2:
            _expression_claims(Chain(chain.sides[1:], chain.location, chain.quote), state, found)
        return
    stale = name in state.definitions and state.formulas - state.definitions[name].index > DEFINE_WINDOW
    if (chain.listed or stale) and len(chain.sides) == 2 and is_number(first):
        state.definitions.pop(name, None)          # "x = 1, y = 2": the document now uses y as data
        state.point[name] = to_number(first)
        return
    if name in state.definitions:
        chain = Chain(chain.sides[1:], chain.location, chain.quote)
        texts = _translate_all(chain.sides, chain, state, found)
        if texts is None:
            return
        definition = state.definitions[name]
        case = _Case(chain, definition.expression, state)
        case.inferred.update(values_substituted(definition.latex, clean_side(chain.sides[0])))
        for side, text in zip(chain.sides, texts):
            case.numeric({"kind": "value", "claimed": claimed_text(side, text)})
        case.emit(found)
        return
    if len(chain.sides) == 2 and is_number(first):
        state.point[name] = to_number(first)          # "x = 3": a stated point
        return
    _expression_claims(Chain(chain.sides[1:], chain.location, chain.quote), state, found)


def _value_at(chain: Chain, definition: _Definition, arguments: list[str], state: _State, found: Found) -> None:
    if len(arguments) != len(definition.parameters):
        found.unread.append(Unread(chain.location, chain.quote, f"{len(arguments)} arguments for "
                                   f"{len(definition.parameters)} parameters"))
        return
    rest = Chain(chain.sides[1:], chain.location, chain.quote)
    texts = _translate_all(rest.sides, rest, state, found)
    if texts is None:
        return
    case = _Case(rest, definition.expression, state)
    case.inferred.update({p: to_number(a) for p, a in zip(definition.parameters, arguments)})
    for side, text in zip(rest.sides, texts):
        if expression_variables(text):
            found.unread.append(Unread(chain.location, chain.quote, "a value with variables left in it"))
            return
        case.numeric({"kind": "value", "claimed": claimed_text(side, text)})
    case.emit(found)


def _expression_claims(chain: Chain, state: _State, found: Found) -> None:
    if not re.search(r"[A-Za-z]", "".join(chain.sides).replace("\\cdot", "").replace("\\times", "")) \
            and not is_number(clean_side(chain.sides[-1])):
        return      # numbers that do not end in a number state nothing checkable
    translated = []
    for side in chain.sides:        # stop at the first side that cannot be read: parsing is slow
        translated.append(_read(side, state))
        if not translated[-1].ok:
            break
    if not all(t.ok for t in translated):
        if any(t.ok and expression_variables(t.expression) for t in translated):
            reason = next(t.reason for t in translated if not t.ok)
            found.unread.append(Unread(chain.location, chain.quote, reason))
        return
    texts = [t.expression for t in translated]
    symbolic = [t for t in texts if expression_variables(t)]
    if symbolic:
        case = _Case(chain, symbolic[0], state)
        if len(symbolic) > 1:
            case.claims.append({"kind": "derivation", "steps": symbolic})
        numbers = [(side, t) for side, t in zip(chain.sides, texts) if not expression_variables(t)]
        if numbers:
            case.infer_point(chain.sides, texts)
            for side, number in numbers:
                case.numeric({"kind": "value", "claimed": claimed_text(side, number)})
        case.emit(found)
        return
    if len(texts) >= 2 and is_number(texts[-1]):
        # only numbers: each side's arithmetic must give the number the chain ends with
        case = _Case(chain, None, state)
        case.arithmetic(texts[:-1], claimed_text(chain.sides[-1], texts[-1]))
        case.emit(found)


def _update_claims(chain: Chain, state: _State, found: Found) -> None:
    """`w \\leftarrow w - \\eta G`: with numbers, the arithmetic of the step; with a
    formula G for the gradient of a loss the document defined, a formula claim."""
    parameter = plain_name(chain.sides[0])
    step = STEP.match(clean_side(chain.sides[1]))
    if step and plain_name(step.group(1)) == parameter and _derivative(step.group(3).strip(), state) is None:
        gradient = _read(step.group(3), state)
        losses = [d for d in state.definitions.values() if parameter in expression_variables(d.expression)]
        if gradient.ok and expression_variables(gradient.expression) and losses:
            loss = losses[-1]
            if expression_variables(gradient.expression) <= expression_variables(loss.expression):
                case = _Case(chain, loss.expression, state)
                case.wrt.append(parameter)
                case.claims.append({"kind": "formula", "wrt": parameter, "formula": gradient.expression})
                case.review = "the update's gradient is taken to be of the loss defined last with this parameter"
                case.emit(found)
                return
    _expression_claims(Chain(chain.sides[1:], chain.location, chain.quote), state, found)


class _Case:
    """A case being assembled from one chain."""

    def __init__(self, chain: Chain, expression: str | None, state: _State):
        self.chain, self.expression, self.state = chain, expression, state
        self.wrt: list[str] = []
        self.claims: list[dict] = []
        self.pending: list[dict] = []     # numeric claims, which need a point
        self.inferred: dict[str, float] = {}
        self.review: str | None = None

    def numeric(self, claim: dict) -> None:
        self.pending.append(claim)

    def arithmetic(self, sides: list[str], claimed: str) -> None:
        self.expression = sides[0]
        self.review = "arithmetic only: the case has no variable to differentiate"
        self.claims.extend({"kind": "value", "expression": s, "claimed": claimed} for s in sides)

    def infer_point(self, sides: list[str], translated: list[str]) -> None:
        """Values substituted into the last symbolic side: `6x + 4 = 6(3) + 4` gives x = 3."""
        symbolic = [s for s, t in zip(sides, translated) if expression_variables(t)]
        numeric = [s for s, t in zip(sides, translated) if not expression_variables(t)]
        if symbolic and numeric:
            self.inferred.update(values_substituted(clean_side(symbolic[-1]), clean_side(numeric[0])))

    def _defines(self, names: set[str]) -> dict[str, str]:
        """Names the claims use that the document defined shortly before (`q = x + y`
        for `f = qz`), in dependency order; never the target's own written parameters
        or the variables differentiated with respect to."""
        target = [d for d in self.state.definitions.values() if d.expression == self.expression]
        protected = set(self.wrt) | {p for d in target if d.explicit for p in d.parameters}
        protected |= {n for n, d in self.state.definitions.items() if d.expression == self.expression}
        defines: dict[str, str] = {}

        def visit(name: str, depth: int) -> None:
            definition = self.state.definitions.get(name)
            if (name in defines or name in protected or definition is None or depth > 20
                    or self.state.formulas - definition.index > DEFINE_WINDOW):
                return
            protected.add(name)           # a definition that refers to itself is not followed
            for inner in sorted(expression_variables(definition.expression)):
                visit(inner, depth + 1)
            defines[name] = definition.expression

        for name in sorted(names):
            visit(name, 0)
        return defines

    def has_point(self) -> bool:
        names = expression_variables(self.expression or "") | set(self.wrt)
        return all(n in self.state.point or n in self.inferred for n in names)

    def emit(self, found: Found) -> None:
        if self.expression is None:
            return
        names = set(expression_variables(self.expression)) | set(self.wrt)
        for claim in self.claims + self.pending:     # a step may name a variable the expression lost
            for text in [claim.get("formula", ""), claim.get("expression", "")] + claim.get("steps", []):
                names |= expression_variables(text)
        defines = self._defines(names)
        names = sorted((names | {n for text in defines.values() for n in expression_variables(text)}) - set(defines))
        stated = {**{n: self.state.point[n] for n in names if n in self.state.point}, **self.inferred}
        complete = all(n in stated for n in names)
        notes = []
        if self.pending and complete:
            point = {n: stated[n] for n in names}
            self.state.point.update(self.inferred)    # the document works at this point from now on
            seen = set()
            for claim in self.pending:
                key = repr(sorted(claim.items()))
                if key in seen:       # "6(3) + 4 = 18 + 4 = 22": three sides, one value
                    continue
                seen.add(key)
                if claim.get("claimed", "") is None:
                    continue
                if "expression" not in claim:
                    claim["at"] = dict(point)
                self.claims.append(claim)
        elif self.pending:
            missing = ", ".join(n for n in names if n not in stated)
            found.unread.append(Unread(self.chain.location, self.chain.quote,
                                       f"a value is stated but the document states no value for {missing}"))
        if not self.claims:
            return
        if complete:
            variables = {n: stated[n] for n in names}
        else:
            variables = {n: GENERIC_VALUES[i % len(GENERIC_VALUES)] for i, n in enumerate(names)}
            notes.append("no point stated: checked at a generic point")
        where = (f"{self.chain.location.cell}, line {self.chain.location.line}" if self.chain.location.cell
                 else f"line {self.chain.location.line}")
        case = {"name": _case_name(self.chain.location), "where": where,
                "quote": self.chain.quote[:300], "expression": self.expression, "variables": variables}
        if defines:
            case["define"] = defines
            self.review = "; ".join(filter(None, [self.review, "uses the document's definitions of " + ", ".join(
                f"{n} (line {self.state.definitions[n].line})" for n in defines)]))
        if self.wrt:
            case["wrt"] = list(dict.fromkeys(self.wrt))
        if notes:
            case["note"] = "; ".join(notes)
        if self.review:
            case["review"] = True
            case["note"] = "; ".join(notes + [self.review])
        case["claim"] = self.claims
        found.cases.append(case)


def _read(side: str, state: _State):
    """One side translated, with the document's functions applied to their own
    parameters (`k(z)` after `k(z) = 1 + e^{-z}`) replaced by their definitions."""
    functions = {name: d for name, d in state.definitions.items() if d.explicit}

    def substitute(match: re.Match) -> str:
        definition = functions.get(plain_name(match.group(1)))
        arguments = [plain_name(a) for a in match.group(2).split(",")]
        if definition is None or arguments != definition.parameters:
            return match.group(0)
        return "\\left(" + definition.latex + "\\right)"

    text = _APPLICATION.sub(substitute, clean_side(side)) if functions else clean_side(side)
    return translate(text, frozenset(functions))


def _translate_all(sides, chain: Chain, state: _State, found: Found) -> list[str] | None:
    texts = []
    for side in sides:
        translated = _read(side, state)
        if not translated.ok:
            found.unread.append(Unread(chain.location, chain.quote, translated.reason))
            return None
        texts.append(translated.expression)
    return texts


def _case_name(location: Location) -> str:
    cell = re.sub(r"[^A-Za-z0-9]+", "-", location.cell or "").strip("-").lower()
    return f"{cell}-line-{location.line}" if cell else f"line-{location.line}"
