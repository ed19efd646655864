"""One formula's LaTeX to diffcheck expression text, or a reason why not.

`translate` refuses what cannot be read cheaply (unknown macros, derivative
notation, stand-ins), reads atoms and formulas that are already expression text
directly (SymPy's Earley parser costs tens of ms a call), expands sums and
products over explicit ranges, and leaves the rest to the SymPy route in
`latexsympy`: SymPy's LaTeX parser (lark backend) and an allowlist printer.
Nothing is sympified and nothing is evaluated but arithmetic on the literal
numbers written in the formula.
"""

from __future__ import annotations

import functools
import re

from diffcheck.errors import DiffcheckError
from diffcheck.language.expr import to_text
from diffcheck.language.parser import parse
from diffcheck.reading.latexsympy import GREEK, HAT, STAND_INS, Translation, via_sympy
from diffcheck.language.expr import evaluate

MAX_FORMULA = 2_000

_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_PLAIN_SYMBOL = re.compile(r"[A-Za-z](?:_\{?[A-Za-z0-9]+\}?)?")
_MACRO = re.compile(r"\\([A-Za-z]+)")
#: LaTeX macros a formula may use; any other is refused by name before parsing.
KNOWN_MACROS = frozenset(GREEK + """frac dfrac tfrac cdot times ast sqrt exp ln log sin cos tan tanh sigma
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
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_DERIVATIVE_INSIDE = re.compile(r"[A-Za-z)]'|\\frac\{\s*(?:d|\\partial)|\\partial|\\nabla")


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
    # Atoms and refusals that need no parse: SymPy's Earley parser costs tens of ms a call.
    early = _refused(latex) or _atom(latex)
    if early is not None:
        return early
    if "[" in latex and "," not in latex and "\\sqrt[" not in latex:
        # square brackets group in LaTeX ("\\frac{d}{dx}[x^2]"); with commas they are vectors
        latex = re.sub(r"\\(?:left|right|big|Big|bigg|Bigg)\s*(?=[\[\]])", "", latex)
        latex = latex.replace("[", "(").replace("]", ")")
    direct = _already_in_language(latex)
    if direct is not None:
        return Translation(expression=direct)
    for big in ("\\sum", "\\prod"):
        if big in latex:
            return _big_operator(latex, big, functions)
    return via_sympy(latex, functions)


def _refused(latex: str) -> Translation | None:
    """The reason a formula is not read, found without parsing it; None if there is none yet."""
    if not latex:
        return Translation(reason="empty formula")
    if len(latex) > MAX_FORMULA:
        return Translation(reason=f"formula longer than {MAX_FORMULA} characters")
    for _, (macro, _, _) in STAND_INS.items():
        if macro in latex:
            return Translation(reason=f"{macro} is not read (it stands in for another function here)")
    named = _NAMED_FUNCTION.search(latex)
    if named:
        return Translation(reason=f"{named.group(1)}(...) reads as a named function (Bessel J_0, Legendre P_n, "
                                  "...) that the expression language does not have")
    return None


#: A capital letter with a subscript applied to an argument with no space (J_0(x),
#: P_{n}(x)): the notation of special functions, not a product.
_NAMED_FUNCTION = re.compile(r"(?<![A-Za-z\\])([A-Z]_(?:\{[A-Za-z0-9]+\}|[A-Za-z0-9]))\(")


def _atom(latex: str) -> Translation | None:
    """A plain number or symbol as its translation, or a refusal found by a cheap scan; else None."""
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
    return None


def _big_operator(latex: str, big: str, functions: frozenset) -> Translation:
    """A formula with `\\sum` or `\\prod`: expanded when its range is explicit, then translated."""
    bound = re.search(re.escape(big) + r"_\{?[^}]*\}?\^\{?([^}\s]+)", latex)
    if bound is None or not bound.group(1).isdigit():
        return Translation(reason=f"{big} with a symbolic range is outside the expression language")
    expanded = expand_sum(latex)
    if isinstance(expanded, Translation):
        return expanded
    return _translate(expanded, functions)


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
    text = re.sub(r"_\{([A-Za-z0-9]+)\}", r"_\1 ", HAT.sub(r"\2_\1 ", latex))
    text = re.sub(r"\\(?:left|right)(?![A-Za-z])", "", text)
    text = re.sub(r"\\(?:cdot|times)(?![A-Za-z])", "*", text).replace("\\dfrac", "\\frac")
    # "xy" is x times y in LaTeX; a run of letters that names an op ("exp(" in plain text) stays a call
    text = _LETTER_RUN.sub(lambda m: m.group(1) if m.group(1) in _OP_NAMES else "*".join(m.group(1)), text)
    for name in re.findall(r"\\?[A-Za-z][A-Za-z0-9_]*", text):
        if name.startswith("\\"):
            if name[1:] not in _FAST_MACROS and name[1:] not in GREEK:
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
    text = re.sub(r"\\(" + "|".join(GREEK) + r"|pi)(?![A-Za-z])", r"\1", text)
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

    try:
        value = float(evaluate(tree, {}))
    except (DiffcheckError, ArithmeticError, ValueError, TypeError):
        return None
    if not math.isfinite(value):
        return None
    return f"{value:.12g}" if value >= 0 else f"({value:.12g})"

