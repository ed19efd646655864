"""Auditing user code: torch ``autograd.Function`` s, hand-written gradients,
NumPy functions and their Hessians.

Owns the public checks :func:`~diffcheck.usercode.callables.check`,
``assert_gradients`` and ``check_gradient_fn`` (:mod:`callables`), the probes that
compare derivatives entry by entry or along random directions (:mod:`probes`),
the wrappers that see any callable as a function of one flat vector
(:mod:`wrappers`), and second-derivative checks (:mod:`hessian`).  Imports the
checking layer and below.
"""
