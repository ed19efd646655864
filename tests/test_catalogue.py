"""Case files (cases/README.md): what a valid file becomes, and what each kind of
bad file, bad case or hostile text reports.  Errors are collected, never raised;
one bad case costs only itself, never the file's other cases."""

import numpy as np
import pytest

from diffcheck.documents.catalogue import discover, load
from diffcheck.errors import CaseFileError
from diffcheck.language.expr import evaluate, variables

HEAD = 'format = 1\ndocument = "doc.txt"\n'

VALID = '''\
format = 1
document = "doc.txt"
title = "Linear layers"

[[case]]
name = "layer-mse"
where = "Slide 3"
quote = "L = mean(z**2)"
expression = "mean(z**2)"
variables = { X = [[1.0, 2.0], [3.0, 4.0]], w = [0.5, -1.0], b = 0.25 }
define = { z = "X @ w + b" }
wrt = ["w"]
batch_size = 2
points = [{ b = 1.0 }]
note = "a two-sample batch"

[[case.alternatives]]
label = "X row 2 as on slide 5"
entries = { "X[1, 0]" = 5.0 }

[[case.claim]]
kind = "value"
claimed = "3.3125"

[[case.claim]]
kind = "gradient"
wrt = "w"
where = "Slide 4"
quote = "w.grad"
claimed = "[-8.0, -11.5]"

[[case]]
name = "cubic"
where = "Slide 6"
expression = "3*x**3"
variables = { x = "2.0" }
'''


def write(directory, text, name="doc.toml"):
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def valid(tmp_path):
    return load(write(tmp_path, VALID))


# --- a valid file --------------------------------------------------------------------------


def test_valid_file_loads_without_errors(valid):
    assert valid.errors == []
    assert (valid.document, valid.title) == ("doc.txt", "Linear layers")
    assert [case.name for case in valid.cases] == ["layer-mse", "cubic"]


def test_case_fields_are_read_as_written(valid):
    case = valid.cases[0]
    assert case.id == "doc::layer-mse"
    assert case.document == "doc.txt"
    assert (case.where, case.quote, case.note) == ("Slide 3", "L = mean(z**2)", "a two-sample batch")
    assert case.wrt == ["w"]
    assert case.batch_size == 2


def test_variables_become_float_arrays_and_text_values_are_read(valid):
    case = valid.cases[0]
    np.testing.assert_array_equal(case.point["X"], [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(case.point["w"], [0.5, -1.0])
    assert case.point["b"].shape == ()
    # "2.0" written as a string is read as the number 2
    assert float(valid.cases[1].point["x"]) == 2.0


def test_defines_are_substituted_into_the_expression(valid):
    case = valid.cases[0]
    assert "z" not in variables(case.tree)
    assert set(variables(case.tree)) == {"X", "w", "b"}
    # z = X @ w + b = [0.5 - 2 + 0.25, 1.5 - 4 + 0.25] = [-1.25, -2.25]
    # mean(z**2) = (1.5625 + 5.0625) / 2 = 3.3125
    assert float(evaluate(case.tree, case.point)) == pytest.approx(3.3125, abs=1e-15)


def test_extra_points_override_only_the_named_variables(valid):
    case = valid.cases[0]
    assert len(case.points) == 2
    first, second = case.points
    np.testing.assert_array_equal(first["b"], 0.25)
    np.testing.assert_array_equal(second["b"], 1.0)
    np.testing.assert_array_equal(second["X"], case.point["X"])
    np.testing.assert_array_equal(second["w"], case.point["w"])


def test_alternative_entries_change_one_entry_of_a_copy(valid):
    case = valid.cases[0]
    (alternative,) = case.alternatives
    assert alternative.label == "X row 2 as on slide 5"
    np.testing.assert_array_equal(alternative.point["X"], [[1.0, 2.0], [5.0, 4.0]])
    np.testing.assert_array_equal(case.point["X"], [[1.0, 2.0], [3.0, 4.0]])   # untouched
    assert "X[1, 0]" in alternative.changes and "5" in alternative.changes


def test_claims_are_numbered_and_default_to_the_case_place(valid):
    value, gradient = valid.cases[0].claims
    assert [(value.kind, value.number), (gradient.kind, gradient.number)] == [("value", 1), ("gradient", 2)]
    assert value.where == "Slide 3"            # the case's
    assert (gradient.where, gradient.quote) == ("Slide 4", "w.grad")
    assert value.spec["claimed"] == "3.3125"   # kept as text, with its precision
    assert gradient.spec["wrt"] == "w"


def test_a_claim_expression_uses_the_case_defines(tmp_path):
    text = HEAD + '''
[[case]]
name = "c"
where = "w"
expression = "z"
variables = { x = 2.0 }
define = { z = "x*3" }

[[case.claim]]
kind = "value"
expression = "z + 1"
claimed = "7"
'''
    case_file = load(write(tmp_path, text))
    assert case_file.errors == []
    tree = case_file.cases[0].claims[0].trees["expression"]
    assert variables(tree) == ["x"]
    assert float(evaluate(tree, {"x": np.array(2.0)})) == 7.0


# --- a file that cannot be read ------------------------------------------------------------


def test_toml_syntax_error_is_one_error_naming_file_and_line(tmp_path):
    path = write(tmp_path, 'format = 1\ndocument = "d"\n\n[[case]]\nwhere = \nname = "a"\n', "broken.toml")
    case_file = load(path)
    assert case_file.cases == []
    (error,) = case_file.errors
    assert isinstance(error, CaseFileError)
    assert str(path) in str(error)
    assert "line 5" in str(error)


def test_non_utf8_file_is_one_error_naming_the_file(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes((HEAD + '[[case]]\nname = "a"\nwhere = "Caf\xe9"\nexpression = "x"\n'
                      'variables = { x = 1.0 }\n').encode("latin-1"))
    case_file = load(path)
    assert case_file.cases == []
    (error,) = case_file.errors
    assert str(path) in str(error) and "UTF-8" in str(error)


def test_a_directory_given_as_a_file_is_an_error_not_an_exception(tmp_path):
    (tmp_path / "dir.toml").mkdir()
    case_file = load(tmp_path / "dir.toml")
    assert case_file.cases == []
    assert len(case_file.errors) == 1 and "dir.toml" in str(case_file.errors[0])


def test_file_without_cases_is_an_error(tmp_path):
    case_file = load(write(tmp_path, HEAD))
    assert case_file.cases == [] and len(case_file.errors) == 1
    assert "case" in str(case_file.errors[0])


# --- one bad case among good ones -----------------------------------------------------------

FIRST = '[[case]]\nname = "first"\nwhere = "w"\nexpression = "x**2"\nvariables = { x = 3.0 }\n\n'
LAST = '\n[[case]]\nname = "last"\nwhere = "w"\nexpression = "2*y"\nvariables = { y = 1.0 }\n'
BAD = '[[case]]\nname = "bad"\nwhere = "w"\n'

# (id, the bad case, fragments its message must contain besides the file name)
BAD_CASES = [
    ("unknown-op", BAD + 'expression = "x + frobnicate(x)"\nvariables = { x = 1.0 }\n',
     # 'f' of frobnicate is the 5th character of the expression
     ["case 'bad'", "expression", "column 5", "frobnicate"]),
    ("missing-expression", BAD + 'variables = { x = 1.0 }\n',
     ["case 'bad'", "'expression'", "required"]),
    ("unknown-field", BAD + 'expression = "x"\nvariables = { x = 1.0 }\ncolour = "red"\n',
     ["case 'bad'", "'colour'"]),
    ("unknown-claim-kind", BAD + 'expression = "x"\nvariables = { x = 1.0 }\n\n'
     '[[case.claim]]\nkind = "hessian"\nclaimed = "1"\n',
     ["case 'bad'", "claim 1", "kind", "hessian"]),
    ("claimed-as-number", BAD + 'expression = "x"\nvariables = { x = 1.0 }\n\n'
     '[[case.claim]]\nkind = "value"\nclaimed = 1.0\n',
     ["case 'bad'", "claim 1", "claimed", "string"]),
    ("duplicate-name", '[[case]]\nname = "first"\nwhere = "again"\nexpression = "x"\nvariables = { x = 1.0 }\n',
     ["'first'", "name"]),
    ("wrt-not-a-variable", BAD + 'expression = "x"\nvariables = { x = 1.0 }\nwrt = ["y"]\n',
     ["case 'bad'", "wrt", "'y'"]),
    ("at-unknown-variable", BAD + 'expression = "x"\nvariables = { x = 1.0 }\n\n'
     '[[case.claim]]\nkind = "value"\nclaimed = "1"\nat = { y = 2.0 }\n',
     ["case 'bad'", "claim 1", "at", "'y'"]),
    ("zero-after-past-last-call", BAD + 'expression = "x"\nvariables = { x = 1.0 }\n\n'
     '[[case.claim]]\nkind = "accumulate"\nwrt = "x"\ncalls = ["x", "2*x"]\nzero_after = [3]\n',
     # two calls: there is no call 3 to zero after
     ["case 'bad'", "claim 1", "zero_after", "3"]),
    ("entry-outside-variable", BAD + 'expression = "sum(X)"\nvariables = { X = [[1.0, 2.0], [3.0, 4.0]] }\n\n'
     '[[case.alternatives]]\nlabel = "typo"\nentries = { "X[2, 0]" = 1.0 }\n',
     ["case 'bad'", "alternatives 1", "X[2, 0]"]),
    ("define-uses-later-define", BAD + 'expression = "z"\nvariables = { x = 1.0 }\n'
     'define = { z = "u*2", u = "x" }\n',
     ["case 'bad'", "define.z", "'u'"]),
]


def _load_with(tmp_path, bad):
    path = write(tmp_path, HEAD + FIRST + bad + LAST, "mixed.toml")
    return path, load(path)


@pytest.mark.parametrize("bad,fragments", [b[1:] for b in BAD_CASES], ids=[b[0] for b in BAD_CASES])
def test_bad_case_is_one_error_naming_file_case_and_field(tmp_path, bad, fragments):
    path, case_file = _load_with(tmp_path, bad)
    (error,) = case_file.errors
    message = str(error)
    assert isinstance(error, CaseFileError)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert "\n" not in message


@pytest.mark.parametrize("bad", [b[1] for b in BAD_CASES], ids=[b[0] for b in BAD_CASES])
def test_the_other_cases_of_the_file_still_load(tmp_path, bad):
    _, case_file = _load_with(tmp_path, bad)
    assert [case.name for case in case_file.cases] == ["first", "last"]
    assert case_file.cases[1].point["y"] == 1.0


# --- hostile text -------------------------------------------------------------------------


def _tree_listing(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_code_in_an_expression_is_refused_and_never_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = BAD + '''expression = "__import__('os').system('touch PWNED')"\nvariables = { x = 1.0 }\n'''
    path, case_file = _load_with(tmp_path, bad)
    assert [case.name for case in case_file.cases] == ["first", "last"]
    (error,) = case_file.errors
    assert str(path) in str(error) and "case 'bad'" in str(error) and "expression" in str(error)
    assert _tree_listing(tmp_path) == ["mixed.toml"]


def test_dunder_variable_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = BAD + 'expression = "__class__"\nvariables = { __class__ = 1.0 }\n'
    _, case_file = _load_with(tmp_path, bad)
    assert [case.name for case in case_file.cases] == ["first", "last"]
    (error,) = case_file.errors
    assert "__class__" in str(error)
    assert _tree_listing(tmp_path) == ["mixed.toml"]


def test_dunder_variable_error_names_file_case_and_field(tmp_path):
    bad = BAD + 'expression = "x"\nvariables = { __class__ = 1.0 }\n'
    path, case_file = _load_with(tmp_path, bad)
    (error,) = case_file.errors
    assert str(path) in str(error)
    assert "case 'bad'" in str(error)
    assert "variables" in str(error)


def test_code_in_a_variable_value_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = BAD + '''expression = "x"\nvariables = { x = "__import__('os').system('touch PWNED')" }\n'''
    path, case_file = _load_with(tmp_path, bad)
    assert [case.name for case in case_file.cases] == ["first", "last"]
    (error,) = case_file.errors
    assert str(path) in str(error) and "case 'bad'" in str(error) and "x" in str(error)
    assert _tree_listing(tmp_path) == ["mixed.toml"]


# --- discover ------------------------------------------------------------------------------


def test_discover_finds_toml_files_recursively_in_order(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("b.toml", "a.toml", "sub/c.toml", "README.md"):
        (tmp_path / name).write_text("")
    (tmp_path / "folder.toml").mkdir()   # a directory, not a case file
    assert discover([tmp_path]) == [tmp_path / "a.toml", tmp_path / "b.toml", tmp_path / "sub" / "c.toml"]


def test_discover_keeps_an_explicit_file_whatever_its_suffix(tmp_path):
    path = tmp_path / "cases.txt"
    path.write_text("")
    assert discover([path]) == [path]


def test_discover_names_a_path_that_does_not_exist(tmp_path):
    missing = tmp_path / "nowhere" / "cases.toml"
    with pytest.raises(CaseFileError, match="no such file or directory") as caught:
        discover([missing])
    assert str(missing) in str(caught.value)


def test_discover_reports_a_missing_path_even_after_good_ones(tmp_path):
    good = write(tmp_path, HEAD + FIRST)
    with pytest.raises(CaseFileError, match="gone.toml"):
        discover([good, tmp_path / "gone.toml"])
