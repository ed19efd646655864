"""The cases the code finder writes load as a case file and are checked by the
audit: claims the code printed rightly are confirmed, planted mistakes refuted."""

import tomli_w

from diffcheck.documents.audit import check_case
from diffcheck.documents.catalogue import load
from diffcheck.reading.codefinder import as_case_file, find

from tests.reading.codecells import notebook

BACKENDS = ["symbolic", "numeric", "engine"]   # torch is slow to import; it is not what is tested here

LESSON = notebook(
    "import torch\nx = torch.tensor(3., requires_grad=True)",
    # d(x^2)/dx at 3 = 6: right.
    ("y = x ** 2\ny.backward()\nprint('grad', x.grad)", "grad tensor(6.)\n"),
    # 3*9 + 12 + 2 = 41 (right); x.grad = 6 + 22 = 28 (right as an accumulation; as dy/dx it is wrong).
    ("y = 3*x**2 + 4*x + 2\nprint(y.item())\ny.backward()\nprint(x.grad)", "41.0\ntensor(28.)\n"),
    # mean of [1, 4, 9] is 14/3 = 4.6667; the output says 4.7667 (planted).
    ("v = torch.tensor([1., 2., 3.])\nprint(f'{(v ** 2).mean().item():.4f}')", "4.7667\n"),
    # loss = (w - 5)^2 from w = 2, lr = 0.1: losses 9, 5.76, 3.6864; w after: 2.6, 3.08, 3.464.
    # Step 1's printed w is planted wrong (3.18 for 3.08).
    ("w = torch.tensor(2., requires_grad=True)\nopt = torch.optim.SGD([w], lr=0.1)\n"
     "for i in range(3):\n    opt.zero_grad()\n    loss = (w - 5) ** 2\n    loss.backward()\n"
     "    opt.step()\n    print(f'{loss.item():.4f} {w.item():.4f}')",
     "9.0000 2.6000\n5.7600 3.1800\n3.6864 3.4640\n"),
    # A typo: not in today's schema, so left out of the file.
    "z = torch.tensor([1., 2.], dtpye=torch.float32)",
)


def audit(tmp_path):
    found = find(LESSON)
    path = tmp_path / "lesson.toml"
    path.write_bytes(tomli_w.dumps(as_case_file(found, "lesson.ipynb", "A lesson")).encode())
    case_file = load(path)
    assert case_file.errors == []
    verdicts = {}
    for case in case_file.cases:
        result = check_case(case, BACKENDS)
        for finding in result.findings:
            verdicts.setdefault(finding.status, []).append(finding.claimed)
    return found, verdicts


def test_right_claims_are_confirmed_and_planted_ones_refuted(tmp_path):
    found, verdicts = audit(tmp_path)
    assert sorted(verdicts["refuted"]) == sorted([
        "tensor(28.)",   # printed as the gradient of 3x^2 + 4x + 2, which is 22
        "4.7667",        # the mean is 4.6667
        "3.1800",        # w after step 1 is 3.08
    ])
    assert sorted(verdicts["confirmed"]) == sorted([
        "tensor(6.)", "tensor(6.)", "tensor(28.)",   # the accumulation: 6, then 6 + 22
        "41.0", "9.0000", "2.6000", "5.7600", "3.6864", "3.4640",
    ])
    assert "undecided" not in verdicts and "failed" not in verdicts


def test_the_runs_claim_stays_in_the_finder_but_not_in_a_schema_only_file(tmp_path):
    found = find(LESSON)
    runs = [c for case in found.cases for c in case["claim"] if c["kind"] == "runs"]
    assert [c["error"] for c in runs] == ["torch.tensor() got an unexpected keyword argument 'dtpye' "
                                         "(did you mean 'dtype'?)"]
    table = as_case_file(found, "lesson.ipynb")
    assert all(c["kind"] != "runs" for case in table["case"] for c in case["claim"])
    assert all("review" not in c for case in table["case"] for c in case["claim"])


def test_a_hand_written_gradient_that_is_off_by_the_batch_size_is_refuted(tmp_path):
    # loss = mean((w*X - Y)^2) with X = [1, 2, 3, 4], Y = 2X, w = 0. The true gradient is
    # mean(2X(wX - Y)) = mean(2 * [1, 2, 3, 4] * [-2, -4, -6, -8]) = mean([-4, -16, -36, -64]) = -30,
    # but the code's dot(2X, wX - Y) is the sum, -120. With lr = 0.01 the code prints
    # w = 0 + 1.2 = 1.2 after step 0 (the truth: 0.3); loss at step 0 is mean([4, 16, 36, 64]) = 30.
    code = ("import numpy as np\nX = np.array([1., 2., 3., 4.])\nY = np.array([2., 4., 6., 8.])\nw = 0.0\n"
            "for epoch in range(1):\n    y_pred = w * X\n    loss = ((y_pred - Y) ** 2).mean()\n"
            "    dw = np.dot(2 * X, y_pred - Y)\n    w -= 0.01 * dw\n"
            "    print(f'epoch {epoch + 1}: w = {w:.3f}, loss = {loss:.8f}')")
    found = find(notebook((code, "epoch 1: w = 1.200, loss = 30.00000000\n")))
    path = tmp_path / "gd.toml"
    path.write_bytes(tomli_w.dumps(as_case_file(found, "gd.ipynb")).encode())
    [case] = load(path).cases
    statuses = {(f.kind, f.claimed): f.status for f in check_case(case, BACKENDS).findings}
    assert statuses == {
        ("formula", "dot(2*X, y_pred - Y)"): "refuted",   # 4x the derivative
        ("descent", "30.00000000"): "confirmed",  # the loss at the start is right
        ("descent", "1.200"): "refuted",          # the step used the wrong gradient
    }
