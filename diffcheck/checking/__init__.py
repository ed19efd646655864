"""Checking: from a problem and a point to a verdict.

Owns the cross-check of every method against the reference and its
classification into verdicts (:mod:`harness`), checks at many points at once
(:mod:`batch`), tolerance settings read from ``[tool.diffcheck]``
(:mod:`config`), and the diagnoses that explain a wrong number
(:mod:`diagnosis`).  Produces data, never text.  Imports the methods
(:mod:`diffcheck.backends`), the language, and the vocabulary below it.
"""
