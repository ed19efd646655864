"""Case files: TOML read with :mod:`tomllib`, checked against a shipped JSON Schema,
then every expression parsed by diffcheck's own parser.  Nothing in a file runs.

A file that cannot be read is one error; a case that is malformed is one error
and the file's other cases still load.  Every message names the file, the case
and the field, and the line, column or position where the reader can tell.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from diffcheck.checking.harness import normalise_point
from diffcheck.documents.codecases import code_spec
from diffcheck.checking.precision import claimed as read_claimed
from diffcheck.documents.casefile_schema import (  # noqa: F401 - SCHEMA and MAX_FILE_BYTES are read from here
    CASE_SCHEMA, FILE_SCHEMA, MAX_FILE_BYTES, SCHEMA, read_toml, validate)
from diffcheck.errors import CaseFileError, DiffcheckError
from diffcheck.language.expr import Expr, fold, substitute
from diffcheck.language.parser import parse
from diffcheck.reading.detect import is_document
from diffcheck.reading.extract import case_tables, extract

#: Largest expression, counted with every definition written out in full.
MAX_EXPANDED_NODES = 100_000
CASE_SUFFIX = ".toml"
_ENTRY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\[\s*(\d+)\s*(?:,\s*(\d+)\s*)?\]$")


@dataclass
class Alternative:
    """Data the document gives differently elsewhere: the whole point with it applied."""

    label: str
    point: dict[str, np.ndarray]
    changes: str   # "X[7, 0] = -4" or "y replaced": for the diagnosis' evidence


@dataclass
class Claim:
    """One statement a document makes about a case, as written there."""

    kind: str
    number: int            # 1-based within its case
    where: str
    quote: str
    note: str
    spec: dict             # the validated fields, as read
    trees: dict[str, Any]  # parsed expressions: "expression", "formula", "steps", "calls", "earlier"

    @property
    def label(self) -> str:
        return f"claim {self.number} ({self.kind})"


@dataclass
class Case:
    path: str
    document: str
    name: str
    where: str
    quote: str
    note: str
    expression: str
    tree: Expr
    point: dict[str, np.ndarray]
    wrt: list[str]
    points: list[dict[str, np.ndarray]]   # the case's point first, then the extra ones
    batch_size: int | None = None
    dtype: str = "float64"   # the precision the document's own code computed in
    random_inputs: list[str] = field(default_factory=list)   # drawn unseeded by the document: outputs may come from other draws
    rounded_inputs: dict = field(default_factory=dict)       # variable -> unit of its last printed digit
    defines: dict[str, Expr] = field(default_factory=dict)
    alternatives: list[Alternative] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    code: dict | None = None   # callable, gradient, framework: Python code named, never imported here

    @property
    def id(self) -> str:
        return f"{Path(self.path).stem}::{self.name}"

    def parse(self, text: str, where: str = "expression") -> Expr:
        """Parse text in this case's scope (its variables and definitions)."""
        tree = substitute(parse(text, list(self.point) + list(self.defines), where=self.locate(where)),
                          self.defines)
        # Definitions share subtrees, but every method and every report expands them:
        # a chain whose definitions double at each level must stop here, not there.
        expanded = fold(tree, lambda node: 1, lambda node, args: 1 + sum(args))
        if expanded > MAX_EXPANDED_NODES:
            raise CaseFileError(f"{self.locate(where)}: with its definitions substituted the expression has "
                                f"{expanded:.3g} nodes (at most {MAX_EXPANDED_NODES:,})")
        return tree

    def locate(self, where: str) -> str:
        return f"{self.path}: case {self.name!r}, {where}"


@dataclass
class CaseFile:
    path: str
    document: str = ""
    title: str = ""
    cases: list[Case] = field(default_factory=list)
    errors: list[CaseFileError] = field(default_factory=list)
    #: For a document read directly: the passages that look like claims but could
    #: not be checked (:class:`diffcheck.reading.document.Unread`), and how many
    #: claims were found in it.
    unread: list = field(default_factory=list)
    source: str = "case file"      # or "document"


def discover(paths) -> list[Path]:
    """Case files under the given files and directories, in a stable order."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob(f"*{CASE_SUFFIX}") if p.is_file()))
        elif path.exists():
            found.append(path)
        else:
            raise CaseFileError(f"{raw}: no such file or directory")
    return found


def load(path: Path | str) -> CaseFile:
    """Read one case file, or a document (notebook, Markdown, script, LaTeX,
    reStructuredText) whose claims are extracted on the fly; problems are
    collected in ``.errors``, never raised."""
    # A file name that is not UTF-8 reaches Python with lone surrogates, which no
    # report can encode: show its odd bytes as \xNN instead.
    shown = os.fsencode(path).decode("utf-8", "backslashreplace")
    if is_document(Path(path)):
        return from_document(Path(path), shown)
    try:
        data = read_toml(Path(path), shown)
    except CaseFileError as err:
        return CaseFile(shown, errors=[err])
    return from_data(data, shown)


def from_document(path: Path, shown: str) -> CaseFile:
    """A document's claims, found by the readers and checked like a case file's.

    What the readers could not follow is kept in ``.unread``; a document that
    cannot be read at all is one located error."""
    extraction = extract(path)
    data, higher = case_tables(extraction)
    result = from_data(data, shown) if data["case"] else CaseFile(shown, data["document"], data["title"])
    result.source = "document"
    result.unread = [*extraction.unread, *higher]
    result.errors += [CaseFileError(problem) for problem in extraction.problems]
    return result


def from_data(data: dict, shown: str) -> CaseFile:
    """A case file's tables (as ``tomllib`` reads them, or as a document reader
    extracts them) checked and built into cases; ``shown`` names the source in
    every message.  Problems are collected in ``.errors``, never raised."""
    result = CaseFile(shown)
    try:
        validate(data, FILE_SCHEMA, shown, None)
    except CaseFileError as err:
        result.errors.append(err)
        return result
    result.document, result.title = data["document"], data.get("title", "")
    seen: set[str] = set()
    for number, raw in enumerate(data["case"], start=1):
        name = raw.get("name") if isinstance(raw, dict) and isinstance(raw.get("name"), str) else None
        try:
            validate(raw, CASE_SCHEMA, shown, name or f"#{number}")
            if name in seen:
                raise CaseFileError(f"{shown}: case {name!r}: a second case with this name")
            seen.add(name)
            result.cases.append(_build_case(raw, shown, result.document))
        except DiffcheckError as err:
            result.errors.append(err if isinstance(err, CaseFileError) else CaseFileError(str(err)))
    return result


def _point(raw: dict, locate) -> dict[str, np.ndarray]:
    return normalise_point(raw, where=locate("variables"))


def _build_case(raw: dict, shown: str, document: str) -> Case:
    name = raw["name"]

    def locate(where):
        return f"{shown}: case {name!r}, {where}"

    if ("expression" in raw) == ("callable" in raw):
        raise CaseFileError(f"{locate('top level')}: " + ("'expression' is a required property (or name "
                            "Python code with 'callable')" if "callable" not in raw else
                            "give 'expression' or 'callable', not both"))
    if "callable" in raw and "claim" in raw:
        raise CaseFileError(f"{locate('field claim')}: claims need an expression, not a callable")
    point = _point(raw["variables"], locate)
    case = Case(shown, document, name, raw["where"], raw.get("quote", ""), raw.get("note", ""),
                raw.get("expression", ""), None, point, [], [point], raw.get("batch_size"),
                raw.get("dtype", "float64"))
    if "callable" in raw:
        case.code = code_spec(raw, point, locate)
        return case
    for define, text in raw.get("define", {}).items():
        if define in point:
            raise CaseFileError(f"{locate('field define')}: {define!r} is also a variable")
        case.defines[define] = case.parse(text, f"field define.{define}")
    case.tree = case.parse(raw["expression"], "field expression")
    case.wrt = list(raw.get("wrt") or [])
    for variable in case.wrt:
        if variable not in point:
            raise CaseFileError(f"{locate('field wrt')}: {variable!r} is not a variable of the case")
    case.random_inputs = list(raw.get("random_inputs", []))
    case.rounded_inputs = {name: float(unit) for name, unit in raw.get("rounded_inputs", {}).items()
                           if name in point}
    for variable in case.random_inputs:
        if variable not in point:
            raise CaseFileError(f"{locate('field random_inputs')}: {variable!r} is not a variable of the case")
    for number, extra in enumerate(raw.get("points", []), start=1):
        case.points.append(_overridden(point, extra, locate, f"field points {number}"))
    for number, alt in enumerate(raw.get("alternatives", []), start=1):
        case.alternatives.append(_alternative(point, alt, locate, f"field alternatives {number}"))
    for number, spec in enumerate(raw.get("claim", []), start=1):
        case.claims.append(_claim(case, spec, number))
    return case


def _overridden(point, overrides, locate, where) -> dict[str, np.ndarray]:
    unknown = [k for k in overrides if k not in point]
    if unknown:
        raise CaseFileError(f"{locate(where)}: {unknown[0]!r} is not a variable of the case")
    new = dict(point)
    new.update(_point(overrides, lambda w: locate(where)))
    for key in overrides:
        if new[key].shape != point[key].shape:
            raise CaseFileError(f"{locate(where)}: {key} has shape {new[key].shape}, "
                                f"the case's has {point[key].shape}")
    return new


def _alternative(point, raw, locate, where) -> Alternative:
    new = _overridden(point, raw.get("values", {}), locate, where)
    changes = [f"{k} replaced" for k in raw.get("values", {})]
    for key, value in raw.get("entries", {}).items():
        match = _ENTRY.match(key)
        variable, index = match.group(1), tuple(int(g) for g in match.groups()[1:] if g is not None)
        if variable not in new:
            raise CaseFileError(f"{locate(where)}: {variable!r} is not a variable of the case")
        array = new[variable].copy()
        if len(index) != array.ndim or any(i >= n for i, n in zip(index, array.shape)):
            raise CaseFileError(f"{locate(where)}: {key} is outside {variable}, of shape {array.shape}")
        array[index] = float(normalise_point({"v": value}, where=locate(where))["v"])
        new[variable] = array
        changes.append(f"{key} = {array[index]:g}")
    return Alternative(raw["label"], new, ", ".join(changes))


_EXPRESSION_FIELDS = ("expression", "formula")
_LIST_FIELDS = ("steps", "calls", "earlier")
_CLAIMED_FIELDS = ("claimed",)


def _claim(case: Case, spec: dict, number: int) -> Claim:
    """A claim of ``case`` with its expressions parsed and every field checked: a
    one-line CaseFileError naming the field for the first that is wrong."""
    claim = Claim(spec["kind"], number, spec.get("where", case.where), spec.get("quote", case.quote),
                  spec.get("note", ""), spec, {})
    _parse_fields(case, claim, spec)
    for variable in (spec["wrt"],) if "wrt" in spec else ():
        if variable not in case.point:
            raise CaseFileError(f"{_field(case, claim, 'wrt')}: {variable!r} is not a variable of the case")
    if "at" in spec:
        claim.trees["at"] = _overridden(case.point, spec["at"], case.locate, _field_name(claim, "at"))
    for text, name in _claimed_texts(spec):
        read_claimed(text, where=_field(case, claim, name))
    if claim.kind in _KIND_CHECKS:
        _KIND_CHECKS[claim.kind](case, claim, spec)
    return claim


def _field_name(claim: Claim, name: str) -> str:
    return f"{claim.label}, field {name}"


def _field(case: Case, claim: Claim, name: str) -> str:
    """Where a field of a claim is, for an error message: file, case, claim, field."""
    return case.locate(_field_name(claim, name))


def _parse_fields(case: Case, claim: Claim, spec: dict) -> None:
    """The claim's expressions and lists of expressions, parsed into ``claim.trees``."""
    for name in _EXPRESSION_FIELDS:
        if name in spec:
            claim.trees[name] = case.parse(spec[name], _field_name(claim, name))
    for name in _LIST_FIELDS:
        if name in spec and isinstance(spec[name], list):
            claim.trees[name] = [case.parse(text, f"{_field_name(claim, name)} {i}")
                                 for i, text in enumerate(spec[name], start=1)]


def _check_accumulate(case: Case, claim: Claim, spec: dict) -> None:
    """Calls named in ``zero_after`` and values ``shown`` must exist."""
    calls = len(spec.get("calls", [None])) * spec.get("repeat", 1)
    late = [n for n in spec.get("zero_after", []) if n > calls]
    if late:
        raise CaseFileError(f"{_field(case, claim, 'zero_after')}: call {late[0]} does not exist "
                            f"(there are {calls})")
    if len(spec.get("shown", [])) > calls:
        raise CaseFileError(f"{_field(case, claim, 'shown')}: {len(spec['shown'])} values shown "
                            f"for {calls} calls")


def _check_descent(case: Case, claim: Claim, spec: dict) -> None:
    """Parameters must be variables of the case, the learning rate a number, and the
    steps shown must name parameters only."""
    for variable in spec["parameters"]:
        if variable not in case.point:
            raise CaseFileError(f"{_field(case, claim, 'parameters')}: {variable!r} is not a "
                                "variable of the case")
    read_claimed(str(spec["learning_rate"]), where=_field(case, claim, "learning_rate"))
    for step in spec.get("shown", []):
        for part in ("before", "grad", "after"):
            for variable in step.get(part, {}):
                if variable not in spec["parameters"]:
                    raise CaseFileError(f"{_field(case, claim, 'shown')}: step {step['step']} "
                                        f"{part} names {variable!r}, not a parameter")


#: Checks particular to a kind of claim, after the fields every kind shares.
_KIND_CHECKS = {"accumulate": _check_accumulate, "descent": _check_descent}


def _claimed_texts(spec: dict):
    """Every claimed number in a claim, with the field it is in."""
    if "claimed" in spec and spec["kind"] != "runs":   # a runs claim claims only "runs"
        yield spec["claimed"], "claimed"
    for i, text in enumerate(spec.get("shown", []) if spec["kind"] == "accumulate" else (), start=1):
        if text.strip():
            yield text, f"shown {i}"
    if spec["kind"] == "descent":
        for step in spec.get("shown", []):
            if "loss" in step:
                yield step["loss"], f"shown step {step['step']} loss"
            for part in ("before", "grad", "after"):
                for variable, text in step.get(part, {}).items():
                    yield text, f"shown step {step['step']} {part}.{variable}"
