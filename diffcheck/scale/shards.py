"""Deterministic slices of an audit, so a CI matrix of N jobs covers every case once.

A case belongs to shard ``1 + h mod N``, where ``h`` is the first eight bytes of
the SHA-256 of the case file's path relative to the project (the directory of the
nearest ``pyproject.toml``, written with ``/``), a NUL byte and the case's name.
Nothing else enters: not Python's ``hash`` (salted per process), not the order in
which files were found, not the machine or the directory of the checkout.  Adding
a case moves no other case to another shard.

Every shard reports the case files that cannot be read (all shards read all
files, so each can tell); ``diffcheck merge`` keeps one copy.  A shard's report
carries a ``shard`` record: which shard it is, how many cases the whole audit
has, each of its cases' places in the whole audit (so the merge restores the
unsharded order), and a fingerprint of the whole audit's case list and settings
(so shards of different audits are not merged).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from diffcheck.checking.config import find_pyproject
from diffcheck.documents.audit import DEFAULT_SETTINGS, CheckingSettings

if TYPE_CHECKING:   # annotations only
    from diffcheck.documents.catalogue import Case, CaseFile

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    index: int   # 1-based
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``"I/N"`` as a :class:`Shard`; ``ValueError`` saying what is wrong otherwise."""
    match = _SHARD.match(text)
    if not match:
        raise ValueError(f"expected I/N such as 2/4 (shard I of N), got {text!r}")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1:
        raise ValueError(f"{text!r}: the number of shards N must be at least 1")
    if not 1 <= index <= count:
        raise ValueError(f"{text!r}: the shard I counts from 1 to N={count}")
    return Shard(index, count)


def project_root(start: Path | None = None) -> Path:
    """The directory case paths are taken relative to: that of the nearest
    ``pyproject.toml`` above the working directory, else the working directory."""
    found = find_pyproject(start)
    return found.parent if found is not None else (start or Path.cwd()).resolve()


def case_key(case: Case, root: Path) -> str:
    """The text a case is hashed by: its file relative to ``root``, NUL, its name.

    A file outside the project is keyed by its path as given, which is the same
    on every machine that is given the same path."""
    path = Path(case.path)
    try:
        # abspath, not resolve: a symlinked directory inside the project keeps its place.
        relative = Path(os.path.abspath(path)).relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        relative = path.as_posix()
    return f"{relative}\0{case.name}"


def shard_of(key: str, count: int) -> int:
    """The shard (1 to ``count``) that the case with this :func:`case_key` belongs to."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()
    return 1 + int.from_bytes(digest[:8], "big") % count


@dataclass
class Selection:
    """One shard's part of the loaded case files, and what its report must say."""

    shard: Shard
    files: list[CaseFile]          # the same files, each with only this shard's cases
    total: int                     # cases in the whole audit
    fingerprint: str
    positions: list[int]           # the selected cases' places in the whole audit, in order

    def record(self, results, plots: bool) -> dict:
        """The report's ``shard`` field, for the finished :class:`~diffcheck.documents.audit.CaseResult` s
        (in case order; fewer than selected if interrupted); ``plots`` says whether the
        cases carry the HTML report's plot data."""
        # Results may be copies made by another process, so cases are matched by
        # file and name; a file given twice holds each name twice, taken in order.
        places: dict[tuple[str, str], list[int]] = {}
        for case, place in zip(self.cases(), self.positions):
            places.setdefault((case.path, case.name), []).append(place)
        return {"index": self.shard.index, "count": self.shard.count, "total_cases": self.total,
                "fingerprint": self.fingerprint, "plots": bool(plots),
                "positions": [places[(r.case.path, r.case.name)].pop(0) for r in results]}

    def cases(self) -> list[Case]:
        return [case for case_file in self.files for case in case_file.cases]


def select(files: list[CaseFile], shard: Shard, backends=None, root: Path | None = None,
           settings: CheckingSettings = DEFAULT_SETTINGS) -> Selection:
    """This shard's cases of ``files``; every file keeps its load errors.
    ``backends`` and ``settings`` are the audit's, for the fingerprint."""
    root = project_root() if root is None else root
    everything = [case for case_file in files for case in case_file.cases]
    keys = [case_key(case, root) for case in everything]
    mine = [shard_of(key, shard.count) == shard.index for key in keys]
    chosen, place = [], 0
    for case_file in files:
        taken = mine[place:place + len(case_file.cases)]
        chosen.append(dataclasses.replace(case_file, cases=[c for c, m in zip(case_file.cases, taken) if m]))
        place += len(case_file.cases)
    positions = [place for place, m in enumerate(mine) if m]
    return Selection(shard, chosen, len(everything), fingerprint(keys, backends, settings), positions)


def fingerprint(keys: list[str], backends, settings: CheckingSettings = DEFAULT_SETTINGS) -> str:
    """SHA-256 of what every shard of one audit shares: the whole case list in order,
    the methods, the tolerance settings and ``--allow-import``.  Shards that differ
    in it are not one audit."""
    shared = {"cases": keys, "backends": list(backends) if backends else None,
              "tolerances": dataclasses.asdict(settings.tolerances),
              "allow_import": settings.allow_imports}
    return hashlib.sha256(json.dumps(shared, sort_keys=True).encode("utf-8", "surrogateescape")).hexdigest()

