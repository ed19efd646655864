"""Plot data for the HTML report: the slice through a case's point and the
step-size errors, with expected values worked out by hand."""

import json

import numpy as np
import pytest

from diffcheck.documents.catalogue import load
from diffcheck.documents.plotdata import MAX_SYMBOLIC_OPERATIONS, profile

ALL_BACKENDS = ("symbolic", "numeric", "engine", "torch")


def case_from(tmp_path, expression, variables, wrt=None):
    """One case as the audit sees it, read from a case file."""
    lines = ['format = 1', 'document = "doc.txt"', '', '[[case]]', 'name = "c"', 'where = "here"',
             f'expression = "{expression}"',
             "variables = { " + ", ".join(f"{k} = {v}" for k, v in variables.items()) + " }"]
    if wrt:
        lines.append("wrt = [" + ", ".join(f'"{w}"' for w in wrt) + "]")
    path = tmp_path / "doc.toml"
    path.write_text("\n".join(lines) + "\n")
    loaded = load(path)
    assert not loaded.errors, loaded.errors
    return loaded.cases[0]


@pytest.fixture(scope="module")
def square(tmp_path_factory):
    """x**2 at x = 3: half-width s = 0.5 * max(1, 3) = 1.5, so t runs over [1.5, 4.5]."""
    return profile(case_from(tmp_path_factory.mktemp("square"), "x**2", {"x": 3.0}))


def test_slice_varies_the_variable_over_half_width_either_side(square):
    assert (square["variable"], square["index"], square["entry"]) == ("x", [], "x")
    assert square["point"] == 3.0 and square["half_width"] == 1.5
    t = square["slice"]["t"]
    assert len(t) == 25
    assert t[0] == pytest.approx(1.5) and t[-1] == pytest.approx(4.5)
    assert t[12] == 3.0   # the case's point itself, not a neighbour of it


def test_slice_values_are_the_function(square):
    t = np.array(square["slice"]["t"])
    assert np.allclose(square["slice"]["value"], t ** 2, rtol=0, atol=1e-12)


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_every_method_gives_two_t_along_the_slice(square, backend):
    data = square["slice"]["backends"][backend]
    t = np.array(square["slice"]["t"])
    assert data["status"] == ["ok"] * 25
    assert np.max(np.abs(np.array(data["derivative"]) - 2 * t)) < 1e-8


def test_profile_is_strict_json(square):
    assert json.loads(json.dumps(square, allow_nan=False)) == square


def test_step_errors_are_h_squared_then_rounding(tmp_path):
    # (f(x+h) - f(x-h)) / 2h for f = x**3 is 3x**2 + h**2 exactly: at x = 2 the
    # error is h**2 until rounding, about eps * f / h, takes over for tiny h.
    steps = profile(case_from(tmp_path, "x**3", {"x": 2.0}))["steps"]
    assert steps["h"] == [10.0 ** -k for k in range(13)]
    assert steps["reference"] == "symbolic" and steps["derivative"] == 12.0
    error = dict(zip(steps["h"], steps["error"]))
    assert error[1.0] == 1.0          # (27 - 1) / 2 - 12, every number exact in floats
    assert error[0.1] == pytest.approx(1e-2, rel=1e-6)
    assert error[1e-3] == pytest.approx(1e-6, rel=1e-3)
    # eps * 8 / 1e-12 is about 2e-3: far above the 1e-24 truncation error there.
    assert max(error[h] for h in (1e-10, 1e-11, 1e-12)) > 1e-6


def test_numeric_backends_own_error_and_estimate(tmp_path):
    numeric = profile(case_from(tmp_path, "x**3", {"x": 2.0}))["steps"]["numeric"]
    assert numeric["status"] == "ok"
    assert numeric["value"] == pytest.approx(12.0, abs=1e-9)
    assert numeric["error"] < 1e-9
    assert 0 < numeric["estimate"] < 1e-6


def test_an_entry_of_a_vector_is_varied_alone(tmp_path):
    # sum(w**2) along w[0] with w = [1, 2, 3]: f = t**2 + 4 + 9, df/dw[0] = 2t.
    result = profile(case_from(tmp_path, "sum(w**2)", {"w": "[1.0, 2.0, 3.0]"}, wrt=["w"]))
    assert (result["variable"], result["index"], result["entry"]) == ("w", [0], "w[0]")
    t = np.array(result["slice"]["t"])
    assert t[12] == 1.0 and t[0] == pytest.approx(0.5)
    assert np.allclose(result["slice"]["value"], t ** 2 + 13, rtol=0, atol=1e-12)
    for backend in ALL_BACKENDS:
        assert np.allclose(result["slice"]["backends"][backend]["derivative"], 2 * t, rtol=0, atol=1e-8)


def test_first_wrt_variable_is_the_one_varied(tmp_path):
    # x*y with wrt = [y]: d/dy = x = 4 everywhere on the slice in y.
    result = profile(case_from(tmp_path, "x*y", {"x": 4.0, "y": -3.0}, wrt=["y"]))
    assert result["variable"] == "y" and result["half_width"] == 1.5
    assert result["slice"]["backends"]["engine"]["derivative"] == [4.0] * 25


def test_points_where_the_function_is_not_finite_are_nan(tmp_path):
    # log(x) at 0.5: s = 0.5, so the slice starts at t = 0 exactly, where log is -inf.
    result = profile(case_from(tmp_path, "log(x)", {"x": 0.5}))
    assert result["slice"]["t"][0] == 0.0
    assert result["slice"]["value"][0] == "nan"
    for backend in ALL_BACKENDS:
        data = result["slice"]["backends"][backend]
        assert data["derivative"][0] == "nan" and data["status"][0] == "skipped"
        assert data["derivative"][-1] == pytest.approx(1.0)   # 1/t at t = 1
    json.dumps(result, allow_nan=False)


def test_large_case_goes_without_symbolic_and_falls_back_to_numeric(tmp_path):
    # 600 entries squared and summed: far over the symbolic profile cap.
    values = "[" + ", ".join(["1.0"] * 600) + "]"
    result = profile(case_from(tmp_path, "sum(w**2)", {"w": values}, wrt=["w"]))
    symbolic = result["slice"]["backends"]["symbolic"]
    assert set(symbolic["status"]) == {"skipped"} and set(symbolic["derivative"]) == {"nan"}
    assert f"{MAX_SYMBOLIC_OPERATIONS:,}" in symbolic["reason"]
    assert result["steps"]["reference"] == "numeric"
    assert result["slice"]["backends"]["engine"]["derivative"][12] == 2.0


def test_chosen_backends_only(tmp_path):
    result = profile(case_from(tmp_path, "x**2", {"x": 3.0}), backends=["numeric", "engine"])
    assert list(result["slice"]["backends"]) == ["numeric", "engine"]
    assert result["steps"]["reference"] == "numeric"


def test_expression_without_variables_has_no_slice(tmp_path):
    result = profile(case_from(tmp_path, "2*pi", {"x": 1.0}))
    assert result["variable"] is None
    assert result["reason"] == "the expression has no variable to vary"
