"""The expression language and diffcheck's own engine: the bottom layer.

Owns expression trees (:mod:`expr`), the allowlist parser that turns text into
trees without running anything (:mod:`parser`), the op registry with one record
per op holding every lowering, its domain, kinks and interval rule (:mod:`ops`,
:mod:`bounds`), the one domain and kink screen (:mod:`screen`), and the
reverse-mode engine over NumPy (:mod:`engine`).
Imports nothing from diffcheck but :mod:`diffcheck.errors` and
:mod:`diffcheck.vocabulary`.
"""
