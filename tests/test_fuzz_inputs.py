"""Untrusted input never executes, and only diffcheck's own errors come out.

Hypothesis drives the generators of ``tests/hostile.py``: expressions in the
grammar with hostile leaves, random and mutated text, random and mutated case
files.  Every refusal must be a one-line :class:`DiffcheckError` naming its
source (and column); a sentinel planted in the inputs must never fire.  The
long run of the same generators is ``benchmarks/fuzz_inputs.py``.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diffcheck.documents.catalogue import load
from diffcheck.cli import main
from diffcheck.errors import ExpressionError, PointError
from diffcheck.checking.harness import AGREE, check_expr
from diffcheck.language.parser import check_identifier, parse
from hostile import (COLLIDING_NAMES, REFUSED_NAMES, Sentinel, case_file, expression, mutate,
                     point, random_text, toml_string, try_check, try_load, try_parse)

FAST = settings(max_examples=300, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SLOW = settings(FAST, max_examples=25)


@pytest.fixture(scope="module")
def sentinel(tmp_path_factory):
    planted = Sentinel(tmp_path_factory.mktemp("sentinel"))
    yield planted
    planted.close()
    assert not planted.triggered(), "text planted in a fuzzed input was executed"


@pytest.fixture(autouse=True)
def sentinel_untouched(sentinel):
    yield
    assert not sentinel.triggered(), "text planted in a fuzzed input was executed"


def test_sentinel_fires_when_its_payload_is_run(tmp_path):
    # The check is only worth something if the payload really has the side effect.
    probe = Sentinel(tmp_path)
    try:
        exec(probe.payloads()[0])  # noqa: S102 - trusted text, proving the sentinel works
        assert probe.triggered()
    finally:
        probe.close()


@pytest.mark.parametrize("index", range(22))
def test_every_payload_is_refused(sentinel, index):
    text = sentinel.payloads()[index]
    outcome, error = try_parse(text, ["x", "y"])
    assert outcome == "refused", text
    assert isinstance(error, ExpressionError)


@pytest.mark.slow
@FAST
@given(rnd=st.randoms(use_true_random=False))
def test_structured_expressions_parse_or_are_refused_clearly(sentinel, rnd):
    names = rnd.sample(COLLIDING_NAMES, 3)
    try_parse(expression(rnd, names, sentinel.payloads()), names)


@pytest.mark.slow
@FAST
@given(rnd=st.randoms(use_true_random=False))
def test_mutated_expressions_parse_or_are_refused_clearly(sentinel, rnd):
    names = ["x", "y", "print", "Symbol"]
    try_parse(mutate(rnd, expression(rnd, names, sentinel.payloads())), names, where="f.toml: case 'c'")


@pytest.mark.slow
@FAST
@given(text=st.text(max_size=80))
def test_random_text_parses_or_is_refused_clearly(text):
    try_parse(text, ["x"])


@FAST
@given(rnd=st.randoms(use_true_random=False))
def test_random_symbol_soup_parses_or_is_refused_clearly(rnd):
    try_parse(random_text(rnd), ["x", "y", "z"])


@SLOW
@given(rnd=st.randoms(use_true_random=False))
def test_generated_case_files_load_or_report_each_bad_case(sentinel, tmp_path_factory, rnd):
    path = tmp_path_factory.mktemp("cases") / "doc.toml"
    path.write_text(case_file(rnd, sentinel.payloads()), encoding="utf-8")
    try_load(path)


@pytest.mark.slow
@FAST
@given(rnd=st.randoms(use_true_random=False))
def test_mutated_case_files_load_or_report_each_bad_case(sentinel, tmp_path_factory, rnd):
    path = tmp_path_factory.mktemp("cases") / "doc.toml"
    text = mutate(rnd, case_file(rnd, sentinel.payloads()), ["[", "]", "=", '"', "\n", "[[case]]", "{"])
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try_load(path)


@pytest.mark.slow
@FAST
@given(data=st.binary(max_size=300))
def test_random_bytes_as_a_case_file_are_one_clear_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("cases") / "doc.toml"
    path.write_bytes(data)
    try_load(path)


@settings(SLOW, max_examples=30)
@given(rnd=st.randoms(use_true_random=False))
def test_checks_of_generated_expressions_end_in_an_outcome(sentinel, rnd):
    names = rnd.sample(COLLIDING_NAMES, 2)
    text = expression(rnd, names, sentinel.payloads(), depth=3)
    if try_parse(text, names)[0] == "parsed":
        try_check(text, point(rnd, names))


@pytest.mark.parametrize("name", COLLIDING_NAMES)
def test_a_colliding_name_is_a_plain_variable_on_all_four_methods(name):
    # d/dv (v**3 + 2*v) = 3 v**2 + 2 = 14 at v = 2, whatever the name means elsewhere.
    result = check_expr(f"{name}**3 + 2*{name}", {name: 2.0})
    assert result.verdict == AGREE, result.reason
    assert set(result.gradients) == {"symbolic", "numeric", "engine", "torch"}
    for backend, gradient in result.gradients.items():
        assert gradient[name] == pytest.approx(14.0, rel=1e-9), backend


@pytest.mark.parametrize("name", ["Symbol", "print", "I"])
def test_a_colliding_vector_name_works_entry_by_entry(name):
    # d/dv sum(v * v) = 2 v.
    result = check_expr(f"sum({name} * {name})", {name: [1.0, -3.0]})
    assert result.verdict == AGREE
    assert result.gradients["symbolic"][name].tolist() == [2.0, -6.0]


@pytest.mark.parametrize("name,message", [
    ("__import__", "names starting with '__' are not allowed"),
    ("None", "is a Python keyword"),
    ("lambda", "is a Python keyword"),
    ("x.y", "is not a plain identifier"),
    ("ｘ", "is not a plain identifier"),
])
def test_a_variable_name_that_could_smuggle_code_is_refused(name, message):
    with pytest.raises(ExpressionError, match=message):
        check_expr("1", {name: 1.0})


@pytest.mark.parametrize("name", REFUSED_NAMES)
def test_every_refused_name_is_refused_by_the_identifier_check(name):
    with pytest.raises(ExpressionError):
        check_identifier(name)


@pytest.mark.parametrize("text,column", [("ｓｉｎ(x)", 1), ("x + 𝑥", 5), ("2 − x", 3)])
def test_unicode_lookalikes_are_refused_not_read_as_ascii(text, column):
    # Python would read 'ｓｉｎ' as 'sin' (NFKC); the reader sees another name.
    with pytest.raises(ExpressionError, match=f"column {column}: character .* is not ASCII"):
        parse(text, ["x"])


def test_a_gigantic_array_is_refused_before_any_work():
    import numpy as np
    with pytest.raises(PointError, match=r"point: x has 2000000 entries \(at most 1000000\)"):
        check_expr("sum(x)", {"x": np.zeros(2_000_000)})


def test_a_gigantic_array_in_a_case_file_names_file_and_case(tmp_path, monkeypatch):
    # The limit lowered to 100 so that the test stays fast: a 10 x 11 matrix exceeds it.
    monkeypatch.setattr("diffcheck.checking.problems.MAX_ENTRIES", 100)
    row = "[" + "0," * 11 + "]"
    path = tmp_path / "doc.toml"
    path.write_text('format = 1\ndocument = "d"\n[[case]]\nname = "big"\nwhere = "w"\n'
                    'expression = "sum(x)"\nvariables = { x = [' + ",".join([row] * 10) + '] }\n')
    assert try_load(path) == (0, 1)
    message = str(load(path).errors[0])
    assert message == f"{path}: case 'big', variables: x has 110 entries (at most 100)"


def test_colliding_names_reach_every_report_format_as_data(tmp_path):
    names = ["print", "Symbol", "sympify", "open", "I", "nan", "oo"]
    variables = ", ".join(f"{n} = {i + 1}.5" for i, n in enumerate(names))
    text = " + ".join(f"{n}**2" for n in names)
    (tmp_path / "doc.toml").write_text(
        f'format = 1\ndocument = "d"\n[[case]]\nname = "names"\nwhere = "<script>w</script>"\n'
        f"expression = {toml_string(text)}\nvariables = {{ {variables} }}\n", encoding="utf-8")
    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["audit", str(tmp_path / "doc.toml"), "--report-dir", str(out),
                                    "--format", "json", "--format", "junit", "--format", "md",
                                    "--format", "html", "-q"])
    assert run.exit_code == 0, run.output
    record = json.dumps(json.loads((out / "diffcheck-audit.json").read_text()))
    for name in names:
        assert f'"{name}"' in record
    ElementTree.parse(out / "diffcheck-audit-junit.xml")
    html = (out / "diffcheck-audit.html").read_text()
    assert "<script>w</script>" not in html and "&lt;script&gt;w&lt;/script&gt;" in html


def test_a_claimed_number_beyond_float64_is_an_error_naming_the_claim(tmp_path):
    # Found by the fuzz run: "1e999" used to raise OverflowError out of load().
    path = tmp_path / "doc.toml"
    path.write_text('format = 1\ndocument = "d"\n[[case]]\nname = "c"\nwhere = "w"\n'
                    'expression = "x"\nvariables = { x = 1.0 }\n'
                    '[[case.claim]]\nkind = "value"\nclaimed = "1e999"\n')
    assert try_load(path) == (0, 1)
    assert str(load(path).errors[0]) == (f"{path}: case 'c', claim 1 (value), field claimed: "
                                         "a claimed number is beyond float64's range")


def test_a_shape_error_in_a_constant_exponent_is_an_error_naming_the_column():
    # Found by the fuzz run: folding the exponent raised NumPy's ValueError.
    with pytest.raises(ExpressionError, match=r"^expression, column 5: matmul: cannot combine "
                                              r"shapes \(\) and \(\)"):
        parse("x**(1 @ 0)", ["x"])
