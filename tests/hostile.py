"""Hostile inputs for diffcheck, shared by the fuzz tests and ``benchmarks/fuzz_inputs.py``.

Generators take a :class:`random.Random` (Hypothesis supplies one through
``st.randoms()``, the long run its own), so the CI tests and the long run draw
from the same grammar.  Runners push one input through the parser, the case
loader or ``check_expr`` and return its outcome; anything but diffcheck's own
errors escaping them, or an error message that does not say where, raises
:class:`Escaped`.

A :class:`Sentinel` plants a module whose import writes a marker file; payloads
that would import it, open the marker or run a shell command are mixed into
the inputs, and ``triggered()`` says whether any of it ever ran.
"""

from __future__ import annotations

import math
import random
import re
import sys
from pathlib import Path

import numpy as np

from diffcheck.documents.catalogue import load
from diffcheck.errors import CaseFileError, DiffcheckError, ExpressionError
from diffcheck.checking.harness import OUTCOMES, check_expr
from diffcheck.language.ops import OPS
from diffcheck.language.parser import parse

#: Names Python, SymPy, mpmath, NumPy or torch give a meaning to: as variables
#: they must work as plain variables, or be refused with a message.
COLLIDING_NAMES = [
    "print", "open", "eval", "exec", "compile", "getattr", "globals", "vars", "input",
    "exit", "help", "breakpoint", "type", "object", "builtins", "os", "sys", "self",
    "Symbol", "Integer", "Float", "Rational", "S", "sympify", "Lambda", "Function", "Dummy",
    "E", "I", "oo", "zoo", "nan", "pi", "e", "N", "Q", "Abs", "Piecewise", "Eq", "Matrix",
    "lambdify", "mpf", "mpmath", "np", "numpy", "torch", "sp", "math", "inf", "t",
    "exp", "sin", "log", "sum", "max", "gamma", "beta", "lambda_", "_", "_x",
]
#: Names that are refused as variables, with the message naming why.
REFUSED_NAMES = ["__import__", "__builtins__", "__class__", "None", "True", "False", "lambda",
                 "import", "if", "x.y", "x[0]", "1x", "x-y", "x y", "", "ｘ", "é"]

OPERATORS = ["+", "-", "*", "/", "**", "@", "%", "//", "<<", "|", "&", "^", "==", " and ", " if "]
NUMBERS = ["0", "1", "2", "0.5", "-3", "1e-310", "1e200", "1e100", "1e101", "9" * 120,
           "1e999", "0x10", "1_000", "2**1025", "2**2**2**10", "10**400", "1j", "0.1"]
LOOKALIKES = ["ｘ", "ｓｉｎ", "𝑥", "ℯxp", "е", "х", "＿＿import＿＿", "\u200bx", "x\u00a0", "−"]
MUTATION_FRAGMENTS = ["(", ")", "[", "]", ",", "'", '"', "\\", "#", "\n", ".", ":", "=", "{",
                      "}", "**", "__", "lambda", "*", "@", "\x00", "\t", "f'", "%s", "0" * 30]
POINT_VALUES = [0.0, 1.0, -1.0, 0.5, 2.0, -2.0, 3.0, 1e-310, -1e-310, 1e-200, 1e200, -1e200,
                1e308, math.pi / 2, float("nan"), float("inf"), float("-inf"), 700.0, -700.0]


class Escaped(AssertionError):
    """Something other than a clear diffcheck error came out of diffcheck."""


class Sentinel:
    """A side effect that happens only if planted text is ever executed."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.module = f"diffcheck_fuzz_sentinel_{random.Random().getrandbits(40):010x}"
        self.marker = self.directory / "SENTINEL_TRIGGERED"
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / f"{self.module}.py").write_text(
            f"open({str(self.marker)!r}, 'w').write('imported')\n", encoding="utf-8")
        sys.path.insert(0, str(self.directory))

    def payloads(self) -> list[str]:
        m, f = self.module, str(self.marker)
        return [
            f"__import__('{m}')",
            f"__import__('os').system('touch {f}')",
            f"open('{f}', 'w').write('x')",
            f"exec('import {m}')",
            f"eval(\"__import__('{m}')\")",
            f"f\"{{__import__('{m}')}}\"",
            f"'%s' % __import__('{m}')",
            f"'{{0.__class__}}'.format(__import__('{m}'))",
            f"().__class__.__bases__[0].__subclasses__()",
            f"x.__class__.__init__.__globals__['sys'].modules",
            f"[c for c in ().__class__.__base__.__subclasses__()]",
            f"(lambda: __import__('{m}'))()",
            f"sympify(\"__import__('{m}')\")",
            f"Lambda(x, __import__('{m}'))",
            f"getattr(__builtins__, '__import__')('{m}')",
            f"print(open('{f}', 'w'))",
            f"breakpoint()",
            f"import {m}",
            f"x if __import__('{m}') else x",
            f"(y := __import__('{m}'))",
            f"sin(__import__('{m}'))",
            f"x + __import__('{m}').x",
        ]

    def triggered(self) -> bool:
        return self.marker.exists() or self.module in sys.modules

    def close(self) -> None:
        if str(self.directory) in sys.path:
            sys.path.remove(str(self.directory))


# --- generators -------------------------------------------------------------------


def expression(rnd: random.Random, names: list[str], hostile: list[str], depth: int = 4) -> str:
    """Expression text in diffcheck's grammar, with leaves drawn from ``names``,
    numbers, constants and (sometimes) ``hostile`` text."""
    roll = rnd.random()
    if depth <= 0 or roll < 0.3:
        leaf = rnd.random()
        if leaf < 0.55:
            return rnd.choice(names)
        if leaf < 0.8:
            return rnd.choice(NUMBERS[:9] if rnd.random() < 0.8 else NUMBERS)
        if leaf < 0.88:
            return rnd.choice(["pi", "e", "[1, 2]", "[[1, 2], [3, 4]]"])
        if leaf < 0.94:
            return rnd.choice(LOOKALIKES)
        return rnd.choice(hostile or names)
    if roll < 0.6:
        op = rnd.choice(OPERATORS[:6] if rnd.random() < 0.9 else OPERATORS)
        left, right = (expression(rnd, names, hostile, depth - 1) for _ in range(2))
        return f"({left}{op}{right})" if rnd.random() < 0.5 else f"{left} {op} {right}"
    if roll < 0.65:
        return "-" + expression(rnd, names, hostile, depth - 1)
    name = rnd.choice(list(OPS)) if rnd.random() < 0.9 else rnd.choice(COLLIDING_NAMES)
    arity = OPS[name].arity if name in OPS else rnd.randint(0, 2)
    args = [expression(rnd, names, hostile, depth - 1) for _ in range(arity)]
    if name in ("sum", "mean") and rnd.random() < 0.2:
        args.append(rnd.choice(["axis=0", "axis=None", "axis=1.5", "axis=x"]))
    if name in ("leaky_relu", "elu") and rnd.random() < 0.3:
        args.append(rnd.choice(["0.2", "alpha=0.1", "alpha=x", "alpha=1e999"]))
    return f"{name}({', '.join(args)})"


def mutate(rnd: random.Random, text: str, fragments: list[str] = MUTATION_FRAGMENTS) -> str:
    """``text`` with a few characters inserted, deleted, replaced or duplicated."""
    for _ in range(rnd.randint(1, 4)):
        i = rnd.randint(0, len(text))
        kind = rnd.randrange(5)
        if kind == 0:
            text = text[:i] + rnd.choice(fragments) + text[i:]
        elif kind == 1:
            text = text[:i] + text[i + rnd.randint(1, 3):]
        elif kind == 2:
            text = text[:i] + chr(rnd.choice([rnd.randint(32, 126), rnd.randint(0, 0x2FFF)])) + text[i + 1:]
        elif kind == 3:
            j = rnd.randint(i, len(text))
            text = text[:j] + text[i:j] + text[j:]
        else:
            text = text[:i] + rnd.choice(LOOKALIKES) + text[i:]
    return text


def random_text(rnd: random.Random, length: int = 40) -> str:
    alphabet = "xyz()[]+-*/@.,_ 0123456789eE'\"#\\:=%{}<>!~^&|\n" + "ｘé−\u200b\x00"
    return "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, length)))


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F or 0xD800 <= ord(char) <= 0xDFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def case_file(rnd: random.Random, hostile: list[str]) -> str:
    """A case file: mostly well-formed, with hostile names, expressions and values."""
    lines = ['format = 1', 'document = "doc.txt"']
    for number in range(rnd.randint(1, 3)):
        names = rnd.sample(COLLIDING_NAMES + ["x", "y", "w"], 2)
        if rnd.random() < 0.15:
            names[0] = rnd.choice(REFUSED_NAMES)
        value = rnd.choice(["1.5", "-2", "[1.0, 2.0]", "[[1, 2], [3, 4]]", '"0.5"', "nan",
                            "inf", "1e-310", "1e200", toml_string(rnd.choice(hostile + ["[1, 2]"]))])
        variables = ", ".join(f"{toml_string(n)} = {value if i == 0 else '2.0'}"
                              for i, n in enumerate(names))
        text = expression(rnd, names, hostile, depth=3)
        lines += ["", "[[case]]",
                  f"name = {toml_string(rnd.choice([f'c{number}', 'a b', '../x', '<b>', 'c' * 120]))}",
                  'where = "Slide 1"',
                  f"expression = {toml_string(text)}",
                  f"variables = {{ {variables} }}"]
        if rnd.random() < 0.3:
            lines.append(f"define = {{ d = {toml_string(expression(rnd, names, hostile, 2))} }}")
        if rnd.random() < 0.3:
            lines.append(f"wrt = [{toml_string(rnd.choice(names + ['nope']))}]")
        if rnd.random() < 0.3:
            lines += ["[[case.claim]]", 'kind = "value"',
                      f"claimed = {toml_string(rnd.choice(['1.0', 'tensor(2.)', '1e999', rnd.choice(hostile)]))}"]
    return "\n".join(lines) + "\n"


def point(rnd: random.Random, names: list[str]) -> dict[str, float]:
    return {name: rnd.choice(POINT_VALUES) for name in names}


# --- runners ----------------------------------------------------------------------

_COLUMN = re.compile(r", column (\d+): ")


def _check_message(err: DiffcheckError, where: str, text: str | None = None) -> None:
    message = str(err)
    if "\n" in message:
        raise Escaped(f"multi-line error message: {message!r}")
    if not message.startswith(where):
        raise Escaped(f"error does not name {where!r}: {message!r}")
    if isinstance(err, ExpressionError) and err.column is not None and text is not None:
        if not 1 <= err.column <= len(text) + 1:
            raise Escaped(f"column {err.column} outside the text ({len(text)} chars): {message!r}")
        if f", column {err.column}: " not in message:
            raise Escaped(f"column not shown: {message!r}")


def try_parse(text: str, names: list[str], where: str = "expression"):
    """``("parsed", tree)`` or ``("refused", error)``; raises :class:`Escaped` otherwise."""
    try:
        return "parsed", parse(text, names, where=where)
    except DiffcheckError as err:
        _check_message(err, where, text.strip())
        return "refused", err
    except Exception as err:  # noqa: BLE001 - the point of the runner
        raise Escaped(f"parse({text!r}) raised {type(err).__name__}: {err}") from err


def try_load(path: Path) -> tuple[int, int]:
    """Load a case file; returns (cases loaded, errors reported)."""
    try:
        loaded = load(path)
    except Exception as err:  # noqa: BLE001 - load() collects errors, never raises
        raise Escaped(f"load() raised {type(err).__name__}: {err}") from err
    for err in loaded.errors:
        if not isinstance(err, CaseFileError):
            raise Escaped(f"load() reported a {type(err).__name__}: {err}")
        _check_message(err, str(path))
        if "case '" not in str(err) and "case '#" not in str(err) and _case_level(err):
            raise Escaped(f"a case-level error does not name its case: {err}")
    return len(loaded.cases), len(loaded.errors)


def _case_level(err: CaseFileError) -> bool:
    return any(word in str(err) for word in ("field expression", "field variables", "field define"))


def try_check(text: str, at: dict, backends=None) -> str:
    """The verdict of ``check_expr``, or ``"refused"``; raises :class:`Escaped` otherwise."""
    try:
        result = check_expr(text, at, backends=backends)
    except DiffcheckError as err:
        _check_message(err, "")
        return "refused"
    except Exception as err:  # noqa: BLE001 - the point of the runner
        raise Escaped(f"check_expr({text!r}, {at!r}) raised {type(err).__name__}: {err}") from err
    if result.verdict not in OUTCOMES:
        raise Escaped(f"unknown verdict {result.verdict!r}")
    for name, gradient in result.results.items():
        for values in gradient.gradients.values():
            if np.asarray(values).dtype.kind != "f":
                raise Escaped(f"{name} returned {values!r}, not floats")
    return result.verdict
