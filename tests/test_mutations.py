"""The mutation suite's machinery on a handful of representative mutants, with small
budgets: each mutated rule is wrong, so generated checks must flag it; the same
generated pairs and points with the correct code must raise no alarm.  The full
table is benchmarks/mutations.py; both share tests/mutation_kit.py."""

import mutation_kit as mutations
import numpy as np
import pytest
from rule_mutants import AVERAGED, DROPPED, FACTOR, NEIGHBOUR, RELATIVE, SIGN, mutants_of, substitute

import diffcheck.testing.strategies as strategies
from diffcheck.checking.batch import check_points
from diffcheck.language.expr import Apply, evaluate, postorder, variables
from diffcheck.language.ops import OPS

mutations._import_everything()
BUDGET = 40   # generated pairs per op; the mutants below are met far sooner


@pytest.fixture(scope="module")
def pools():
    return {name: mutations.expression_pool(strategies, name, BUDGET, seed=1) for name in ("mul", "sin", "mean")}


@pytest.mark.slow
@pytest.mark.parametrize("op,position,kind", [
    ("mul", 0, SIGN), ("mul", 1, RELATIVE), ("sin", 0, NEIGHBOUR), ("sin", 0, FACTOR), ("mean", 0, DROPPED)])
def test_a_mutated_rule_is_detected_on_generated_pairs(pools, op, position, kind):
    mutant = mutants_of(OPS[op], position)[kind]
    examples, how, tried = mutations.first_detection(mutant, pools[op])
    assert examples is not None, f"{mutant.name} not detected in {tried} generated pairs"
    assert how == "discrepancy"


def _broadcasts_first_argument(tree, point) -> bool:
    # Some mul in the tree whose first argument varies and is smaller than its result.
    values = evaluate(tree, point, keep=True)
    return any(isinstance(n, Apply) and n.op is OPS["mul"] and variables(n.args[0])
               and np.shape(values[id(n.args[0])]) != np.shape(values[id(n)])
               for n in postorder(tree))


@pytest.mark.slow
def test_a_wrong_broadcast_reduction_is_detected_where_the_argument_is_broadcast():
    # Averaging instead of summing over the broadcast axes divides the gradient by
    # the number of copies (3 or 6 here), so wherever mul's first argument is
    # broadcast and the gradient through it is not zero, the check must fail.
    from hypothesis import strategies as st
    pairs = strategies.expressions(ops=["mul", "sin"], shapes=((), (3,), (2, 3))).flatmap(
        lambda tree: strategies.points(tree).map(lambda point: (tree, [point]))).filter(
        lambda pair: _broadcasts_first_argument(pair[0], pair[1][0]))
    pool = mutations.drawn(pairs, 3, seed=1, tries=3000)
    assert len(pool) == 3
    mutant = mutants_of(OPS["mul"], 0)[AVERAGED]
    examples, how, _ = mutations.first_detection(mutant, pool)
    assert examples is not None and how == "discrepancy"


@pytest.mark.slow
def test_the_unmutated_pools_raise_no_alarm(pools):
    verdicts = [result.verdict for pool in pools.values() for tree, points in pool
                for result in check_points(tree, points)]
    assert len(verdicts) >= 3 * BUDGET
    assert set(verdicts) <= set(mutations.SOUND)


def test_a_mutant_never_touches_the_registry(pools):
    original = OPS["sin"].vjp
    tree, points = pools["sin"][0]
    mutant = mutants_of(OPS["sin"], 0)[SIGN]
    substitute(tree, OPS["sin"], mutant.mutated_op())
    assert OPS["sin"].vjp is original
    assert all(r.verdict in mutations.SOUND for r in check_points(tree, points))


def test_a_rule_the_engine_never_calls_has_no_mutants():
    # detach's output needs no gradient, so its rule (zeros) is never used.
    from rule_mutants import rule_slots
    assert "detach" not in {op.name for op, _ in rule_slots()}
    assert isinstance(mutants_of(OPS["relu"], 0)[DROPPED], str)       # a single indicator: n/a


@pytest.mark.parametrize("name", ["product: swapped inputs", "003 formula: lost factor 2"])
def test_torch_mutants_are_detected_and_their_correct_versions_are_not(name):
    subjects = {subject: (fn, key) for _, subject, fn, key, _ in mutations.torch_subjects()}
    fn, key = subjects[name]
    correct, _ = subjects[name.split(": ")[0] + ": correct"]
    points = mutations.drawn(mutations._inputs()[key], 8, seed=0)
    flags = [mutations.torch_flag("diffcheck", fn, arrays) for arrays in points]
    assert any(flags), f"{name} passed at all {len(points)} generated points"
    assert [mutations.torch_flag("diffcheck", correct, arrays) for arrays in points] == [""] * len(points)


def test_draws_are_reproducible_from_the_seed():
    first = mutations.drawn(mutations._inputs()["product"], 5, seed=3)
    again = mutations.drawn(mutations._inputs()["product"], 5, seed=3)
    assert all(np.array_equal(a, b) for p, q in zip(first, again) for a, b in zip(p, q))
