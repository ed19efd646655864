"""What checking a document's claim yields: one :class:`Finding` per checkable
statement, with its status from :mod:`diffcheck.vocabulary`.

Claims (:mod:`~diffcheck.documents.claims`), scenarios and code cases
(:mod:`~diffcheck.documents.codecases`) all make findings; reports render them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from diffcheck.checking.diagnosis import Diagnosis


@dataclass
class Finding:
    """The verdict on one checkable statement of a claim."""

    claim: int             # the claim's number in its case
    kind: str              # the claim's kind
    subject: str           # what was compared, e.g. "d/dw1 at the case's point"
    status: str
    message: str           # one line
    where: str = ""
    quote: str = ""
    claimed: str = ""      # as the document writes it
    true: Any = None       # the reference value (array or float)
    tolerance: Any = None  # half a unit of each claimed entry's last place
    diagnoses: list[Diagnosis] = field(default_factory=list)
    evidence: dict = field(default_factory=dict)
    note: str = ""
