"""Smooth expressions and points shared by tests/test_corpus.py and benchmarks/numeric_accuracy.py.

Each entry is (expression, {variable: [points...]}); every expression is smooth
at every listed point, so each method should get the derivative to within its own
error estimate.
"""

SMOOTH = [
    ("3*x**2 - 2*x + 5", [-3.0, 0.5, 3.0, 40.0]),
    ("x**3 - 7*x", [-2.0, 0.1, 1.5, 9.0]),
    ("exp(x)", [-5.0, 0.0, 1.0, 10.0]),
    ("exp(-x**2)", [-1.5, 0.3, 2.0]),
    ("exp(3*x)", [-1.0, 0.25, 2.0]),
    ("log(x)", [0.01, 0.5, 3.0, 1000.0]),
    ("log(1 + x**2)", [-4.0, 0.0, 2.5]),
    ("sqrt(x)", [0.04, 1.0, 50.0]),
    ("sqrt(1 + x**2)", [-3.0, 0.0, 7.0]),
    ("sin(x)", [-2.0, 0.0, 1.0, 100.0]),
    ("cos(x)", [-1.0, 0.5, 3.0]),
    ("tan(x)", [-1.2, 0.0, 0.7]),
    ("sin(x)*cos(x)", [0.3, 2.0]),
    ("sin(x)**2 + cos(x)**2", [0.4, 5.0]),
    ("arcsin(x)", [-0.9, 0.0, 0.5]),
    ("arccos(x)", [-0.5, 0.2, 0.95]),
    ("arctan(x)", [-10.0, 0.0, 1.0]),
    ("sinh(x)", [-2.0, 0.5, 4.0]),
    ("cosh(x)", [-3.0, 0.0, 1.0]),
    ("tanh(x)", [-2.0, 0.0, 0.5, 3.0]),
    ("sigmoid(x)", [-6.0, 0.0, 0.7, 5.0]),
    ("softplus(x)", [-8.0, 0.0, 2.0, 25.0]),
    ("elu(x)", [-2.0, 0.5]),
    ("leaky_relu(x, 0.1)", [-1.5, 2.0]),
    ("relu(x)", [-1.0, 3.0]),
    ("abs(x)", [-2.0, 0.5]),
    ("square(x - 1)", [-1.0, 4.0]),
    ("1 / x", [-3.0, 0.2, 5.0]),
    ("1 / (1 + x**2)", [-2.0, 0.0, 1.0]),
    ("x / (1 + exp(-x))", [-3.0, 0.0, 2.0]),
    ("x * exp(x)", [-1.0, 0.0, 2.0]),
    ("x * log(x)", [0.5, 2.0, 10.0]),
    ("exp(sin(x))", [-1.0, 0.0, 2.0]),
    ("log(cosh(x))", [-2.0, 0.1, 3.0]),
    ("sigmoid(2*x - 1)**2", [-1.0, 0.5, 1.5]),
    ("tanh(sigmoid(x))", [-2.0, 1.0]),
    ("sin(x**2)", [0.5, 1.5, 3.0]),
    ("cos(exp(x))", [-1.0, 0.5, 1.0]),
    ("x**0.5 + x**1.5", [0.3, 2.0, 9.0]),
    ("x**x", [0.5, 1.0, 2.0]),
    ("2**x", [-1.0, 0.0, 3.0]),
    ("arctan(1 / x)", [0.5, 2.0]),
    ("exp(x) / (1 + exp(x))", [-2.0, 0.0, 3.0]),
    ("max(x, 1) * x", [-1.0, 3.0]),
    ("min(x**2, 4)", [-1.0, 3.0]),
    ("x * y + sin(x * y)", {"x": [0.5, 2.0], "y": [1.0, -1.5]}),
    ("exp(x - y) * cos(y)", {"x": [0.0, 1.0], "y": [0.5, -0.7]}),
    ("log(x**2 + y**2)", {"x": [1.0, -2.0], "y": [0.5, 3.0]}),
    ("sigmoid(w * x + b)", {"w": [0.5, -1.2], "x": [2.0, 1.0], "b": [0.1, 0.3]}),
    ("(sigmoid(w * x + b) - y)**2", {"w": [0.5, 1.1], "x": [2.0, -1.0], "b": [0.1, 0.0], "y": [1.0, 0.0]}),
    ("softplus(w * x) + 0.5 * w**2", {"w": [0.3, -2.0], "x": [1.5, 0.5]}),
    ("tanh(a) * tanh(b)", {"a": [0.2, -1.0], "b": [1.5, 0.4]}),
    ("sqrt(x**2 + y**2 + 1)", {"x": [3.0, -0.5], "y": [4.0, 0.2]}),
    ("x**3 * y**2 - x * y", {"x": [1.5, -2.0], "y": [0.5, 3.0]}),
    ("mean((X @ w - y)**2)", {"X": [[[1.0, 2.0], [3.0, 4.0], [0.5, -1.0]]], "w": [[0.1, -0.2], [1.0, 2.0]],
                              "y": [[1.0, 0.0, 1.0]]}),
    ("mean((sigmoid(X @ w + b) - y)**2)", {"X": [[[1.0, 2.0], [3.0, 4.0], [0.5, -1.0]]],
                                          "w": [[0.1, -0.2], [0.5, 0.5]], "b": [0.3, -0.1],
                                          "y": [[1.0, 0.0, 1.0]]}),
    ("sum(log(softplus(v)))", {"v": [[0.5, -1.0, 2.0], [3.0, 0.1, -0.4]]}),
    ("dot(u, v) / (1 + dot(u, u))", {"u": [[1.0, 2.0, -1.0]], "v": [[0.5, 0.5, 3.0]]}),
]


def cases():
    """Every (expression, point) pair of the corpus, points as dicts of values."""
    out = []
    for text, points in SMOOTH:
        if isinstance(points, list):
            out.extend((text, {"x": p}) for p in points)
            continue
        count = len(next(iter(points.values())))
        for i in range(count):
            out.append((text, {name: values[i] for name, values in points.items()}))
    return out
