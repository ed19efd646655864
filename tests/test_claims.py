"""Claim checking: each kind of claim on small cases whose answers are worked out by hand."""

import numpy as np
import pytest

from diffcheck.documents.audit import check_case
from diffcheck.backends import BACKENDS, Gradient
from diffcheck.documents.catalogue import load

FAST = ["symbolic", "numeric", "engine"]


def case_from(tmp_path, body: str, backends=FAST):
    path = tmp_path / "doc.toml"
    path.write_text('document = "doc.txt"\n' + body)
    loaded = load(path)
    assert not loaded.errors, loaded.errors
    return check_case(loaded.cases[0], backends)


def statuses(result):
    return [f.status for f in result.findings]


def kinds(finding):
    return [d.kind for d in finding.diagnoses]


QUADRATIC = '''
[[case]]
name = "quadratic"
where = "In [5]"
expression = "3*x**2 + 4*x + 2"
variables = { x = 3.0 }
'''


def test_a_value_is_checked_at_the_precision_it_is_printed(tmp_path):
    result = case_from(tmp_path, '''
[[case]]
name = "third"
where = "a slide"
expression = "x/3"
variables = { x = 1.0 }
[[case.claim]]
kind = "value"
claimed = "0.3333"
[[case.claim]]
kind = "value"
claimed = "0.3334"
''')
    assert statuses(result) == ["confirmed", "refuted"]


def test_an_accumulated_gradient_printed_as_the_derivative_is_diagnosed(tmp_path):
    # d/dx (3x^2 + 4x + 2) at 3 is 22; x.grad still held d(x^2)/dx = 6 from an earlier call.
    result = case_from(tmp_path, QUADRATIC + '''
[[case.claim]]
kind = "gradient"
wrt = "x"
claimed = "tensor(28.)"
earlier = ["x**2"]
[[case.claim]]
kind = "gradient"
wrt = "x"
claimed = "22"
''')
    wrong, right = result.findings
    assert (wrong.status, right.status) == ("refuted", "confirmed")
    assert kinds(wrong) == ["accumulated"]
    assert float(wrong.true) == 22.0


def test_a_vector_gradient_summed_into_one_number_is_diagnosed(tmp_path):
    # y_pred = [9, 11], y = [11, 15]: dL/dw1 = (y_pred - y) * x1 = [-4, -12]; the sum is -16.
    result = case_from(tmp_path, '''
[[case]]
name = "two-weights"
where = "In [10]"
expression = "mean((x1*w1 + x2*w2 + b - y)**2)"
variables = { x1 = [2.0, 3.0], x2 = [2.0, 1.0], w1 = [3.0, 2.0], w2 = [1.0, 4.0], b = 1.0, y = [11.0, 15.0] }
wrt = ["w1", "w2", "b"]
[[case.claim]]
kind = "gradient"
wrt = "w1"
claimed = "-16.0"
[[case.claim]]
kind = "gradient"
wrt = "w1"
claimed = "tensor([ -4., -12.])"
''')
    wrong, right = result.findings
    assert kinds(wrong) == ["shared_scalar"]
    assert right.status == "confirmed"
    assert np.allclose(right.true, [-4.0, -12.0])


def test_a_formula_is_confirmed_or_refuted_for_all_values(tmp_path):
    result = case_from(tmp_path, '''
[[case]]
name = "sigmoid"
where = "Chain rule"
expression = "sigmoid(z)"
variables = { z = 0.0 }
[[case.claim]]
kind = "formula"
wrt = "z"
formula = "sigmoid(z)*(1 - sigmoid(z))"
[[case.claim]]
kind = "formula"
wrt = "z"
formula = "sigmoid(z)*(1 + sigmoid(z))"
''')
    right, wrong = result.findings
    assert right.status == "confirmed"
    assert wrong.status == "refuted"
    # At the case's point z = 0: sigma = 1/2, so the wrong formula gives 3/4 and the truth is 1/4.
    assert wrong.evidence["claimed_value"] == pytest.approx(0.75)
    assert wrong.evidence["true_value"] == pytest.approx(0.25)


def test_a_formula_missing_the_factor_2_of_a_square_is_diagnosed(tmp_path):
    result = case_from(tmp_path, '''
[[case]]
name = "mse"
where = "(1)"
expression = "mean((w*x - y)**2)"
variables = { w = 0.5, x = [1.0, 2.0, 3.0], y = [1.0, 0.0, 2.0] }
batch_size = 3
[[case.claim]]
kind = "formula"
wrt = "w"
formula = "mean((w*x - y)*x)"
''')
    finding, = result.findings
    assert finding.status == "refuted"
    assert kinds(finding) == ["factor"]
    assert "lost factor of 2" in finding.diagnoses[0].explanation


def test_each_step_of_a_derivation_is_its_own_claim(tmp_path):
    # The third step turns a product into a difference: tanh(z/2), not sigma'(z).
    result = case_from(tmp_path, '''
[[case]]
name = "sigmoid-derivation"
where = "Derivative of sigmoid"
expression = "1/(1 + exp(-z))"
variables = { z = 0.5 }
[[case.claim]]
kind = "derivation"
wrt = "z"
steps = ["exp(-z)/(1 + exp(-z))**2",
         "(1 + exp(-z) - 1)/(1 + exp(-z))**2",
         "1/(1 + exp(-z)) - (1 + exp(-z) - 1)/(1 + exp(-z))",
         "sigmoid(z)*(1 - sigmoid(z))"]
''')
    assert statuses(result) == ["confirmed", "confirmed", "refuted", "confirmed"]
    assert "step 3 of 4" in result.findings[2].subject


def test_a_derivation_without_wrt_is_a_chain_of_equalities(tmp_path):
    result = case_from(tmp_path, QUADRATIC + '''
[[case.claim]]
kind = "derivation"
steps = ["6*(3) + 4", "18 + 4", "22", "23"]
''')
    assert statuses(result) == ["confirmed", "confirmed", "refuted"]


def test_an_inequality_claim_is_refuted_by_a_point(tmp_path):
    # Every row of the data satisfies y = x1 + x2, so w1 = w2 = 1 makes the residual exactly zero.
    result = case_from(tmp_path, '''
[[case]]
name = "system"
where = "Overdetermined system"
expression = "sum((w1*x1 + w2*x2 - y)**2)"
variables = { w1 = 0.0, w2 = 0.0, x1 = [1.0, 2.0, 4.0], x2 = [1.0, 3.0, 1.0], y = [2.0, 5.0, 5.0] }
wrt = ["w1", "w2"]
[[case.claim]]
kind = "value"
relation = ">"
claimed = "0"
at = { w1 = 1.0, w2 = 1.0 }
''')
    finding, = result.findings
    assert finding.status == "refuted"
    assert float(finding.true) == 0.0


WEIGHTS = '''
[[case]]
name = "weights"
where = "Empty gradients"
expression = "sum(3*w)"
variables = { w = [1.0, 1.0, 1.0, 1.0] }
'''


def test_accumulated_gradients_without_and_with_zeroing(tmp_path):
    result = case_from(tmp_path, WEIGHTS + '''
[[case.claim]]
kind = "accumulate"
wrt = "w"
repeat = 4
zero_after = [3]
shown = ["tensor([3., 3., 3., 3.])", "[6, 6, 6, 6]", "[9., 9., 9., 9.]", "[6., 6., 6., 6.]"]
''')
    # After zeroing at call 3, call 4 starts again from 3, so the printed 6 is wrong.
    assert statuses(result) == ["confirmed", "confirmed", "confirmed", "refuted"]
    scenario, = result.scenarios
    assert scenario.verdict == "agree"
    assert set(scenario.runs) == set(FAST)


def test_a_descent_trajectory_step_by_step(tmp_path):
    # w <- w - 0.1 * 3 each step: 1 -> 0.7 -> 0.4 -> 0.1; output sum(3w) = 12, 8.4, 4.8.
    result = case_from(tmp_path, WEIGHTS + '''
[[case.claim]]
kind = "descent"
parameters = ["w"]
learning_rate = "0.1"
steps = 3
[[case.claim.shown]]
step = 0
loss = "tensor(12., grad_fn=<SumBackward0>)"
grad = { w = "tensor([3., 3., 3., 3.])" }
after = { w = "tensor([0.7000, 0.7000, 0.7000], requires_grad=True)" }
[[case.claim.shown]]
step = 2
loss = "4.8000"
after = { w = "[0.1000, 0.1000, 0.1000, 0.1000]" }
''')
    assert statuses(result) == ["confirmed", "confirmed", "refuted", "confirmed", "confirmed"]
    assert kinds(result.findings[2]) == ["shape"]
    assert result.scenarios[0].verdict == "agree"


def test_descent_without_zeroing_follows_the_accumulated_gradient(tmp_path):
    # Gradients 3, 6, 9 accumulate: weights 0.7, 0.1, -0.8.
    result = case_from(tmp_path, WEIGHTS + '''
[[case.claim]]
kind = "descent"
parameters = ["w"]
learning_rate = 0.1
steps = 3
zero_grad = false
[[case.claim.shown]]
step = 2
after = { w = "[-0.8, -0.8, -0.8, -0.8]" }
''')
    assert statuses(result) == ["confirmed"]


class _Skewed:
    """The engine with every gradient scaled by 1 + 1e-6: a subtly wrong method."""

    name = "engine"

    def __init__(self, right):
        self.right = right

    def gradient(self, problem, point):
        right = self.right.gradient(problem, point)
        return Gradient("engine", value=right.value, errors=right.errors,
                        gradients={k: v * (1 + 1e-6) for k, v in right.gradients.items()})


def test_a_method_whose_trajectory_drifts_is_reported(tmp_path, monkeypatch):
    monkeypatch.setitem(BACKENDS, "engine", _Skewed(BACKENDS["engine"]))
    result = case_from(tmp_path, '''
[[case]]
name = "logistic"
where = "training"
expression = "mean((sigmoid(x*w) - y)**2)"
variables = { w = 0.3, x = [1.0, 2.0, -1.0], y = [0.0, 1.0, 1.0] }
wrt = ["w"]
[[case.claim]]
kind = "descent"
parameters = ["w"]
learning_rate = 0.5
steps = 5
''')
    scenario, = result.scenarios
    assert scenario.verdict == "discrepancy"
    assert "engine" in scenario.reason


@pytest.mark.parametrize("dtype,status", [("float32", "confirmed"), ("float64", "refuted")])
def test_a_value_printed_by_float32_code_carries_float32_rounding(tmp_path, dtype, status):
    # In float32, 1e8 + 1 rounds back to 1e8 (the spacing there is 8), so code in
    # float32 prints 0 for a sum whose exact value is 1.
    result = case_from(tmp_path, f'''
[[case]]
name = "cancel"
where = "a float32 cell"
dtype = "{dtype}"
expression = "sum(x)"
variables = {{ x = [1e8, 1.0, -1e8] }}
[[case.claim]]
kind = "value"
claimed = "0"
''')
    assert statuses(result) == [status]
