"""Formula text, before any meaning: statements, sides and the names in them.

A math block is split into statements (rows of an `align`, `\\rightarrow`,
`\\quad`, connective `\\text{...}`, top-level commas; `where` clauses first) and
each statement into the sides of its chain of equalities.  The patterns here
recognise derivative notation and names; `mathfinder` gives them meaning.
Nothing here evaluates anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from diffcheck.reading.document import Block, Location
from diffcheck.reading.latexexpr import normalise_unicode
from diffcheck.language.ops import CONSTANTS, OPS

NAME = r"(?:\\(?:hat|bar|tilde)\{[A-Za-z]\}|[A-Za-z]|\\[A-Za-z]+)(?:_\{?[A-Za-z0-9]+\}?)?"
DIFFERENTIAL = r"(?:d|\\partial|\\mathrm\{d\}|∂)"
ORDER = r"(?:\^\{?(\d)\}?)?"
DERIVATIVE_FORMS = [
    # \frac{d}{dx} body, \frac{\partial^2}{\partial x^2} body
    ("operator", re.compile(r"\\frac\{\s*" + DIFFERENTIAL + ORDER + r"\s*\}\{\s*" + DIFFERENTIAL + r"\s*(" + NAME + r")"
                            + r"(?:\^\{?\d\}?)?\s*\}\s*(.+)$", re.S)),
    # \frac{dy}{dx}, \frac{\partial f(x, y)}{\partial x}
    ("of", re.compile(r"\\frac\{\s*" + DIFFERENTIAL + ORDER + r"\s*(" + NAME + r")\s*(?:\([^)]*\))?\s*\}\{\s*"
                      + DIFFERENTIAL + r"\s*(" + NAME + r")(?:\^\{?\d\}?)?\s*\}$")),
    # dy/dx, \partial L / \partial w
    ("of", re.compile(DIFFERENTIAL + ORDER + r"\s*(" + NAME + r")\s*/\s*" + DIFFERENTIAL
                      + r"\s*(" + NAME + r")$")),
    # f'(x), f''(x)
    ("prime", re.compile(r"(" + NAME + r")\s*('+|\^\{?\\prime\}?)\s*(?:\(\s*(" + NAME
                         + r"|-?\d+(?:\.\d+)?)\s*\))?$")),
    # \nabla f, \nabla_w L, \nabla f(x)
    ("nabla", re.compile(r"\\nabla\s*(?:_\{?(" + NAME + r")\}?)?\s*(" + NAME + r")\s*(?:\(([^)]*)\))?$")),
]
DEFINED = re.compile(r"(" + NAME + r"|\\(?:hat|bar|tilde)\{[A-Za-z]\}|[A-Za-z]{2,}"
                      r"|\\(?:text|mathrm|operatorname)\{[A-Za-z]+\})\s*(?:\(([^()]*)\))?$")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
MATRIX = re.compile(r"\\begin\{([bpvBV]?matrix)\}(.*?)\\end\{\1\}", re.S)
UPDATE = re.compile(r"^(.+?)\s*(?:\\leftarrow|\\gets|:=|←)\s*(.+)$", re.S)
STEP = re.compile(r"^\s*(" + NAME + r")\s*-\s*(\\eta|\\alpha|\\lambda|\\gamma|lr|\d+(?:\.\d+)?)\s*"
                   r"(?:\\cdot|\\times|\*)?\s*(.+)$", re.S)
RELATIONS = re.compile(r"\\(?:leq|geq|le|ge|neq|ne|lt|gt|in|to|mapsto|approx)(?![A-Za-z])|[<>]")
STATEMENT_BREAK = re.compile(r"\\(?:rightarrow|Rightarrow|longrightarrow|Longrightarrow|implies|iff|quad|qquad)"
                              r"(?![A-Za-z])|\\(?:text|mathrm|textrm|mbox)\{(?:[^}]*\s[^}]*|\s*(?:and|then|for|so|if|"
                              r"since|hence|thus|otherwise|or|i\.e\.|e\.g\.)\s*)\}")
WHERE = re.compile(r"\\(?:text|mathrm|textrm|mbox)\{\s*(?:where|with|and where)\s*\}", re.I)
# "\\frac{d}{dx} f \\Big|_{x=3}": the point a derivative is evaluated at
EVALUATED_AT = re.compile(r"\s*(?:\\(?:big|Big|bigg|Bigg)[lr]?|\\right\.?|\\left\.)?\s*(?:\||\\vert|\\rvert)"
                           r"\s*_\{([^{}]*)\}\s*$")


@dataclass
class Chain:
    """One chain of equalities: its sides and where it stands."""

    sides: list[str]
    location: Location
    quote: str
    update: bool = False      # `w \\leftarrow w - \\eta g`: the first side is the parameter updated
    listed: bool = False      # one of a comma-separated list ("x = 1, y = 2"): assignments, not claims


def formula_chains(block: Block) -> list[Chain]:
    text = MATRIX.sub(lambda m: "(" + ", ".join(
        cell.strip() for row in m.group(2).split("\\\\") for cell in row.split("&") if cell.strip()) + ")",
        normalise_unicode(block.text))
    text = re.sub(r"\\(?:begin|end)\{(?:aligned|split|gathered|cases)\}", " ", text)
    text = re.sub(r"\\(?:tag|label)\{[^}]*\}|\\(?:,|;|!)", " ", text).replace("\\dfrac", "\\frac")
    text = text.replace("\\tfrac", "\\frac")
    # "f = qz \\text{where} q = x + y": the where-clauses are read first, they define what the claim uses
    main, *where = WHERE.split(text)
    chains = [chain for clause in where for chain in statement_rows(clause, block.location)]
    return [c for c in chains + statement_rows(main, block.location) if len(c.sides) >= 2]


def statement_rows(text: str, location: Location) -> list[Chain]:
    # "f(x) = 2x \\rightarrow f'(x) = 2", "x = 4, y = -3", "a = 1 \\quad b = 2": separate statements
    text = STATEMENT_BREAK.sub(lambda m: " \\\\ ", text)
    chains: list[Chain] = []
    for line in split_top(text, "\\\\"):
        parts = split_top(line, ",")
        for part in parts:
            row = part.replace("&", " ").strip().rstrip(".,;")
            if not row:
                continue
            arrow = UPDATE.match(row)
            if arrow:
                rest = split_top(arrow.group(2).replace("\\approx", "="), "=")
                chains.append(Chain([arrow.group(1).strip()] + [s.strip() for s in rest],
                                     location, row, update=True))
                continue
            sides = [s.strip() for s in split_top(row.replace("\\approx", "="), "=")]
            if sides and sides[0] == "":
                if chains:                 # "&= ..." continues the row above
                    chains[-1].sides.extend(s for s in sides[1:] if s)
                    chains[-1].quote += " " + row
                continue                   # a formula continuing another block's is not followed
            chains.append(Chain(sides, location, row, listed=len(parts) > 1))
    return chains


def split_top(text: str, separator: str) -> list[str]:
    """Split at `separator` outside braces, parentheses and brackets."""
    parts, depth, start, index = [], 0, 0, 0
    while index < len(text):
        char = text[index]
        if char in "({[":
            depth += 1
        elif char in ")}]":
            depth -= 1
        elif depth <= 0 and text.startswith(separator, index):
            if separator == "=" and (text[index - 1:index] in (":", "<", ">", "!") or
                                     text[index + 1:index + 2] == "="):
                index += 1
                continue
            parts.append(text[start:index])
            start = index + len(separator)
            index = start
            continue
        index += 1
    parts.append(text[start:])
    return parts


def values_substituted(symbolic: str, numeric: str) -> dict[str, float]:
    """Read the values put in for the variables by matching the two LaTeX texts."""
    names = sorted(set(re.findall(NAME, symbolic)) - {"\\frac", "\\cdot", "\\sqrt", "\\exp", "\\ln",
                                                         "\\log", "\\sin", "\\cos", "\\tan", "\\sigma"},
                   key=len, reverse=True)
    names = [n for n in names if not n.startswith("\\") and n not in ("e",)]
    if not names:
        return {}
    def squeeze(text: str) -> str:
        return re.sub(r"\s+|\\cdot|\*", "", text)

    pattern, position, groups = "", 0, []
    source = squeeze(symbolic)
    token = re.compile("|".join(re.escape(n) for n in names))
    for match in token.finditer(source):
        literal = source[position:match.start()]
        pattern += re.escape(literal)
        if groups and not literal:
            # two values side by side ("xy" as "(4)(-3)") must be bracketed: "-12" is not -1 and 2
            pattern += r"\((-?\d+(?:\.\d+)?)\)()"
        else:
            pattern += r"(?:\((-?\d+(?:\.\d+)?)\)|(-?\d+(?:\.\d+)?))"
        groups.append(match.group(0))
        position = match.end()
    pattern += re.escape(source[position:])
    match = re.fullmatch(pattern, squeeze(numeric))
    if not match:
        return {}
    values: dict[str, float] = {}
    found = match.groups()
    for name, bracketed, bare in zip(groups, found[0::2], found[1::2]):
        value = bracketed or bare
        symbol = plain_name(name)
        if values.setdefault(symbol, float(value)) != float(value):
            return {}
    return values


def claimed_text(side: str, translated: str) -> str | None:
    """The number as the document prints it (`0.50` keeps its precision); for a side
    that is arithmetic (`18 + 4`), its value; None when that is no plain number (`1/3`)."""
    written = clean_side(side)
    if NUMBER.fullmatch(written):
        return written
    value = translated.strip("()")
    return value if NUMBER.fullmatch(value) else None


def vector_entries(text: str) -> list[str] | None:
    text = re.sub(r"\\left|\\right", "", text).strip()
    if text[:1] in "([" and text[-1:] in ")]":
        parts = split_top(text[1:-1], ",")
        if len(parts) > 1:
            return [p.strip() for p in parts]
    return None


def clean_side(side: str) -> str:
    return side.strip().rstrip(".,;").strip()


def plain_name(latex: str) -> str:
    """A LaTeX name as the translator names it: `w_{1}` -> `w_1`, `\\hat{y}` -> `y_hat`."""
    latex = re.sub(r"\\(hat|bar|tilde)\{([A-Za-z])\}", r"\2_\1", latex.strip())
    latex = re.sub(r"\\(?:text|mathrm|operatorname)\{([A-Za-z]+)\}", r"\1", latex)
    return latex.replace("\\", "").replace("{", "").replace("}", "").strip()


def expression_variables(expression: str) -> set[str]:
    return {n for n in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expression)
            if n not in OPS and n not in CONSTANTS}


def to_number(text: str) -> float:
    return float(text.strip().strip("()"))


def is_number(text: str) -> bool:
    return bool(NUMBER.fullmatch(text.strip().strip("()")))
