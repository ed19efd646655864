"""The mutation suite's machinery, shared by ``tests/test_mutations.py`` (a handful
of mutants, small budgets) and ``benchmarks/mutations.py`` (the full tables):
seeded Hypothesis draws, expression pools per op, the first detection of an
engine-rule mutant, and the torch subjects with the check that flags them."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import HealthCheck, Phase, given, seed as hypothesis_seed, settings
from hypothesis import strategies as st
from rule_mutants import RuleMutant, applied_to_variables, substitute

from diffcheck.checking.batch import check_points
from diffcheck.checking.harness import AGREE, DISCREPANCY, ERROR, NONDIFFERENTIABLE, OUTSIDE_DOMAIN

#: Verdicts correct code may get: a kink is not a false alarm, nor is a point
#: whose float64 evaluation overflows.
SOUND = (AGREE, NONDIFFERENTIABLE, OUTSIDE_DOMAIN)
#: Ops mixed with the mutated one in its pool of expressions.  arcsin and arccos
#: apply only inside (-1, 1), which no variable's box is: tanh and sigmoid bring
#: a variable into range.
COMPANIONS = ("add", "mul", "sin", "sum")
COMPANIONS_OF = {"arcsin": ("tanh", "sigmoid"), "arccos": ("tanh", "sigmoid")}
#: Points drawn per expression: check_points answers them in one batch.
POINTS_PER_EXPRESSION = 2


def _import_everything() -> None:
    """Import every diffcheck module and benchmark module this script uses before
    anything is drawn.  Hypothesis mixes literal constants found in the project's
    loaded modules into what it generates, so the same seed gives the same draws
    only when the same modules are loaded; diffcheck imports some lazily."""
    import importlib
    import pkgutil

    import diffcheck
    for module in pkgutil.walk_packages(diffcheck.__path__, "diffcheck."):
        if not module.name.endswith("__main__"):   # that one runs the command line
            importlib.import_module(module.name)
    import function_subjects  # noqa: F401


class _Enough(Exception):
    """Raised inside a Hypothesis test to stop drawing once enough were collected."""


def drawn(strategy, count: int, seed: int, tries: int | None = None) -> list:
    """The first ``count`` values (of at most ``tries`` attempts) that Hypothesis
    generates from ``strategy`` with ``seed``, with no database and no shrinking, so
    the same seed gives the same values; values the strategy filters out do not
    count.  Fewer come back when the strategy runs dry."""
    found: list = []

    @hypothesis_seed(seed)
    @settings(max_examples=tries or 20 * count, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck), derandomize=False)
    @given(strategy)
    def collect(value):
        if len(found) >= count:
            raise _Enough
        found.append(value)

    try:
        collect()
    except _Enough:
        pass
    return found[:count]


def expression_pool(strategies, op_name: str, pairs: int, seed: int) -> list[tuple]:
    """(tree, points) for ``pairs`` generated pairs whose tree applies ``op_name``
    to something that depends on a variable."""
    from diffcheck.language.ops import OPS
    op = OPS[op_name]
    ops = [op_name, *[c for c in COMPANIONS_OF.get(op_name, COMPANIONS) if c != op_name]]
    trees = strategies.expressions(ops=ops, max_leaves=6).filter(lambda tree: applied_to_variables(tree, op))
    with_points = trees.flatmap(lambda tree: st.lists(
        strategies.points(tree), min_size=POINTS_PER_EXPRESSION, max_size=POINTS_PER_EXPRESSION
    ).map(lambda pts: (tree, pts)))
    return drawn(with_points, -(-pairs // POINTS_PER_EXPRESSION), seed)


def engine_detection(result) -> str:
    """How a check of a mutated engine shows the fault: '' when it does not."""
    if result.verdict == DISCREPANCY and any(d.backend == "engine" for d in result.discrepancies):
        return "discrepancy"
    engine = result.results.get("engine")
    if result.verdict == ERROR and engine is not None and not engine.ok:
        return "error"
    return ""


def first_detection(mutant: RuleMutant, pool: list[tuple]) -> tuple[int | None, str, int]:
    """Examples checked until ``mutant`` is first detected (None: never), how, and
    how many examples were tried."""
    mutated = mutant.mutated_op()
    tried = 0
    for tree, points in pool:
        results = check_points(substitute(tree, mutant.op, mutated), points)
        for result in results:
            tried += 1
            how = engine_detection(result)
            if how:
                return tried, how, tried
    return None, "", tried


# --- torch: custom autograd Functions and hand-written formulas ------------------

def _array(shape, lo=-3.0, hi=3.0):
    from hypothesis.extra.numpy import arrays
    return arrays(np.float64, shape, elements=st.floats(lo, hi))


def _inputs():
    """Input strategies per subject: shapes drawn as well as values (a length of 1
    is a case of its own: there a backward missing its grad_output factor still
    gives every Jacobian entry right)."""
    sizes = st.integers(1, 5)
    return {
        "product": sizes.flatmap(lambda n: st.tuples(_array(n), _array(n))),
        "broadcast": st.tuples(sizes, sizes).flatmap(
            lambda md: st.tuples(_array(md), _array((1, md[1])))),
        # Square, so a sum over the wrong axis has the right shape.
        "broadcast, square": sizes.flatmap(lambda d: st.tuples(_array((d, d)), _array((1, d)))),
        # Document 003's data has two features; the batch size is drawn.
        "formula": st.integers(1, 12).flatmap(lambda m: st.tuples(
            _array(2), _array(1), _array((m, 2)), _array(m, 0.0, 1.0))),
        "layer": st.tuples(st.integers(1, 6), st.integers(1, 3)).flatmap(lambda md: st.tuples(
            _array((md[1], md[1])), _array(md[1]), _array(md), _array(md, 0.0, 1.0))),
    }


#: What a mutant that changes nothing is: torch itself sums a gradient of the
#: output's shape back to a broadcast input's shape, so leaving out that sum in a
#: custom backward is no fault.
EQUIVALENT = "equivalent: torch sums the gradient back to the input's shape itself"


def torch_subjects() -> list[tuple[str, str, object, str, str]]:
    """(family, mutant name, callable, input strategy key, note) for every torch subject;
    names ending in ': correct' are the unmutated versions."""
    from function_subjects import FORMULAS, FUNCTIONS, LAYERS, formula, layer, scaled
    function = "autograd.Function"
    subjects = [(function, name, fn, "product", "") for name, fn in FUNCTIONS.items()
                if name.startswith("product")]
    subjects += [(function, name, fn, "broadcast", "") for name, fn in FUNCTIONS.items()
                 if name.startswith("broadcast")]
    subjects += [(function, "broadcast: sum over the wrong axis", scaled(lambda t: t.sum(dim=1).reshape(1, -1)),
                  "broadcast, square", ""),
                 (function, "broadcast: not reduced", scaled(lambda t: t), "broadcast", EQUIVALENT)]
    formula_family = "hand-written formula"
    subjects += [(formula_family, f"003 formula: {v}", formula(v), "formula", "") for v in FORMULAS]
    subjects += [(formula_family, f"003 layer: {v}", layer(v), "layer", "") for v in LAYERS]
    return subjects


TORCH_METHODS = ("diffcheck", "gradcheck slow", "gradcheck fast")


def torch_flag(method: str, fn, arrays) -> str:
    """'' when ``method`` passes ``fn`` at ``arrays``; else how it failed.  The first
    two arrays are the inputs differentiated (the data X, y are not)."""
    import torch
    import diffcheck
    tensors = [torch.tensor(a, requires_grad=i < 2) for i, a in enumerate(arrays)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if method == "diffcheck":
                verdict = diffcheck.check(fn, *tensors).verdict
                return "" if verdict in (AGREE, NONDIFFERENTIABLE) else verdict
            ok = torch.autograd.gradcheck(fn, tuple(tensors), fast_mode=method == "gradcheck fast",
                                          raise_exception=False)
            return "" if ok else "fails"
        except Exception as err:  # noqa: BLE001 - a check that raises has flagged the code
            return f"raises {type(err).__name__}"
