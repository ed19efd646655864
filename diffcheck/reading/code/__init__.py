"""The static code claim finder's parts: `values` (what the reader knows of a
value), `library` (the torch/NumPy subset, as data), `interpret` and `calls` (the
abstract interpreter over `ast`), `outputs` (which printed text is which value)
and `claims` (traces to cases). `diffcheck.reading.codefinder.find` is the entry.
Nothing here executes document code.
"""
