"""Property-based testing: Hypothesis strategies, assertions and ``diffcheck fuzz``.

Owns strategies that draw expressions and points inside every op's domain
(:mod:`strategies`; public as :mod:`diffcheck.strategies`), the assertion
:func:`~diffcheck.testing.assertions.assert_gradients_agree`
(:mod:`assertions`), and the seeded fuzz run that shrinks failures to case files
(:mod:`fuzz`).  Imports the reports layer and below.
"""
