"""Code that cannot run is found without running it (claims of kind `runs`), and
what the reader cannot follow is listed unread with the construct named."""

import pytest

from diffcheck.reading.codefinder import find

from tests.reading.codecells import claims, notebook


def runs_errors(found) -> list[tuple[str, str]]:
    """(where, error) of every `runs` claim."""
    return [(case["where"], claim["error"]) for case in found.cases for claim in case["claim"]
            if claim["kind"] == "runs"]


def only_error(found) -> str:
    [(where, error)] = runs_errors(found)
    return error


def test_backward_with_a_gradient_of_the_wrong_shape():
    found = find(notebook(
        "import torch\nx = torch.ones(3, requires_grad=True)\ny = x * 2\ny.backward(torch.tensor([1., 1.]))"))
    [(where, error)] = runs_errors(found)
    assert where == "In [1], line 4"
    assert error == ("Mismatch in shape: the gradient passed to backward() has shape [2] and the output "
                     "has shape [3]")
    [case] = found.cases
    assert case["quote"] == "y.backward(torch.tensor([1., 1.]))"
    assert case["claim"] == [{"kind": "runs", "claimed": "runs", "error": error}]


@pytest.mark.parametrize("code, keyword, hint", [
    ("torch.tensor([1., 2.], dtpye=torch.float32)", "dtpye", "dtype"),
    ("torch.tensor(2., requires_grads=True)", "requires_grads", "requires_grad"),
    ("torch.ones(3, requires_gard=True)", "requires_gard", "requires_grad"),
])
def test_a_misspelled_keyword_argument(code, keyword, hint):
    found = find(notebook(f"import torch\nx = {code}"))
    assert only_error(found) == (f"torch.{code.split('(')[0].split('.')[1]}() got an unexpected keyword "
                                 f"argument {keyword!r} (did you mean {hint!r}?)")


def test_a_method_used_as_a_value_without_calling_it():
    # z = y.mean stores the method; z.backward() then fails on the method object.
    found = find(notebook(
        "import torch\nx = torch.ones(2, requires_grad=True)\ny = x * 3\nz = y.mean\nz.backward()"))
    assert only_error(found) == ("'builtin_function_or_method' object has no attribute 'backward': z is the "
                                 "method .mean, never called (write .mean())")


def test_printing_a_method_instead_of_its_value():
    found = find(notebook("import torch\nz = torch.ones(2)\nprint(z.mean)"))
    assert only_error(found) == ("z.mean is printed without being called: the line shows the method "
                                 "object, not its value (write z.mean())")


def test_backward_without_parentheses_does_nothing():
    found = find(notebook("import torch\nx = torch.ones(2, requires_grad=True)\nloss = (x * x).sum()\n"
                          "loss.backward\nprint(x.grad)"))
    assert runs_errors(found) == [("In [1], line 4", "loss.backward is not called (write loss.backward()): "
                                   "the statement does nothing")]


def test_arithmetic_with_an_uncalled_method():
    found = find(notebook("import torch\nx = torch.ones(2)\ny = x.sum + 1"))
    assert only_error(found) == ("unsupported operand type(s) for +: the method .sum is used without "
                                 "calling it (write .sum())")


def test_an_undefined_name():
    found = find(notebook("import torch\nx = torch.tensor(1., requires_grad=True)", "y = x * z"))
    [(where, error)] = runs_errors(found)
    assert (where, error) == ("In [2], line 1", "name 'z' is not defined")


def test_backward_on_a_vector_without_a_gradient_argument():
    found = find(notebook("import torch\nx = torch.ones(5, requires_grad=True)\nz = (x + 2) * 2\nz.backward()"))
    assert only_error(found) == ("grad can be implicitly created only for scalar outputs (the output has "
                                 "shape [5]; pass a gradient or reduce it with .sum())")


def test_a_second_backward_through_a_freed_graph():
    code = "import torch\nx = torch.tensor(2., requires_grad=True)\ny = x ** 2\ny.backward()\ny.backward()"
    [(where, error)] = runs_errors(find(notebook(code)))
    assert where == "In [1], line 5" and error.startswith("Trying to backward through the graph a second time")


def test_a_second_backward_is_fine_when_the_first_kept_the_graph():
    code = ("import torch\nx = torch.tensor(2., requires_grad=True)\ny = x ** 2\n"
            "y.backward(retain_graph=True)\ny.backward()")
    assert runs_errors(find(notebook(code))) == []


def test_an_integer_tensor_cannot_require_gradients():
    found = find(notebook("import torch\nw = torch.tensor([1, 2], requires_grad=True)"))
    assert only_error(found).startswith("only tensors of floating point dtype can require gradients")


def test_updating_a_leaf_in_place_outside_no_grad():
    code = ("import torch\nw = torch.tensor(1., requires_grad=True)\nloss = w ** 2\nloss.backward()\n"
            "w -= 0.1 * w.grad")
    assert only_error(find(notebook(code))) == ("w is a leaf tensor that requires grad and is updated in "
                                                "place outside torch.no_grad()")


def test_zeroing_a_gradient_no_backward_has_made():
    found = find(notebook("import torch\nw = torch.tensor(1., requires_grad=True)\nw.grad.zero_()"))
    assert only_error(found) == ("w.grad is None here (no backward() has reached it): 'NoneType' object "
                                 "has no attribute 'zero_'")


def test_numpy_of_a_tensor_that_requires_grad():
    found = find(notebook("import torch\nw = torch.tensor([1., 2.], requires_grad=True)\na = w.numpy()"))
    assert only_error(found) == "can't call numpy() on a tensor that requires grad: use .detach().numpy()"


def test_an_error_the_code_catches_on_purpose_is_not_a_finding():
    code = ("import torch\nx2 = torch.tensor(0., requires_grad=True)\ntry:\n    x2 += 1\n"
            "except RuntimeError as e:\n    print(e)")
    found = find(notebook((code, "a leaf Variable that requires grad is being used in an in-place operation.")))
    assert runs_errors(found) == []


def test_a_cell_stops_at_its_error_and_later_cells_are_still_read():
    found = find(notebook(
        ("import torch\nx = torch.tensor(2., requires_grad=True)\ny = x * q\nprint(x)", ""),
        ("z = x ** 3\nz.backward()\nprint(x.grad)", "tensor(12.)"),   # 3 * 2^2 = 12
    ))
    assert runs_errors(found) == [("In [1], line 3", "name 'q' is not defined")]
    assert [c["claimed"] for c in claims(found, "gradient")] == ["tensor(12.)"]


def test_a_call_outside_the_reader_makes_what_depends_on_it_unread():
    code = ("import torch\nmodel = torch.nn.Linear(2, 1)\nx = torch.tensor([1., 2.])\n"
            "y = model(x)\nprint(y)\nprint(x)")
    found = find(notebook((code, "tensor([0.1234], grad_fn=<AddBackward0>)\ntensor([1., 2.])\n")))
    [unread] = found.unread
    assert unread.reason == "call of torch.nn.Linear is outside the static reader"
    assert unread.quote == "print(y)" and unread.location.line == 5
    # x itself is still claimed.
    assert [c["claimed"] for c in claims(found, "value")] == ["tensor([1., 2.])"]


def test_a_loop_too_long_to_unroll_is_unread():
    code = ("import torch\nw = torch.tensor(1., requires_grad=True)\nfor i in range(1000000):\n"
            "    loss = w ** 2\n    loss.backward()\n    print(loss)")
    found = find(notebook(code))
    assert [u.reason for u in found.unread] == ["a loop of 1000000 iterations is too long to unroll"]


def test_a_cell_that_is_not_python_is_unread_and_names_stop_being_certain():
    found = find(notebook("x = = 1", "y = undefined_name + 1"))
    assert [u.reason for u in found.unread] == ["the cell is not valid Python (invalid syntax); it was not read"]
    # The broken cell might have defined the name: no 'not defined' finding.
    assert runs_errors(found) == []


def test_ipython_magics_are_skipped():
    found = find(notebook(("%matplotlib inline\nimport numpy as np\nprint(np.exp(np.array(0.0)))", "1.0")))
    assert [c["claimed"] for c in claims(found, "value")] == ["1.0"]
    assert found.unread == [] and runs_errors(found) == []


@pytest.mark.parametrize("code", [
    "",
    "class Net(torch.nn.Module):\n    pass\nnet = Net()\nnet.train()",
    "(" * 500 + ")" * 500,
    "x = [i for i in range(3)]\nprint(x)",
    "import torch\nx = torch.tensor(1.)\nx[0] = 2\nprint(x.grad.grad)",
    "def f(n):\n    return f(n)\nf(1)",
])
def test_find_never_raises(code):
    found = find(notebook((code, "whatever\n")))
    assert isinstance(found.cases, list) and isinstance(found.unread, list)


def test_an_error_the_document_shows_is_not_a_claim_that_the_code_runs():
    code = "import torch\nx = torch.ones(3, requires_grad=True)\nz = x * 2\nz.backward()"
    traceback = ("Traceback (most recent call last):\nRuntimeError: grad can be implicitly created only "
                 "for scalar outputs\n")
    found = find(notebook((code, traceback)))
    assert runs_errors(found) == []
    [unread] = found.unread
    assert unread.reason.startswith("the code stops with an error the document shows or announces: grad can")


def test_an_error_a_comment_announces_is_not_a_claim_that_the_code_runs():
    code = "import torch\nx = torch.ones(3, requires_grad=True)\nz = x * 2\nz.backward()  # this raises"
    assert runs_errors(find(notebook(code))) == []


def test_a_comment_that_merely_mentions_an_error_does_not_excuse_one():
    # backward() of a vector fails; the comment on that line names a loss, not the failure.
    code = "import torch\nx = torch.ones(3, requires_grad=True)\nloss = (x - 1) ** 2\nloss.backward()  # squared error"
    assert len(runs_errors(find(notebook(code)))) == 1


def test_ragged_nested_lists_cannot_make_a_tensor():
    found = find(notebook("import torch\nx = torch.tensor([[1., 2.], [3.]])"))
    assert only_error(found) == "torch.tensor() of nested lists of unequal lengths (the data is ragged)"


def test_a_number_beyond_float_range_is_unread_not_rendered():
    found = find(notebook(("import torch\nx = torch.tensor(2.)\nprint(x ** 1e400)", "tensor(inf)")))
    assert found.cases == []
    assert [u.reason for u in found.unread] == ["a number too large for the expression language"]


def test_setting_a_gradient_by_hand_makes_it_unknown():
    code = ("import torch\nx = torch.tensor(1., requires_grad=True)\n(x * 2).backward()\n"
            "x.grad = torch.tensor(5.)\nprint(x.grad)")
    found = find(notebook((code, "tensor(5.)")))
    assert claims(found, "gradient") == []
    assert [u.reason for u in found.unread] == ["assignment to .grad"]


def test_an_error_announced_in_a_comment_below_the_line():
    code = "import torch\nx = torch.ones(5, requires_grad=True)\nz = x * 2\nz.backward()\n# ERROR: grad can be implicitly created for scalar outputs"
    assert runs_errors(find(notebook(code))) == []


def test_a_passage_unread_in_every_iteration_is_listed_once():
    code = "import torch\nm = torch.nn.Linear(1, 1)\nfor i in range(3):\n    y = m(torch.ones(1))\n    y.backward()"
    assert len(find(notebook(code)).unread) == 1
