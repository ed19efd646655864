"""Expression text the finder writes reads back, through diffcheck's own parser,
as the code's arithmetic: brackets exactly where Python's precedence needs them."""

import numpy as np
import pytest

from diffcheck.language.expr import evaluate
from diffcheck.language.parser import parse
from diffcheck.reading.codefinder import find

from tests.reading.codecells import notebook


@pytest.mark.parametrize("code, expected", [
    # (python expression over a, b, c; the value it has at a=2, b=3, c=5, worked by hand)
    ("a - (b - c)", 2 - (3 - 5)),          # 4
    ("a - b - c", 2 - 3 - 5),              # -6
    ("a / (b * c)", 2 / 15),
    ("a * (b / c)", 2 * 3 / 5),            # 1.2
    ("(a + b) ** 2", 25),
    ("-a ** 2", -4),
    ("(-a) ** 2", 4),
    ("a ** -1", 0.5),
    ("2 ** (a + 1)", 8),
    ("-(a - b) * c", 5),                   # -(2 - 3) * 5 = 5
])
def test_rendered_expressions_keep_python_precedence(code, expected):
    source = (f"import numpy as np\na = np.array(2.0)\nb = np.array(3.0)\nc = np.array(5.0)\n"
              f"print({code})")
    found = find(notebook((source, f"{expected}\n")))
    [case] = found.cases
    text = case["claim"][0].get("expression", case["expression"])
    tree = parse(text, list(case["variables"]))
    point = {k: np.asarray(v, float) for k, v in case["variables"].items()}
    assert float(evaluate(tree, point)) == pytest.approx(expected)


def test_a_scalar_times_a_matrix_product_keeps_its_brackets():
    # A * (B @ v) with A = [[1, 2], [3, 4]], B = I, v = [1, 1]: A * [1, 1] = [[1, 2], [3, 4]];
    # sum = 10. Without brackets (A * B) @ v = [[1, 0], [0, 4]] @ [1, 1] = [1, 4], sum 5.
    source = ("import numpy as np\nA = np.array([[1., 2.], [3., 4.]])\nB = np.array([[1., 0.], [0., 1.]])\n"
              "v = np.array([1., 1.])\nprint(np.sum(A * (B @ v)))")
    [case] = find(notebook((source, "10.0\n"))).cases
    assert case["expression"] == "sum(A*(B @ v))"
