"""The static code claim finder's parts (`diffcheck.reading.codefinder.find` is the entry).

values       what the reader knows of a value; expression trees over leaves, rendered as text
library      the torch/NumPy subset, as data (ops, factories, keyword arguments)
interpret    the abstract interpreter: cells, statements, names, the event record
expressions  expressions and the tensor values they make (mixin of the interpreter)
steps        gradient steps and hand-written gradients (mixin of the interpreter)
calls        library calls, tensor methods, backward(), optimizers, user functions
factories    tensors made from literals (and random ones, whose values are never invented)
printing     print() and displayed values as literal text around values
outputs      which printed text is which value
assemble     the record and matched outputs turned into claims
claims       cases: naming, grouping, variables, defines

Python is read with `ast` only; nothing in a document is executed or evaluated.
"""
