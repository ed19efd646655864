"""Auditing user code: torch ``autograd.Function`` s, hand-written gradients,
NumPy functions and their Hessians.

Owns the public checks :func:`~diffcheck.usercode.callables.check`,
``assert_gradients`` and ``check_gradient_fn`` (:mod:`callables`), the checks
that compare derivatives along random directions (:mod:`probes`) or entry by
entry (:mod:`entries`), hand-written gradients (:mod:`handwritten`), the outcome
in the harness's verdicts and discrepancy records (:mod:`verdict`),
the wrappers that see any callable as a function of one flat vector
(:mod:`wrappers`), and second-derivative checks (:mod:`hessian`).  Imports the
checking layer and below.
"""
