"""Diagnoses of wrong claims, on the mistakes the seed documents actually make."""

import numpy as np

from diffcheck.checking.diagnosis import UNEXPLAINED, Context, diagnose


def kinds(found):
    return [d.kind for d in found]


def test_gradient_accumulated_over_two_backward_calls():
    # 001, In [3] then In [5]: y = x**2 backward (6), then y = 3x^2 + 4x + 2
    # backward without zeroing; the document prints 28 where d/dx at 3 is 22.
    found = diagnose(28.0, 22.0, 0.5, Context(earlier_gradients=[np.array(6.0)]))
    assert kinds(found) == ["accumulated"]
    assert "without zeroing" in found[0].explanation


def test_vector_parameter_treated_as_a_shared_scalar():
    # 001: the manual gradient -16 for w1 where autograd gives [-4, -12].
    found = diagnose(-16.0, np.array([-4.0, -12.0]), 0.5)
    assert kinds(found) == ["shared_scalar"]


def test_flipped_sign():
    # 002: y = x + 2 printed as -1.6828 where it is 1.6828.
    found = diagnose(-1.6828, 1.6828, 0.00005)
    assert kinds(found) == ["sign"]


def test_extra_one_over_m():
    found = diagnose(np.array([-4.0, -2.0]), np.array([-12.0, -6.0]), 0.05, Context(batch_size=3))
    assert kinds(found) == ["factor"]
    assert "extra 1/m" in found[0].explanation


def test_factor_of_two():
    found = diagnose(np.array([1.0, 3.0]), np.array([2.0, 6.0]), 0.005)
    assert "lost factor of 2" in found[0].explanation


def test_transpose():
    true = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert kinds(diagnose(true.T, true, 0.01)) == ["transpose"]
    assert kinds(diagnose(np.ones((3, 2)), np.ones((2, 3)), 0.01)) == ["transpose"]
    # The tolerance comes from the claim's text, so it has the claim's shape.
    assert kinds(diagnose(np.ones((3, 2)), np.ones((2, 3)), np.full((3, 2), 0.01))) == ["transpose"]


def test_shape_that_cannot_match():
    # 003: a 4-entry weight vector printed with 3 entries.
    assert kinds(diagnose(np.ones(3), np.ones(4), 0.01)) == ["shape"]


def test_data_entry_that_differs_elsewhere_in_the_document():
    # 003: the slides give X[7] = [-4.0, 0.1], the code [4.0, 0.1].
    X = np.array([[0.5, 0.9], [-4.0, 0.1]])
    w = np.array([0.2, 0.3])

    def recompute(label):
        changed = X.copy()
        changed[1, 0] = 4.0
        return changed @ w

    claimed = np.array([0.37, 0.83])  # what X[1, 0] = 4.0 gives
    found = diagnose(claimed, X @ w, 0.005, Context(recompute=recompute,
                                                    alternatives={"X row 1 as in the code": "X[1, 0] = 4"}))
    assert kinds(found) == ["data_entry"]


def test_unexplained_when_nothing_fits():
    found = diagnose(8.9153, 4.8732, 0.00005)
    assert kinds(found) == [UNEXPLAINED]


def test_one_entry_with_its_sign_flipped():
    # 002: x + 2 printed [-1.6828, 2.3467, 2.6648] for x = [-0.3172, 0.3467, 0.6648].
    found = diagnose(np.array([-1.6828, 2.3467, 2.6648]), np.array([1.6828, 2.3467, 2.6648]), 5e-5)
    assert kinds(found) == ["sign"]
    assert "entry [0]" in found[0].explanation


def test_one_wrong_entry_among_many_is_named():
    true = np.arange(1.0, 10.0)
    claimed = true.copy()
    claimed[4] = 7.0
    found = diagnose(claimed, true, 0.05)
    assert kinds(found) == ["entry"]
    assert "[4]" in found[0].explanation


def test_entries_are_not_blamed_when_most_are_wrong():
    assert kinds(diagnose(np.array([1.0, 5.0, 9.0]), np.array([2.0, 6.0, 9.0]), 0.05)) == [UNEXPLAINED]
