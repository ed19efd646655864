"""One formula's LaTeX to diffcheck expression text, or a reason why not.

SymPy's LaTeX parser (lark backend) reads the algebra; this module only prepares
the text for it and prints the tree it returns.  Preparation covers what the
grammar lacks or misreads: `\\sigma(z)` and `\\tanh` (stand-in functions the
printer maps back), `\\pi`, `\\hat{y}`, `\\times`, `\\left`/`\\right`, and explicit
products where the grammar would bind a function to the factor after it
(`\\sigma(z)(1 - \\sigma(z))`).  The printer walks the SymPy tree and accepts only
an allowlist of node types; the text it prints is then validated by diffcheck's
own parser.  Nothing is sympified and nothing is evaluated but the parser's own
arithmetic on the literal numbers written in the formula.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from diffcheck.errors import DiffcheckError
from diffcheck.language.expr import to_text
from diffcheck.language.parser import parse

MAX_FORMULA = 2_000

# Stand-ins: functions the grammar knows and teaching documents about derivatives
# do not use, printed back as the function they stand for.  A formula that uses a
# stand-in itself is refused rather than misread.
_STAND_INS = {"\\sigma": ("\\arcsec", "asec", "sigmoid"), "\\tanh": ("\\arccsc", "acsc", "tanh")}
for _wrapper in ("operatorname", "mathrm", "text", "textrm", "mathit"):
    for _name, _stand_in in (("sigmoid", ("\\arcsec", "asec", "sigmoid")), ("ReLU", ("\\arccot", "acot", "relu")),
                             ("relu", ("\\arccot", "acot", "relu")), ("softplus", ("\\arsinh", "asinh", "softplus")),
                             ("Softplus", ("\\arsinh", "asinh", "softplus"))):
        _STAND_INS[f"\\{_wrapper}{{{_name}}}"] = _stand_in
_PRINTED_FUNCTIONS = {"exp": "exp", "log": "log", "sin": "sin", "cos": "cos", "tan": "tan",
                      "Abs": "abs", "asec": "sigmoid", "acsc": "tanh", "acot": "relu", "asinh": "softplus"}
_GRAMMAR_FUNCTIONS = ("\\exp", "\\ln", "\\log", "\\sin", "\\cos", "\\tan")
_RESERVED = {"Q_{Qpi}": "pi"}

_SPACING = re.compile(r"\\(?:left|right|big|Big|bigg|Bigg)(?![A-Za-z])|\\[,;:! ]|\\quad|\\qquad|\\displaystyle|&")
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_PLAIN_SYMBOL = re.compile(r"[A-Za-z](?:_\{?[A-Za-z0-9]+\}?)?")
_MACRO = re.compile(r"\\([A-Za-z]+)")
_GREEK = ("alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi "
          "rho varrho tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Phi Psi Omega").split()
#: LaTeX macros a formula may use; any other is refused by name before parsing.
KNOWN_MACROS = frozenset(_GREEK + """frac dfrac tfrac cdot times ast sqrt exp ln log sin cos tan tanh sigma
    pi left right big Big bigg Bigg quad qquad displaystyle hat bar tilde text mathrm mathit operatorname
    partial nabla sum prod""".split())
_DIRECT_TEXT = re.compile(r"[A-Za-z0-9_{}()+\-*/^.\s]+")
_TEX_ONLY_TOKENS = re.compile(r"[\^_](?![{(])\s*[A-Za-z0-9]{2,}|\^\s*(?:[^{(\s]|\{[^}]*\})\s*\^")
_FAST_FUNCTIONS = {"sigma": "sigmoid", "exp": "exp", "ln": "log", "log": "log", "sin": "sin", "cos": "cos",
                   "tan": "tan", "tanh": "tanh"}
_FAST_MACROS = frozenset(_FAST_FUNCTIONS) | {"frac", "sqrt", "pi"}
_LETTER_RUN = re.compile(r"(?<![\\A-Za-z0-9_])([A-Za-z]{2,4})(?![A-Za-z0-9_])")
_OP_NAMES = frozenset("exp log sqrt sin cos tan tanh relu elu abs max min sum mean dot".split())
_ONE_LETTER = re.compile(r"[A-Za-z](?:_[A-Za-z0-9]+)?")
#: Letters that conventionally name functions: `f(x)` is an application, not a product.
FUNCTION_LETTERS = frozenset("fghFGH")
_APPLIED = re.compile(r"(?<![A-Za-z\\])((?:[A-Za-z]|\\(?:" + "|".join(_GREEK) + r"))(?:_\{?[A-Za-z0-9]+\}?)?)\s*\(")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_DERIVATIVE_INSIDE = re.compile(r"[A-Za-z)]'|\\frac\{\s*(?:d|\\partial)|\\partial|\\nabla")
_HAT = re.compile(r"\\(hat|bar|tilde)\{([A-Za-z])\}")
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


def translate(latex: str, functions: frozenset = frozenset()) -> Translation:
    """Translate one side of a formula (no `=`) to diffcheck expression text.

    `functions` are names the document defines as functions (`k(z) = ...`): `k(z)`
    is then an application, refused, rather than the product k * z."""
    return _translate(normalise_unicode(latex).strip(), frozenset(functions))


_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_UNICODE_MATH = {"∂": "\\partial ", "∇": "\\nabla ", "σ": "\\sigma ", "η": "\\eta ", "α": "\\alpha ",
                 "θ": "\\theta ", "λ": "\\lambda ", "π": "\\pi ", "·": "\\cdot ", "⋅": "\\cdot ",
                 "×": "\\times ", "−": "-", "–": "-", "√": "\\sqrt ", "←": "\\leftarrow ", "≈": "\\approx "}


def normalise_unicode(text: str) -> str:
    """Plain-text and pasted math as LaTeX: `x²` -> `x^{2}`, `∂f/∂x` -> `\\partial f/\\partial x`,
    mathematical italic letters (`𝑦`) -> `y`."""
    if text.isascii():
        return text
    import unicodedata
    text = re.sub(r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+", lambda m: "^{" + m.group(0).translate(_SUPERSCRIPTS) + "}", text)
    text = "".join(_UNICODE_MATH.get(c, c) for c in text)
    return unicodedata.normalize("NFKC", text)


@functools.lru_cache(maxsize=4096)
def _translate(latex: str, functions: frozenset = frozenset()) -> Translation:
    if not latex:
        return Translation(reason="empty formula")
    if len(latex) > MAX_FORMULA:
        return Translation(reason=f"formula longer than {MAX_FORMULA} characters")
    for _, (macro, _, _) in _STAND_INS.items():
        if macro in latex:
            return Translation(reason=f"{macro} is not read (it stands in for another function here)")
    # Atoms and refusals that need no parse: SymPy's Earley parser costs tens of ms a call.
    if _PLAIN_NUMBER.fullmatch(latex):
        return Translation(expression=latex if not latex.startswith("-") else f"({latex})") \
            if float(latex) == float(latex) else Translation(reason="not a number")
    if _PLAIN_SYMBOL.fullmatch(latex) and latex != "e":
        return Translation(expression=latex.replace("{", "").replace("}", ""))
    unknown = [m for m in _MACRO.findall(latex) if m not in KNOWN_MACROS]
    if unknown:
        return Translation(reason=f"\\{unknown[0]} is not read")
    if _CONTROL.search(latex):
        return Translation(reason="control characters in the formula (a backslash lost in an export?)")
    if _DERIVATIVE_INSIDE.search(latex):   # cheap refusal before the slow parser
        return Translation(reason="derivative notation inside an expression is not read")
    if "[" in latex and "," not in latex and "\\sqrt[" not in latex:
        # square brackets group in LaTeX ("\\frac{d}{dx}[x^2]"); with commas they are vectors
        latex = re.sub(r"\\(?:left|right|big|Big|bigg|Bigg)\s*(?=[\[\]])", "", latex)
        latex = latex.replace("[", "(").replace("]", ")")
    direct = _already_in_language(latex)
    if direct is not None:
        return Translation(expression=direct)
    for big in ("\\sum", "\\prod"):
        if big in latex:
            bound = re.search(re.escape(big) + r"_\{?[^}]*\}?\^\{?([^}\s]+)", latex)
            if bound is None or not bound.group(1).isdigit():
                return Translation(reason=f"{big} with a symbolic range is outside the expression language")
            expanded = expand_sum(latex)
            if isinstance(expanded, Translation):
                return expanded
            return _translate(expanded, functions)
    return via_sympy(latex, functions)


_SUM = re.compile(r"^\\(sum|prod)_\{\s*([a-z])\s*=\s*(\d+)\s*\}\^\{?\s*(\d+)\s*\}?\s*(.+)$", re.S)
MAX_SUM_TERMS = 50


def expand_sum(latex: str) -> str | Translation:
    """`\\sum_{i=1}^{3} x_i^2` -> `(x_1^2) + (x_2^2) + (x_3^2)`: a leading sum or product
    over an explicit range whose summand is one term or one bracketed group (where
    the summand ends is otherwise a matter of convention)."""
    match = _SUM.match(latex.strip())
    if not match:
        return Translation(reason="\\sum or \\prod that does not start the formula is not expanded")
    kind, index, low, high, summand = match.groups()
    low, high = int(low), int(high)
    if not 0 < high - low + 1 <= MAX_SUM_TERMS:
        return Translation(reason=f"\\{kind} over {high - low + 1} terms is not expanded")
    if _top_level_sign(summand):
        return Translation(reason=f"where the \\{kind}'s summand ends is ambiguous; bracket it")
    token = re.compile(r"(?<![A-Za-z\\])" + index + r"(?![A-Za-z])")
    terms = [token.sub(str(k), re.sub(r"_\{\s*" + index + r"\s*\}", "_" + str(k), summand))
             for k in range(low, high + 1)]
    return (" + " if kind == "sum" else " \\cdot ").join(f"\\left({t}\\right)" for t in terms)


def _top_level_sign(text: str) -> bool:
    depth = 0
    for position, char in enumerate(text):
        if char in "({[":
            depth += 1
        elif char in ")}]":
            depth -= 1
        elif char in "+-" and depth == 0 and position > 0:
            return True
    return False


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


def _already_in_language(latex: str) -> str | None:
    """Formulas that are expression text once `^` is `**`, braces are parentheses,
    `\\cdot` is `*`, `\\frac{a}{b}` is `((a)/(b))` and `\\sigma(`, `\\exp(`, `\\ln(`...
    are calls (`\\frac{1}{1 + e^{-z}}`), checked by diffcheck's parser; else None
    and SymPy's parser reads the formula.  Only one-letter names (`w_1`, Greek
    letters allowed), because `xy` is a product in LaTeX and one name in the language;
    `2x`, `\\sin x` or `f(x)` fail the parser and go to SymPy's.  A test holds the two
    routes to the same value on formulas of each shape."""
    # TeX takes one token as a superscript or subscript: "x^2y" is x^{2} y, "x_1x_2" is x_{1} x_{2}
    latex = re.sub(r"([\^_])\s*([A-Za-z0-9])(?=\s*[A-Za-z\\])", r"\1{\2}", latex)
    if _TEX_ONLY_TOKENS.search(latex):     # x^23 is x^2 * 3, x_12 is x_1 * 2, x^2^3 is an error
        return None
    text = re.sub(r"_\{([A-Za-z0-9]+)\}", r"_\1 ", _HAT.sub(r"\2_\1 ", latex))
    text = re.sub(r"\\(?:left|right)(?![A-Za-z])", "", text)
    text = re.sub(r"\\(?:cdot|times)(?![A-Za-z])", "*", text).replace("\\dfrac", "\\frac")
    # "xy" is x times y in LaTeX; a run of letters that names an op ("exp(" in plain text) stays a call
    text = _LETTER_RUN.sub(lambda m: m.group(1) if m.group(1) in _OP_NAMES else "*".join(m.group(1)), text)
    for name in re.findall(r"\\?[A-Za-z][A-Za-z0-9_]*", text):
        if name.startswith("\\"):
            if name[1:] not in _FAST_MACROS and name[1:] not in _GREEK:
                return None
        elif not _ONE_LETTER.fullmatch(name) and name not in _OP_NAMES:
            return None
    while True:                          # innermost groups first: exponents, then fractions
        text, count = re.subn(r"\^\s*\{([^{}]*)\}", r"^(\1)", text)
        text, more = re.subn(r"\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r"((\1)/(\2))", text)
        if not count and not more:
            break
    calls = "|".join(_FAST_FUNCTIONS)
    text = re.sub(r"\\(" + calls + r")\s*(?=\()", lambda m: _FAST_FUNCTIONS[m.group(1)], text)
    text = re.sub(r"\\sqrt\s*\{", "sqrt{", text)
    text = re.sub(r"\\(" + "|".join(_GREEK) + r"|pi)(?![A-Za-z])", r"\1", text)
    if "\\" in text or not _DIRECT_TEXT.fullmatch(text):
        return None
    # "3x", "2(x + 1)", "(x + 1)(x - 1)": products LaTeX writes without a sign
    text = re.sub(r"(?<![_A-Za-z0-9.])(\d+(?:\.\d+)?)\s*(?=[A-Za-z({])", r"\1*", text)
    text = re.sub(r"([)}])\s*(?=[({A-Za-z])", r"\1*", text)
    text = re.sub(r"(_[A-Za-z0-9]+)\s+(?=[A-Za-z(])", r"\1*", text)      # "x_1 x_2": a product
    text = " ".join(text.replace("^", "**").replace("{", "(").replace("}", ")").split())
    variables = sorted({n for n in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)} - set(_FAST_FUNCTIONS.values())
                       - _OP_NAMES - {"sigmoid", "e", "pi"})
    try:
        tree = parse(text, variables)
    except DiffcheckError:
        return None
    if not variables:                    # numbers only ("3*9 + 12 + 2"): the side's value
        return _value_text(tree)
    return to_text(tree)


def _value_text(tree) -> str | None:
    import math

    from diffcheck.language.expr import evaluate
    try:
        value = float(evaluate(tree, {}))
    except (DiffcheckError, ArithmeticError, ValueError, TypeError):
        return None
    if not math.isfinite(value):
        return None
    return f"{value:.12g}" if value >= 0 else f"({value:.12g})"


def prepare(latex: str, functions: frozenset = frozenset()) -> str | Translation:
    """The formula rewritten for the lark grammar, or a Translation with the reason."""
    text = _SPACING.sub(" ", latex).replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    text = text.replace("\\times", "\\cdot").replace("*", " \\cdot ").replace("\\ast", "\\cdot")
    text = text.replace("\\pi", " Q_{Qpi} ")
    text = _HAT.sub(lambda m: f"{m.group(2)}_{{{m.group(1)}}}", text)
    for name, (macro, _, _) in _STAND_INS.items():
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
    from diffcheck.language.ops import CONSTANTS, OPS
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
