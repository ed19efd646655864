"""Reports: results as plain records, and one module per format rendering them.

Owns the records every format renders (:mod:`records`), the one function that
owns report files (:mod:`writer`), and the formats: JSON (:mod:`jsonreport`),
Markdown (:mod:`mdreport`), JUnit XML (:mod:`junitreport`), HTML
(:mod:`htmlreport`, with its template) and the terminal (:mod:`textreport`),
with the report schema in ``schemas/``.  Reporters never decide what is a
problem: :func:`diffcheck.vocabulary.is_problem` does.  Imports the documents
layer and below.
"""
