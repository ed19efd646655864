"""What the math finder keeps while it reads a document, and the case it builds.

`State` holds what the document has defined so far (`f(x) = ...`), the values it
has stated (`x = 3`) and the names whose definitions could not be read.  `Case`
assembles one chain's claims into a case-file case: it adds the document's
recent definitions the claims use, the point (stated, inferred from substituted
values, or a generic one, said so in a note) and the review flag.  `read_side`
translates one side with the document's own functions applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from diffcheck.reading.document import Found, Location, Unread
from diffcheck.reading.formulas import NAME, Chain, clean_side, expression_variables, plain_name, values_substituted
from diffcheck.reading.latexexpr import Translation, translate

GENERIC_VALUES = (0.7, 1.3, 0.9, 1.1, 0.6, 1.2, 0.8, 1.4)
DEFINE_WINDOW = 12   # a name defined within this many formulas before a claim is substituted into it
_APPLICATION = re.compile(r"(?<![A-Za-z\\])(" + NAME + r")\s*\(([^()]*)\)")


@dataclass
class Definition:
    expression: str
    parameters: list[str]
    latex: str = ""          # as written, to read the values later substituted into it
    explicit: bool = False   # parameters written out, f(x, y): they are never replaced by definitions
    index: int = 0           # the formula it was stated in (State.formulas at the time)
    line: int = 0


@dataclass
class State:
    definitions: dict[str, Definition] = field(default_factory=dict)
    point: dict[str, float] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)   # name -> why its definition was not read
    formulas: int = 0        # chains read so far


class Case:
    """A case being assembled from one chain."""

    def __init__(self, chain: Chain, expression: str | None, state: State):
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
        """The case, appended to `found.cases` when it has claims; a numeric claim
        with no point to check it at is `Unread` instead."""
        if self.expression is None:
            return
        names, defines = self._names()
        stated = {**{n: self.state.point[n] for n in names if n in self.state.point}, **self.inferred}
        complete = all(n in stated for n in names)
        self._settle_pending(names, stated, complete, found)
        if not self.claims:
            return
        found.cases.append(self._case(names, stated, complete, defines))

    def _names(self) -> tuple[list[str], dict[str, str]]:
        """The variables the case needs values for, and the definitions it carries."""
        names = set(expression_variables(self.expression)) | set(self.wrt)
        for claim in self.claims + self.pending:     # a step may name a variable the expression lost
            for text in [claim.get("formula", ""), claim.get("expression", "")] + claim.get("steps", []):
                names |= expression_variables(text)
        defines = self._defines(names)
        names = sorted((names | {n for text in defines.values() for n in expression_variables(text)}) - set(defines))
        return names, defines

    def _settle_pending(self, names: list[str], stated: dict, complete: bool, found: Found) -> None:
        """Numeric claims join the claims at the point when every value is known; else Unread."""
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

    def _case(self, names: list[str], stated: dict, complete: bool, defines: dict[str, str]) -> dict:
        notes = []
        if complete:
            variables = {n: stated[n] for n in names}
        else:
            variables = {n: GENERIC_VALUES[i % len(GENERIC_VALUES)] for i, n in enumerate(names)}
            notes.append("no point stated: checked at a generic point")
        where = (f"{self.chain.location.cell}, line {self.chain.location.line}" if self.chain.location.cell
                 else f"line {self.chain.location.line}")
        case = {"name": case_name(self.chain.location), "where": where,
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
        return case


def read_side(side: str, state: State) -> Translation:
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


def translate_all(sides, chain: Chain, state: State, found: Found) -> list[str] | None:
    texts = []
    for side in sides:
        translated = read_side(side, state)
        if not translated.ok:
            found.unread.append(Unread(chain.location, chain.quote, translated.reason))
            return None
        texts.append(translated.expression)
    return texts


def case_name(location: Location) -> str:
    cell = re.sub(r"[^A-Za-z0-9]+", "-", location.cell or "").strip("-").lower()
    return f"{cell}-line-{location.line}" if cell else f"line-{location.line}"
