"""The expression language and diffcheck's own engine: the bottom layer.

Owns expression trees (:mod:`expr`), the allowlist parser that turns text into
trees without running anything (:mod:`parser`), the op record (:mod:`op`: every
lowering of an op, its domain, kinks, interval rule and dtype contract, and how
to add one), the records by family (:mod:`ops_elementwise`,
:mod:`ops_structural`) and the registry (:mod:`ops`), the interval arithmetic
the records' interval rules are written with (:mod:`bounds`), the one
domain and kink screen (:mod:`screen`), and the
reverse-mode engine over NumPy (:mod:`engine`).
Imports nothing from diffcheck but :mod:`diffcheck.errors` and
:mod:`diffcheck.vocabulary`.
"""
