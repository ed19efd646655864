import numpy as np
import pytest

from diffcheck.errors import ExpressionError
from diffcheck.checking.precision import claimed, half_unit, shows_as


@pytest.mark.parametrize("text,half", [("0.3333", 5e-5), ("22", 0.5), ("28.", 0.5), ("-1.6828", 5e-5),
                                       ("1.2e-3", 5e-5), ("2673.9028", 5e-5), ("3e2", 50.0)])
def test_half_unit_in_the_last_written_place(text, half):
    assert half_unit(text) == pytest.approx(half)


def test_a_list_claims_each_entry_at_its_own_precision():
    value, tolerance = claimed("[-4, -12.5]")
    assert value.tolist() == [-4.0, -12.5]
    assert tolerance.tolist() == pytest.approx([0.5, 0.05])


def test_one_third_shows_as_0_3333_but_not_0_3334():
    value, tolerance = claimed("0.3333")
    assert shows_as(1 / 3, value, tolerance)
    value, tolerance = claimed("0.3334")
    assert not shows_as(1 / 3, value, tolerance)


def test_printed_28_is_not_22():
    value, tolerance = claimed("28")
    assert not shows_as(22.0, value, tolerance)
    assert shows_as(28.2, value, tolerance)


def test_shapes_must_match():
    value, tolerance = claimed("[1, 2, 3]")
    assert not shows_as(np.ones(4), value, tolerance)


def test_claims_are_read_without_evaluation():
    with pytest.raises(ExpressionError):
        claimed("__import__('os')")
