"""The words diffcheck's results are made of, defined once.

Every layer speaks these: a method's status for one gradient request, a
cross-check's verdict, a claim's status, how a case's check ended, and the exit
status of a run.  :func:`is_problem` is the one rule for what a user must look
at: every summary, report and exit status asks it, none decides for itself.
"""

from __future__ import annotations

# What one method said about one gradient request.
OK, SKIPPED, UNSUPPORTED, ERROR = "ok", "skipped", "unsupported", "error"

# A cross-check's verdict, in order of precedence when a check has several.
AGREE, DISCREPANCY, NONDIFFERENTIABLE = "agree", "discrepancy", "nondifferentiable"
OUTSIDE_DOMAIN = "outside_domain"
#: The methods agree, but the check could not have failed: a tolerance as large as
#: the value it judges, or a computation float64 cannot represent.  Never `agree`.
INCONCLUSIVE = "inconclusive"
VERDICTS = (AGREE, DISCREPANCY, NONDIFFERENTIABLE, OUTSIDE_DOMAIN, INCONCLUSIVE, UNSUPPORTED, ERROR)

# What a document's claim turned out to be.  FAILED: the claim could not be
# checked because of its own input; REFUSED: it names code the run may not import.
CONFIRMED, REFUTED, UNDECIDED = "confirmed", "refuted", "undecided"
FAILED, REFUSED = "error", "refused"
CLAIM_STATUSES = (CONFIRMED, REFUTED, UNDECIDED)

# How a case's check ended: every outcome but FINISHED left it unchecked.
FINISHED, TIMEOUT, RESOURCE_LIMIT, WORKER_DIED = "finished", "timeout", "resource_limit", "worker_died"
UNFINISHED = (TIMEOUT, RESOURCE_LIMIT, WORKER_DIED)

# Exit status of a command: nothing wrong; something found; the input (or the
# usage) was bad; stopped by SIGINT or SIGTERM (128 + the signal's number).
CLEAN, FOUND, BAD_INPUT = 0, 1, 2
#: Nothing was found wrong, but some check could not tell (an `inconclusive` verdict).
UNDECIDABLE = 3
INTERRUPTED, TERMINATED = 130, 143

#: Verdicts, claim statuses and case outcomes that a user must look at.
PROBLEMS = frozenset({DISCREPANCY, ERROR, REFUTED, FAILED, *UNFINISHED})


def is_problem(word: str) -> bool:
    """Whether a verdict, claim status or case outcome is a problem: a method
    that disagrees or fails, a claim that is wrong or could not be checked, a
    case that did not finish.  ``undecided`` claims and ``nondifferentiable``,
    ``outside_domain`` or ``unsupported`` checks are reported, but are not
    problems: nothing was shown to be wrong."""
    return word in PROBLEMS


def is_listed(word: str) -> bool:
    """Whether a report lists it for a reader to look at: every problem, and a
    claim that could not be decided (not wrong, but not shown right either)."""
    return is_problem(word) or word == UNDECIDED
