"""Checking: from a problem and a point to a verdict.

Owns the cross-check of every method against the reference: the one route to
a verdict, many points at once (:mod:`batch`) and one point (:mod:`harness`,
also the layer's public face); the input made ready and the compiled-forms
cache (:mod:`problems`); the tolerance multipliers as a value passed to every
check, and the one measure of float64 rounding (:mod:`tolerances`); the verdict
on one point (:mod:`verdict`); settings read from ``[tool.diffcheck]``
(:mod:`config`), and the diagnoses that explain a wrong number
(:mod:`diagnosis`).  Produces data, never text.  Imports the methods
(:mod:`diffcheck.backends`), the language, and the vocabulary below it.
"""
