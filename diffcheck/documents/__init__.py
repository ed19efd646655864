"""Documents and their claims: case files, claim checks, the audit.

Owns case files read with ``tomllib`` and a JSON Schema (:mod:`catalogue`), what
checking a claim yields (:mod:`findings`), the checks of values, gradients,
formulas and derivations (:mod:`claims`), of accumulation and descent
(:mod:`scenarios`), formula equivalence (:mod:`equivalence`), the precision a
printed number claims (:mod:`precision`), cases that name user code
(:mod:`codecases`), the audit of many files (:mod:`audit`) and the data the
HTML report plots (:mod:`plotdata`).  Imports the reading, user-code and
checking layers and below; never a report format.
"""
