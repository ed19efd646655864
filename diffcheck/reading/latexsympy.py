"""The SymPy route for one formula: its LaTeX prepared for SymPy's LaTeX parser
(lark backend), the tree that parser returns printed through an allowlist of node
types, and the printed text validated by diffcheck's own parser.

Preparation covers what the grammar lacks or misreads: `\\sigma(z)` and `\\tanh`
(stand-in functions the printer maps back), `\\pi`, `\\hat{y}`, `\\times`,
`\\left`/`\\right`, and explicit products where the grammar would bind a function to
the factor after it (`\\sigma(z)(1 - \\sigma(z))`).  Nothing is sympified and
nothing is evaluated but the parser's own arithmetic on the literal numbers
written in the formula.  `Translation`, what every route returns, is defined here
because `latexexpr` (the entry point, the fast route and the refusals) builds on
this module.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from diffcheck.errors import DiffcheckError
from diffcheck.language.expr import to_text
from diffcheck.language.parser import parse
from diffcheck.language.ops import CONSTANTS, OPS

# Stand-ins: functions the grammar knows and teaching documents about derivatives
# do not use, printed back as the function they stand for.  A formula that uses a
# stand-in itself is refused rather than misread.
STAND_INS = {"\\sigma": ("\\arcsec", "asec", "sigmoid"), "\\tanh": ("\\arccsc", "acsc", "tanh")}
for _wrapper in ("operatorname", "mathrm", "text", "textrm", "mathit"):
    for _name, _stand_in in (("sigmoid", ("\\arcsec", "asec", "sigmoid")), ("ReLU", ("\\arccot", "acot", "relu")),
                             ("relu", ("\\arccot", "acot", "relu")), ("softplus", ("\\arsinh", "asinh", "softplus")),
                             ("Softplus", ("\\arsinh", "asinh", "softplus"))):
        STAND_INS[f"\\{_wrapper}{{{_name}}}"] = _stand_in
_PRINTED_FUNCTIONS = {"exp": "exp", "log": "log", "sin": "sin", "cos": "cos", "tan": "tan",
                      "Abs": "abs", "asec": "sigmoid", "acsc": "tanh", "acot": "relu", "asinh": "softplus"}
_GRAMMAR_FUNCTIONS = ("\\exp", "\\ln", "\\log", "\\sin", "\\cos", "\\tan")
_RESERVED = {"Q_{Qpi}": "pi"}

_SPACING = re.compile(r"\\(?:left|right|big|Big|bigg|Bigg)(?![A-Za-z])|\\[,;:! ]|\\quad|\\qquad|\\displaystyle|&")
GREEK = ("alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi "
         "rho varrho tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Phi Psi Omega").split()
#: Letters that conventionally name functions: `f(x)` is an application, not a product.
FUNCTION_LETTERS = frozenset("fghFGH")
_APPLIED = re.compile(r"(?<![A-Za-z\\])((?:[A-Za-z]|\\(?:" + "|".join(GREEK) + r"))(?:_\{?[A-Za-z0-9]+\}?)?)\s*\(")
HAT = re.compile(r"\\(hat|bar|tilde)\{([A-Za-z])\}")
_TEXT_NAME = re.compile(r"\\(?:text|mathrm|mathit|operatorname)\{([A-Za-z][A-Za-z0-9]*)\}")
_AFTER_CLOSE = re.compile(r"(\))\s*(?=[(\\A-Za-z0-9])|(\})\s*(?=\()")
_NUMBER_THEN_NAME = re.compile(r"(\\cdot\s*)(\d+(?:\.\d+)?)\s*(?=[A-Za-z\\])")


@dataclass(frozen=True)
class Translation:
    """`expression` in diffcheck's language, or `reason` why there is none."""

    expression: str | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.expression is not None


def via_sympy(latex: str, functions: frozenset = frozenset()) -> Translation:
    """The translation through SymPy's LaTeX parser and the allowlist printer."""
    prepared = prepare(latex, functions)
    if isinstance(prepared, Translation):
        return prepared
    try:
        tree = _parse_latex(prepared)
    except RecursionError:
        return Translation(reason="LaTeX nested too deeply")
    except Exception as err:   # the lark grammar raises several unrelated types
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return Translation(reason=f"SymPy's LaTeX parser cannot read it ({first[:80]})")
    tree = _agreed(tree)
    try:
        text = _Printer().print(tree)
    except _Refused as err:
        return Translation(reason=str(err))
    try:
        tree = parse(text, _variables(text))
    except DiffcheckError as err:
        return Translation(reason=f"not in the expression language: {err}")
    return Translation(expression=to_text(tree))     # one spelling, whichever route read it



def prepare(latex: str, functions: frozenset = frozenset()) -> str | Translation:
    """The formula rewritten for the lark grammar, or a Translation with the reason."""
    text = _SPACING.sub(" ", latex).replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    text = text.replace("\\times", "\\cdot").replace("*", " \\cdot ").replace("\\ast", "\\cdot")
    text = text.replace("\\pi", " Q_{Qpi} ")
    text = HAT.sub(lambda m: f"{m.group(2)}_{{{m.group(1)}}}", text)
    for name, (macro, _, _) in STAND_INS.items():
        text = _wrap_calls(text, name, macro)
    for name in _GRAMMAR_FUNCTIONS:   # braces keep `\\sin(x)\\cos(x)` from being ambiguous
        text = _wrap_calls(text, name, name, required=False)
    if isinstance(text, Translation):
        return text
    named = _TEXT_NAME.search(text)
    if named:
        return Translation(reason=f"function {named.group(1)!r} is not read")
    for applied in _APPLIED.finditer(text):
        if applied.group(1) in FUNCTION_LETTERS or applied.group(1).replace("{", "").replace("}", "") in functions:
            return Translation(reason=f"{applied.group(1)}(...) applies a function the formula does not define")
    # "x(1 - x)" is a product (the grammar would read a function call, ambiguously)
    text = _APPLIED.sub(lambda m: m.group(0)[:-1].rstrip() + " \\cdot (", text)
    text = _AFTER_CLOSE.sub(lambda m: (m.group(1) or m.group(2)) + " \\cdot ", text)
    text = _NUMBER_THEN_NAME.sub(r"\1\2 \\cdot ", text)   # the grammar refuses "2 \\cdot 3x"
    # "\\cdot" inserted before a closing or an operator would be a syntax error
    text = re.sub(r"\\cdot\s*(?=[-+=)}^_]|\\cdot|$)", " ", text)
    return text


def _wrap_calls(text, name: str, macro: str, required: bool = True):
    """`\\sigma(A)` -> `{\\arcsec(A)}` so the call binds to its own argument only."""
    if isinstance(text, Translation):
        return text
    # "\\tanh^2(x)" is tanh(x)^2: the power moves after the call
    pattern = re.compile(re.escape(name) + r"(?![A-Za-z])\s*(?:\^\s*(\{[^{}]*\}|\d))?\s*")
    out, position = [], 0
    for match in pattern.finditer(text):
        if match.start() < position:
            continue
        power = f"^{match.group(1)}" if match.group(1) else ""
        start = match.end()
        if start >= len(text) or text[start] not in "({":
            if not required:
                continue
            return Translation(reason=f"{name} without a parenthesised argument is not read")
        end = _closing(text, start)
        if end is None:
            return Translation(reason=f"unbalanced parentheses after {name}")
        inner = text[start + 1:end]
        before = text[position:match.start()]
        joint = " \\cdot " if re.search(r"[A-Za-z0-9)}]\s*$", "".join(out) + before) else ""
        out.append(before + joint + "{{" + macro + "(" + inner + ")}" + power + "}")
        position = end + 1
        if re.match(r"\s*[({\\A-Za-z0-9]", text[position:]):
            out.append(" \\cdot ")
    out.append(text[position:])
    return "".join(out)


def _closing(text: str, start: int) -> int | None:
    opening = text[start]
    closing = ")" if opening == "(" else "}"
    depth = 0
    for index in range(start, len(text)):
        if text[index] == opening:
            depth += 1
        elif text[index] == closing:
            depth -= 1
            if depth == 0:
                return index
    return None


_LATEX_PARSE = None


def _parse_latex(text: str):
    global _LATEX_PARSE
    if _LATEX_PARSE is None:     # importing SymPy's parser builds the grammar: slow, once
        from sympy.parsing.latex import parse_latex
        _LATEX_PARSE = functools.partial(parse_latex, backend="lark")
    return _LATEX_PARSE(text)


def _agreed(tree):
    """An ambiguous parse whose readings are all the same expression is that expression
    (`3x \\cdot x`); readings that differ (`\\sin x \\cdot y`) stay ambiguous."""
    import sympy
    if type(tree).__name__ != "Tree" or getattr(tree, "data", None) != "_ambig":
        return tree
    readings = tree.children
    if not readings or not all(isinstance(r, sympy.Basic) for r in readings):
        return tree
    if all(sympy.expand(r - readings[0]) == 0 for r in readings[1:]):
        return readings[0]
    return tree


def _variables(text: str) -> list[str]:
    names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
    return sorted(n for n in names if n not in OPS and n not in CONSTANTS)


class _Refused(Exception):
    pass


class _Printer:
    """SymPy tree -> diffcheck text, for an allowlist of node types only."""

    def print(self, node) -> str:
        import sympy
        if isinstance(node, sympy.Integer):
            return str(int(node))
        if isinstance(node, sympy.Rational):
            return f"({node.p}/{node.q})"
        if isinstance(node, sympy.Float):
            return _float_text(node)
        if node is sympy.pi:
            return "pi"
        if node is sympy.E:
            return "e"
        if isinstance(node, sympy.Symbol):
            return _symbol_name(node.name)
        if isinstance(node, sympy.Add):
            return self._add(node)
        if isinstance(node, sympy.Mul):
            return self._mul(node)
        if isinstance(node, sympy.Pow):
            return self._pow(node)
        if isinstance(node, sympy.Function) and type(node).__name__ in _PRINTED_FUNCTIONS:
            if len(node.args) != 1:
                raise _Refused(f"{type(node).__name__} with {len(node.args)} arguments is not read")
            return f"{_PRINTED_FUNCTIONS[type(node).__name__]}({self.print(node.args[0])})"
        name = type(node).__name__
        if name == "Tree":
            raise _Refused("the formula is ambiguous to SymPy's LaTeX parser")
        if name == "Sum":
            raise _Refused("\\sum with a symbolic range is outside the expression language"
                           if not all(getattr(b, "is_number", False) for b in node.args[1][1:])
                           else "\\sum is not translated (expand it by hand)")
        raise _Refused(f"{name} is outside the expression language")

    def _add(self, node) -> str:
        parts = []
        for index, term in enumerate(node.as_ordered_terms()):
            text = self.print(term)
            if index and text.startswith("-"):
                parts.append(f"- {text[1:]}")
            elif index:
                parts.append(f"+ {text}")
            else:
                parts.append(text)
        return " ".join(parts)

    def _mul(self, node) -> str:
        import sympy
        numerator, denominator = [], []
        sign = ""
        for factor in node.as_ordered_factors():
            if factor == -1:
                sign = "-" if not sign else ""
                continue
            if isinstance(factor, sympy.Pow) and factor.exp == -1:
                denominator.append(self._factor(factor.base))
            elif isinstance(factor, sympy.Pow) and factor.exp.is_number and factor.exp < 0:
                denominator.append(self._factor(sympy.Pow(factor.base, -factor.exp, evaluate=False)))
            elif isinstance(factor, sympy.Rational) and not isinstance(factor, sympy.Integer):
                if factor.p != 1:
                    numerator.append(str(factor.p))
                denominator.append(str(factor.q))
            else:
                numerator.append(self._factor(factor))
        text = "*".join(numerator) or "1"
        if denominator:
            text += "/" + ("(" + "*".join(denominator) + ")" if len(denominator) > 1 else denominator[0])
        return sign + text

    def _pow(self, node) -> str:
        import sympy
        base, exponent = node.base, node.exp
        if exponent == sympy.Rational(1, 2):
            return f"sqrt({self.print(base)})"
        if exponent == -1:
            return f"1/{self._factor(base)}"
        if exponent.is_number and exponent < 0:
            positive = sympy.Pow(base, -exponent, evaluate=False)
            return f"1/{self._factor(positive)}"
        if isinstance(base, sympy.Symbol) and base.name == "e":
            return f"exp({self.print(exponent)})"
        return f"{self._factor(base, power=True)}**{self._factor(exponent, power=True)}"

    def _factor(self, node, power: bool = False) -> str:
        import sympy
        text = self.print(node)
        atomic = isinstance(node, (sympy.Symbol, sympy.Function)) or node in (sympy.pi, sympy.E) or (
            isinstance(node, sympy.Integer) and node >= 0) or (
            isinstance(node, sympy.Float) and node >= 0)
        if power and isinstance(node, sympy.Pow):
            atomic = False
        if isinstance(node, sympy.Pow) and not power:
            atomic = not text.startswith("1/")
        return text if atomic else f"({text})"


def _float_text(node) -> str:
    text = f"{float(node):.15g}"
    return text if not text.startswith("-") else f"({text})"


def _symbol_name(raw: str) -> str:
    if raw in _RESERVED:
        return _RESERVED[raw]
    name = raw.replace("{", "").replace("}", "").replace("\\", "")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) or name.startswith("__"):
        raise _Refused(f"symbol {raw!r} cannot be a variable name")
    return name
