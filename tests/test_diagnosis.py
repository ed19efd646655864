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


# ---------------------------------------------------------------------------
# Every diagnosis at the precision the claim is printed with.  The tolerance is
# half a unit of the claim's last printed place, as the claim check reads it:
# "0.3333" has tolerance 5e-05.

FOUR = 5e-05


def test_a_flipped_sign_printed_to_four_decimals():
    # 2/3 = 0.6666667; printed with its sign flipped and rounded: -0.6667.
    assert kinds(diagnose(-0.6667, 2 / 3, FOUR)) == ["sign"]
    # -0.1774469 printed as 0.1774: |0.1774 - 0.1774469| = 4.7e-05 <= 5e-05.
    assert kinds(diagnose(0.1774, -0.1774469, FOUR)) == ["sign"]


def test_a_near_miss_of_a_flipped_sign_is_not_diagnosed():
    # -0.6668 is 1.3e-04 from -2/3: no rounding of -0.6666667 prints it.
    assert kinds(diagnose(-0.6668, 2 / 3, FOUR)) == [UNEXPLAINED]


def test_a_lost_factor_of_two_printed_to_four_decimals():
    # (2/3) / 2 = 0.3333333, printed 0.3333.
    found = diagnose(0.3333, 2 / 3, FOUR)
    assert kinds(found) == ["factor"]
    assert "lost factor of 2" in found[0].explanation
    # 0.3334 is 6.7e-05 from 1/3: not half of 2/3 at four decimals.
    assert kinds(diagnose(0.3334, 2 / 3, FOUR)) == [UNEXPLAINED]


def test_an_extra_one_over_m_printed_to_four_decimals():
    # m = 3: 0.6666667 / 3 = 0.2222222, printed 0.2222.
    found = diagnose(0.2222, 2 / 3, FOUR, Context(batch_size=3))
    assert kinds(found) == ["factor"] and "extra 1/m (m = 3)" in found[0].explanation


def test_a_factor_the_precision_cannot_name_is_not_named():
    # "1" (tolerance 0.5) against 0.6: 0.6 * 2 = 1.2, 0.6 * 3/2 = 0.9 and 0.6 * 4/3 = 0.8
    # all print as 1, so the numbers cannot tell which factor, if any, was meant.
    assert kinds(diagnose(1.0, 0.6, 0.5)) == [UNEXPLAINED]


def test_signs_of_entries_printed_to_four_decimals():
    # True [1.68281, 2.34669]; printed [-1.6828, 2.3467]: entry 0 flipped, entry 1 right.
    found = diagnose(np.array([-1.6828, 2.3467]), np.array([1.68281, 2.34669]), FOUR)
    assert kinds(found) == ["sign"] and "entry [0]" in found[0].explanation


def test_a_sum_over_the_vector_printed_to_four_decimals():
    # -1/9 - 2/9 = -1/3 = -0.3333333, printed -0.3333.
    assert kinds(diagnose(-0.3333, np.array([-1 / 9, -2 / 9]), FOUR)) == ["shared_scalar"]
    # -0.3332 is not the sum at four decimals.
    assert kinds(diagnose(-0.3332, np.array([-1 / 9, -2 / 9]), FOUR)) != ["shared_scalar"]


def test_an_accumulation_printed_to_four_decimals():
    # 1/3 now + 1/3 left by an earlier backward() = 0.6666667, printed 0.6667.
    found = diagnose(0.6667, 1 / 3, FOUR, Context(earlier_gradients=[np.array(1 / 3)]))
    assert "accumulated" in kinds(found)


def test_a_transpose_printed_to_four_decimals():
    true = np.array([[1 / 3, 2 / 3], [0.0, 1.0]])
    claimed = np.array([[0.3333, 0.0], [0.6667, 1.0]])   # true.T, rounded
    assert kinds(diagnose(claimed, true, FOUR)) == ["transpose"]


def test_alternative_data_printed_to_four_decimals():
    # With the other data the value is 1/7 = 0.1428571, printed 0.1429.
    found = diagnose(0.1429, 0.5, FOUR, Context(recompute=lambda label: np.array(1 / 7),
                                                 alternatives={"the slide's data": "x = 7"}))
    assert kinds(found) == ["data_entry"]


def test_a_unit_vector_claimed_for_the_gradient():
    # The gradient [3, 4] has length 5; its direction [0.6, 0.8] is printed for it.
    found = diagnose(np.array([0.6, 0.8]), np.array([3.0, 4.0]), np.array([0.05, 0.05]))
    assert kinds(found) == ["normalised"]
    # One component: d/dw1 = 2 of the gradient (2, 3), length sqrt(13) = 3.6055513;
    # 2 / sqrt(13) = 0.5547002, printed 0.5547.
    assert kinds(diagnose(0.5547, 2.0, FOUR, Context(gradient_norm=np.sqrt(13.0)))) == ["normalised"]


def test_a_vector_near_its_direction_is_not_called_normalised():
    # [0.6, 0.9] is not [3, 4] / 5 = [0.6, 0.8] at one decimal.
    assert "normalised" not in kinds(diagnose(np.array([0.6, 0.9]), np.array([3.0, 4.0]), 0.05))
    # A scalar's "unit vector" is its sign: never a diagnosis without the other components.
    assert kinds(diagnose(1.0, 7.0, 0.5)) == [UNEXPLAINED]


def test_relation_failing_only_at_its_bound():
    from diffcheck.checking.diagnosis import diagnose_relation
    # The residual is exactly 0 where the document says it is > 0.
    assert kinds(diagnose_relation(">", np.array(0.0), np.array(0.0), 0.5)) == ["boundary"]
    # 2 > 3 fails, and not at the bound: nothing explains it.
    assert kinds(diagnose_relation(">", np.array(3.0), np.array(2.0), 0.5)) == [UNEXPLAINED]


# ---------------------------------------------------------------------------
# Diagnoses that need the case: claims built for each, checked end to end, with
# a right claim beside each that must come out confirmed and undiagnosed.

from diffcheck.documents.audit import check_case  # noqa: E402
from diffcheck.documents.catalogue import load  # noqa: E402

FAST = ["symbolic", "numeric", "engine"]


def case_from(tmp_path, body: str):
    path = tmp_path / "doc.toml"
    path.write_text('document = "doc.txt"\n' + body)
    loaded = load(path)
    assert not loaded.errors, loaded.errors
    return check_case(loaded.cases[0], FAST).findings


def summary(findings):
    return [(f.status, kinds(f.diagnoses)) for f in findings]


DOT = '''
[[case]]
name = "dot"
where = "Example 3"
expression = "dot(X, W)"
variables = { W = [1.0, 2.0], X = [2.0, 3.0] }
wrt = ["W"]
'''


def test_weights_and_inputs_swapped(tmp_path):
    # d/dW dot(X, W) = X = [2, 3].  With W and X exchanged it is W = [1, 2]:
    # the claim "[1, 2]" (and the formula "W") use the weights where the inputs belong.
    findings = case_from(tmp_path, DOT + '''
[[case.claim]]
kind = "gradient"
wrt = "W"
claimed = "[1., 2.]"
[[case.claim]]
kind = "formula"
wrt = "W"
formula = "W"
[[case.claim]]
kind = "gradient"
wrt = "W"
claimed = "[2., 3.]"
[[case.claim]]
kind = "formula"
wrt = "W"
formula = "X"
''')
    assert summary(findings) == [("refuted", ["roles_swapped"]), ("refuted", ["roles_swapped"]),
                                 ("confirmed", []), ("confirmed", [])]


ENTRYWISE = '''
[[case]]
name = "entrywise"
where = "Example 3"
expression = "w1*x1 + w2*x2"
variables = { w1 = 1.0, w2 = 2.0, x1 = 2.0, x2 = 3.0 }
wrt = ["w1", "w2"]
'''


def test_a_unit_vector_formula_written_for_the_gradient(tmp_path):
    # d/dw1 (w1 x1 + w2 x2) = x1; the gradient (x1, x2) has length sqrt(x1^2 + x2^2),
    # so x1/sqrt(x1^2 + x2^2) is its direction's first component, at every point.
    findings = case_from(tmp_path, ENTRYWISE + '''
[[case.claim]]
kind = "formula"
wrt = "w1"
formula = "x1/sqrt(x1**2 + x2**2)"
[[case.claim]]
kind = "gradient"
wrt = "w2"
claimed = "0.8321"
[[case.claim]]
kind = "formula"
wrt = "w1"
formula = "x1"
[[case.claim]]
kind = "formula"
wrt = "w1"
formula = "x1/(x1**2 + x2**2)"
''')
    # 3/sqrt(13) = 0.8320503, printed 0.8321.  The last formula divides by the squared
    # length, not the length: no diagnosis fits it.
    assert summary(findings) == [("refuted", ["normalised"]), ("refuted", ["normalised"]),
                                 ("confirmed", []), ("refuted", [UNEXPLAINED])]


def test_a_formula_that_follows_from_the_documents_other_data(tmp_path):
    # The surface X1*W0 + X2*W1 with W = [1, 2] has slope W0 = 1 along X1; a title that
    # says 2 follows from the coefficients [2, 3] the document gives elsewhere.
    findings = case_from(tmp_path, '''
[[case]]
name = "surface"
where = "plot"
expression = "X1*W0 + X2*W1"
variables = { X1 = 1.0, X2 = 1.0, W0 = 1.0, W1 = 2.0 }
wrt = ["X1", "X2"]
[[case.claim]]
kind = "formula"
wrt = "X1"
formula = "2"
[[case.claim]]
kind = "formula"
wrt = "X1"
formula = "W0"
[[case.alternatives]]
label = "coefficients [2, 3]"
values = { W0 = 2.0, W1 = 3.0 }
''')
    assert summary(findings) == [("refuted", ["data_entry"]), ("confirmed", [])]


RANDOM = '''
[[case]]
name = "draws"
where = "cell"
expression = "mean(z)"
variables = { x = [0.0, 1.0] }
define = { y = "x + 2", z = "2*y*y" }
wrt = ["x"]
random_inputs = ["x"]
'''


def test_outputs_of_one_cell_from_different_random_inputs(tmp_path):
    # x = [0, 1]: y = [2, 3], z = 2y^2 = [8, 18], d mean(z)/dx = 4y/2 = 2y = [4, 6].
    # Printed z = [2, 8] implies y = [1, 2] (nearest positive root), x = [-1, 0].
    # Printed grad = [6, 2] implies y = [3, 1], x = [1, -1], where z would be [18, 2]:
    # the two printed outputs cannot come from one x.
    findings = case_from(tmp_path, RANDOM + '''
[[case.claim]]
kind = "value"
expression = "z"
claimed = "[2.0000, 8.0000]"
[[case.claim]]
kind = "gradient"
wrt = "x"
claimed = "[6.0000, 2.0000]"
[[case.claim]]
kind = "value"
expression = "z"
where = "another cell"
claimed = "[8.0000, 18.0000]"
''')
    assert summary(findings) == [("refuted", ["random_input", "inconsistent_outputs"]),
                                 ("refuted", ["random_input", "inconsistent_outputs"]),
                                 ("confirmed", [])]
    assert "x = [-1, 0]" in findings[0].diagnoses[0].explanation
    assert "x = [1, -1]" in findings[1].diagnoses[0].explanation


def test_outputs_of_one_other_draw_are_not_called_inconsistent(tmp_path):
    # Printed z = [2, 8] and grad = [2, 4] both come from y = [1, 2], x = [-1, 0]:
    # another draw than the case's, but one draw.
    findings = case_from(tmp_path, RANDOM + '''
[[case.claim]]
kind = "value"
expression = "z"
claimed = "[2.0000, 8.0000]"
[[case.claim]]
kind = "gradient"
wrt = "x"
claimed = "[2.0000, 4.0000]"
''')
    assert summary(findings) == [("refuted", ["random_input"]), ("refuted", ["random_input"])]


def test_the_first_wrong_step_of_a_derivation_and_its_repair(tmp_path):
    # d/dx x*exp(x) = exp(x) + x*exp(x).  Step 2 writes '-' for '+'; step 3,
    # (1 - x)*exp(x), is step 2 factored: it carries that mistake.
    findings = case_from(tmp_path, '''
[[case]]
name = "product"
where = "slide"
expression = "x*exp(x)"
variables = { x = 0.5 }
[[case.claim]]
kind = "derivation"
wrt = "x"
steps = ["1*exp(x) + x*exp(x)", "exp(x) - x*exp(x)", "(1 - x)*exp(x)", "(1 + x)*exp(x)"]
''')
    assert [f.status for f in findings] == ["confirmed", "refuted", "refuted", "confirmed"]
    first, carried = findings[1].diagnoses, findings[2].diagnoses
    assert [d.kind for d in first] == ["derivation_step"]
    assert "first wrong step" in first[0].explanation and "step 1" in first[0].explanation
    assert "exp(x) + x * exp(x)" in first[0].explanation
    assert [d.kind for d in carried] == ["derivation_carried"]
    assert not findings[0].diagnoses and not findings[3].diagnoses


def test_a_right_derivation_gets_no_diagnosis(tmp_path):
    findings = case_from(tmp_path, '''
[[case]]
name = "product"
where = "slide"
expression = "x*exp(x)"
variables = { x = 0.5 }
[[case.claim]]
kind = "derivation"
wrt = "x"
steps = ["exp(x) + x*exp(x)", "(1 + x)*exp(x)"]
''')
    assert summary(findings) == [("confirmed", []), ("confirmed", [])]


def test_a_strict_inequality_that_fails_at_its_bound(tmp_path):
    # (x - 1)^2 at x = 1 is exactly 0: "> 0" fails only at equality.  At x = 2 it is 1 > 0.
    findings = case_from(tmp_path, '''
[[case]]
name = "residual"
where = "text"
expression = "(x - 1)**2"
variables = { x = 1.0 }
[[case.claim]]
kind = "value"
relation = ">"
claimed = "0"
[[case.claim]]
kind = "value"
relation = ">"
at = { x = 2.0 }
claimed = "0"
''')
    assert summary(findings) == [("refuted", ["boundary"]), ("confirmed", [])]
