"""The op registry: every op record by name and alias.

The records live in one module per family (:mod:`~diffcheck.language.ops_elementwise`,
:mod:`~diffcheck.language.ops_structural`); the record itself, its field
contracts and how to add an op are in :mod:`diffcheck.language.op`.  The parser
reads op names from a registry (:data:`OPS` unless it is given another); every
backend reads the record off the tree, so a tree built from any registry runs on
all four.  :func:`extended` makes a registry with extra records, for trying an op
without editing diffcheck.
"""

from __future__ import annotations

import copyreg

import numpy as np

from diffcheck.language.op import (  # noqa: F401  (the names the rest of diffcheck imports from here)
    Op,
    align_batch,
    apply_batched,
    as_object_array,
    elementwise,
    elementwise_rule,
    registry,
    stop_gradient,
    unbroadcast,
    unique,
)
from diffcheck.language.ops_elementwise import ELEMENTWISE
from diffcheck.language.ops_structural import STRUCTURAL

#: Every op by name and alias.
OPS: dict[str, Op] = registry(ELEMENTWISE + STRUCTURAL)

#: Each op once, in registry order: what tests parametrise over.
UNIQUE_OPS: list[Op] = unique(OPS)

#: Names the language gives to constants; a declared variable of the same name wins.
CONSTANTS = {"pi": np.pi, "e": np.e}


def extended(*ops: Op, base: dict[str, Op] | None = None) -> dict[str, Op]:
    """A new registry: ``base`` (default :data:`OPS`) and the records ``ops``.

    :data:`OPS` itself is left as it is.  Give the result to
    :func:`diffcheck.language.parser.parse` (``ops=``); trees parsed with it
    carry the new records to every backend."""
    return registry(unique(OPS if base is None else base) + list(ops))


def op_named(name: str) -> Op:
    """The registered op called ``name`` (or an alias of it)."""
    return OPS[name]


def _reduce_op(op: Op):
    # A record holds lambdas, which do not pickle; another process has the same
    # registry, so a registered op travels by name (a case sent to a worker, a
    # Dask task).  An op from elsewhere pickles as a plain object: it travels if
    # its functions are importable ones.
    if OPS.get(op.name) is op:
        return op_named, (op.name,)
    return object.__reduce_ex__(op, 2)


copyreg.pickle(Op, _reduce_op)
