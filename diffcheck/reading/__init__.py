"""Reading documents: turn a notebook, Markdown file, notebook text export, Python
script, LaTeX or reStructuredText file into located blocks (`document`), and find
in them the claims a document makes (`mathfinder` for formulas in prose and
LaTeX, `codefinder` for the teaching subset of torch and NumPy), as case data in
the `cases/` format. Imports only the expression language and the vocabulary
below it; nothing read is ever executed.
"""
