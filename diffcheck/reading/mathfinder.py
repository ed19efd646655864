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
Derivative notation is read by `derivnotation`; the state kept while reading and
the case assembled from one chain live in `mathcase`.
"""

from __future__ import annotations

import re

from diffcheck.reading.derivnotation import Derivative, read_derivative
from diffcheck.reading.document import Block, Document, Found, Location, Unread
from diffcheck.reading.formulas import (DEFINED, RELATIONS, STEP, Chain, claimed_text, clean_side, expression_variables,
                                        formula_chains, is_number, plain_name, split_top, to_number, values_substituted,
                                        vector_entries)
from diffcheck.reading.latexexpr import normalise_unicode
from diffcheck.reading.mathcase import DEFINE_WINDOW, Case, Definition, State, read_side, translate_all

_PROSE_POINT = re.compile(r"(?<![\w$\\])([A-Za-z](?:_\d+)?)\s*=\s*(-?\d+(?:\.\d+)?)(?![\w.])")
# "so dy/dx = 6x + 4.", "f'(x) = 3x^2": plain-text derivatives in running text, up to the sentence's end
_PROSE_DERIVATIVE = re.compile(r"(?<![\w/\\])((?:(?:d|\\partial\s*)\w+\s*/\s*(?:d|\\partial\s*)\w+|[A-Za-z]'+\(\w+\))"
                               r"\s*=\s*[^,;:\n]+?)(?=[.,;:]?\s*$|[.,;:]\s)", re.M)
_DERIVATIVE_INSIDE = re.compile(r"\\frac\{\s*(?:d|\\partial)|\\partial|\\nabla|[A-Za-z]'")
_INLINE_MATH = re.compile(r"\$\$.*?\$\$|\$.*?\$|\\\(.*?\\\)|\\\[.*?\\\]", re.S)


def find(document: Document) -> Found:
    """Every derivative, derivation and value claim in the document's formulas."""
    found = Found()
    state = State()
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


def _prose(block: Block, state: State, found: Found) -> None:
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


def _claims(chain: Chain, state: State, found: Found) -> None:
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
    derivative = read_derivative(first, state)
    if derivative is not None:
        _derivative_claims(chain, derivative, state, found)
        return
    defined = DEFINED.match(first)
    if defined and not is_number(first):
        _named_claims(chain, plain_name(defined.group(1)), defined.group(2), state, found)
        return
    _expression_claims(chain, state, found)


def _derivative_claims(chain: Chain, derivative: Derivative, state: State, found: Found) -> None:
    if derivative.problem:
        found.unread.append(Unread(chain.location, chain.quote, derivative.problem))
        return
    # sides in derivative notation restate the claim ("= \\frac{\\partial f}{\\partial q} \\cdot
    # \\frac{\\partial q}{\\partial x}", the chain rule's factors): not checkable, the others are
    rest = [s for s in chain.sides[1:] if read_derivative(s.strip(), state) is None and not _DERIVATIVE_INSIDE.search(s)]
    if not rest:
        return
    sides_per_variable = _sides_per_variable(chain, derivative, rest, found)
    if sides_per_variable is None:
        return
    case = Case(chain, derivative.target, state)
    case.inferred.update(derivative.at)
    for wrt, sides in zip(derivative.wrt, sides_per_variable):
        if not _claims_for_variable(case, wrt, sides, derivative.order, found):
            return
    case.emit(found)


def _sides_per_variable(chain: Chain, derivative: Derivative, rest: list[str], found: Found) -> list[list[str]] | None:
    """The claimed sides for each variable: a gradient's components one by one, or
    None (and Unread) when the vector has not one entry per variable."""
    if len(derivative.wrt) <= 1:
        return [rest]
    components = vector_entries(rest[-1])
    if not components or len(components) != len(derivative.wrt):
        found.unread.append(Unread(chain.location, chain.quote,
                                   f"a gradient of {len(derivative.wrt)} components needs as many entries"))
        return None
    return [[c] for c in components]


def _claims_for_variable(case: Case, wrt: str, sides: list[str], order: int, found: Found) -> bool:
    """The claims the sides make about the derivative with respect to `wrt`: symbolic
    sides a formula or derivation, numeric ones gradient values.  False when a side
    cannot be read (it is then Unread and the case is dropped)."""
    translated = translate_all(sides, case.chain, case.state, found)
    if translated is None:
        return False
    case.wrt.append(wrt)
    symbolic = [t for t in translated if expression_variables(t)]
    numbers = [(side, t) for side, t in zip(sides, translated) if not expression_variables(t)]
    extra = {"order": order} if order > 1 else {}
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
    if order > 1:
        case.review = "a derivative of order 2 or more: the case format checks first derivatives"
    return True


def _named_claims(chain: Chain, name: str, parameters: str | None, state: State, found: Found) -> None:
    """A chain that starts with a name: a definition (`f(x) = ...`), a stated value
    (`x = 3`), a value of a function (`f(3) = 29`) or of a defined name (`L = 0.25`)."""
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
    translated = [read_side(s, state) for s in chain.sides[1:]]
    if not translated[0].ok:
        if len(chain.sides) > 2 or parameters:     # "f(x) = <unreadable>" is still a definition
            found.unread.append(Unread(chain.location, chain.quote, translated[0].reason))
        state.definitions.pop(name, None)
        state.unreadable[name] = translated[0].reason
        return
    first = translated[0].expression
    if expression_variables(first):
        _define(chain, name, parameters, first, state, found)
        return
    _named_number(chain, name, first, state, found)


def _define(chain: Chain, name: str, parameters: str | None, first: str, state: State, found: Found) -> None:
    """`f(x) = <expression>`: the definition replaces any before; further sides are claims about it."""
    params = ([plain_name(p.strip()) for p in parameters.split(",")] if parameters
              else sorted(expression_variables(first)))
    state.definitions[name] = Definition(first, params, clean_side(chain.sides[1]), bool(parameters),
                                         state.formulas, chain.location.line)
    state.unreadable.pop(name, None)
    if len(chain.sides) > 2:
        _expression_claims(Chain(chain.sides[1:], chain.location, chain.quote), state, found)


def _named_number(chain: Chain, name: str, first: str, state: State, found: Found) -> None:
    """`x = 3`, `L = 0.25`: a stated point, or the value of a name the document defined."""
    stale = name in state.definitions and state.formulas - state.definitions[name].index > DEFINE_WINDOW
    if (chain.listed or stale) and len(chain.sides) == 2 and is_number(first):
        state.definitions.pop(name, None)          # "x = 1, y = 2": the document now uses y as data
        state.point[name] = to_number(first)
        return
    if name in state.definitions:
        _defined_value(chain, name, state, found)
        return
    if len(chain.sides) == 2 and is_number(first):
        state.point[name] = to_number(first)          # "x = 3": a stated point
        return
    _expression_claims(Chain(chain.sides[1:], chain.location, chain.quote), state, found)


def _defined_value(chain: Chain, name: str, state: State, found: Found) -> None:
    """`L = (3 - 1)^2 = 4` after `L = (y - t)^2`: value claims about the definition."""
    chain = Chain(chain.sides[1:], chain.location, chain.quote)
    texts = translate_all(chain.sides, chain, state, found)
    if texts is None:
        return
    definition = state.definitions[name]
    case = Case(chain, definition.expression, state)
    case.inferred.update(values_substituted(definition.latex, clean_side(chain.sides[0])))
    for side, text in zip(chain.sides, texts):
        case.numeric({"kind": "value", "claimed": claimed_text(side, text)})
    case.emit(found)


def _value_at(chain: Chain, definition: Definition, arguments: list[str], state: State, found: Found) -> None:
    if len(arguments) != len(definition.parameters):
        found.unread.append(Unread(chain.location, chain.quote, f"{len(arguments)} arguments for "
                                   f"{len(definition.parameters)} parameters"))
        return
    rest = Chain(chain.sides[1:], chain.location, chain.quote)
    texts = translate_all(rest.sides, rest, state, found)
    if texts is None:
        return
    case = Case(rest, definition.expression, state)
    case.inferred.update({p: to_number(a) for p, a in zip(definition.parameters, arguments)})
    for side, text in zip(rest.sides, texts):
        if expression_variables(text):
            found.unread.append(Unread(chain.location, chain.quote, "a value with variables left in it"))
            return
        case.numeric({"kind": "value", "claimed": claimed_text(side, text)})
    case.emit(found)


def _expression_claims(chain: Chain, state: State, found: Found) -> None:
    if not re.search(r"[A-Za-z]", "".join(chain.sides).replace("\\cdot", "").replace("\\times", "")) \
            and not is_number(clean_side(chain.sides[-1])):
        return      # numbers that do not end in a number state nothing checkable
    translated = []
    for side in chain.sides:        # stop at the first side that cannot be read: parsing is slow
        translated.append(read_side(side, state))
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
        _symbolic_claims(chain, texts, symbolic, state, found)
        return
    if len(texts) >= 2 and is_number(texts[-1]):
        # only numbers: each side's arithmetic must give the number the chain ends with
        case = Case(chain, None, state)
        case.arithmetic(texts[:-1], claimed_text(chain.sides[-1], texts[-1]))
        case.emit(found)


def _symbolic_claims(chain: Chain, texts: list[str], symbolic: list[str], state: State, found: Found) -> None:
    """Sides with variables are a derivation from the first; numeric sides its values."""
    case = Case(chain, symbolic[0], state)
    if len(symbolic) > 1:
        case.claims.append({"kind": "derivation", "steps": symbolic})
    numbers = [(side, t) for side, t in zip(chain.sides, texts) if not expression_variables(t)]
    if numbers:
        case.infer_point(chain.sides, texts)
        for side, number in numbers:
            case.numeric({"kind": "value", "claimed": claimed_text(side, number)})
    case.emit(found)


def _update_claims(chain: Chain, state: State, found: Found) -> None:
    """`w \\leftarrow w - \\eta G`: with numbers, the arithmetic of the step; with a
    formula G for the gradient of a loss the document defined, a formula claim."""
    parameter = plain_name(chain.sides[0])
    step = STEP.match(clean_side(chain.sides[1]))
    if step and plain_name(step.group(1)) == parameter and read_derivative(step.group(3).strip(), state) is None:
        gradient = read_side(step.group(3), state)
        losses = [d for d in state.definitions.values() if parameter in expression_variables(d.expression)]
        if gradient.ok and expression_variables(gradient.expression) and losses:
            loss = losses[-1]
            if expression_variables(gradient.expression) <= expression_variables(loss.expression):
                case = Case(chain, loss.expression, state)
                case.wrt.append(parameter)
                case.claims.append({"kind": "formula", "wrt": parameter, "formula": gradient.expression})
                case.review = "the update's gradient is taken to be of the loss defined last with this parameter"
                case.emit(found)
                return
    _expression_claims(Chain(chain.sides[1:], chain.location, chain.quote), state, found)

