"""The code finder turns what cells print into value, gradient, accumulate and
descent claims. Expected values are worked out by hand in the comments; the
finder copies printed text, so a wrong printed number stays wrong in the claim."""

from diffcheck.reading.codefinder import find

from tests.reading.codecells import case_with, claims, notebook


def test_printed_gradient_of_a_scalar_becomes_a_gradient_claim():
    found = find(notebook(
        "import torch\nx = torch.tensor(3., requires_grad=True)",
        ("y = x ** 2\ny.backward()\nprint('grad', x.grad)", "grad tensor(6.)\n"),
    ))
    case = case_with(found, "gradient")
    assert case["expression"] == "x**2"
    assert case["variables"] == {"x": 3.0}
    assert case["where"] == "In [2], line 2"
    assert case["quote"] == "y.backward()"
    assert case["dtype"] == "float32"   # torch's default float
    [claim] = claims(found, "gradient")
    assert claim == {"kind": "gradient", "where": "In [2], line 3", "quote": "print('grad', x.grad)",
                     "wrt": "x", "claimed": "tensor(6.)"}


def test_a_wrong_printed_gradient_is_copied_as_printed():
    # d(x**2)/dx at 3 is 6; the output says 7: the claim keeps 7 for the audit to refute.
    found = find(notebook(
        ("import torch\nx = torch.tensor(3., requires_grad=True)\ny = x ** 2\ny.backward()\nprint(x.grad)",
         "tensor(7.)"),
    ))
    assert [c["claimed"] for c in claims(found, "gradient")] == ["tensor(7.)"]


def test_gradients_accumulate_over_backward_calls_without_zeroing():
    # x = 3: d(x**2)/dx = 6, then d(3x^2 + 4x + 2)/dx = 22 added to it: 28.
    found = find(notebook(
        "import torch\nx = torch.tensor(3., requires_grad=True)",
        ("y = x ** 2\ny.backward()\nprint(x.grad)", "tensor(6.)"),
        ("y = 3*x**2 + 4*x + 2\ny.backward()\nprint(f'dy/dx = {x.grad}')", "dy/dx = tensor(28.)"),
    ))
    [accumulate] = claims(found, "accumulate")
    assert accumulate["calls"] == ["x**2", "3*x**2 + 4*x + 2"]
    assert accumulate["shown"] == ["tensor(6.)", "tensor(28.)"]
    assert "zero_after" not in accumulate
    # The second print is read as dy/dx of the last expression, with the earlier call
    # named for the diagnosis, and marked for review.
    second = [c for c in claims(found, "gradient") if c["claimed"] == "tensor(28.)"][0]
    assert second["earlier"] == ["x**2"] and second["review"] is True


def test_a_loop_that_zeroes_the_gradient_each_time_is_one_accumulate_claim():
    # Three backward() calls of 3x^2 + 4x + 2 at x = 3, zeroed after each print: 22 each time.
    code = ("import torch\nx = torch.tensor(3., requires_grad=True)\nfor epoch in range(3):\n"
            "    y = 3*x**2 + 4*x + 2\n    y.backward()\n    print(x.grad)\n    x.grad.zero_()")
    found = find(notebook((code, "tensor(22.)\ntensor(22.)\ntensor(22.)\n")))
    [accumulate] = claims(found, "accumulate")
    assert accumulate["calls"] == ["3*x**2 + 4*x + 2"] * 3
    assert accumulate["zero_after"] == [1, 2, 3]
    assert accumulate["shown"] == ["tensor(22.)"] * 3
    # The same print in each iteration makes one gradient claim, not three.
    assert [c["claimed"] for c in claims(found, "gradient")] == ["tensor(22.)"]


def test_printed_values_are_value_claims_with_intermediate_names_as_defines():
    # y_pred = [2*3 + 1, 3*2 + 1] = [7, 7]; loss = mean(([7, 7] - [6, 8])**2) = (1 + 1)/2 = 1
    code = ("import torch\nx = torch.tensor([2., 3.])\nw = torch.tensor([3., 2.], requires_grad=True)\n"
            "b = torch.tensor(1., requires_grad=True)\ny = torch.tensor([6., 8.])\n"
            "y_pred = x * w + b\nprint('y_pred:', y_pred)\nloss = torch.mean((y_pred - y) ** 2)\n"
            "print('loss:', loss)\nloss.backward()\nprint('dw:', w.grad)")
    output = ("y_pred: tensor([7., 7.], grad_fn=<AddBackward0>)\nloss: tensor(1., grad_fn=<MeanBackward0>)\n"
              "dw: tensor([ 3., -2.])\n")
    found = find(notebook((code, output)))
    [case] = found.cases
    assert case["expression"] == "mean((y_pred - y)**2)"
    assert case["define"] == {"y_pred": "x*w + b"}
    assert case["variables"] == {"x": [2.0, 3.0], "w": [3.0, 2.0], "b": 1.0, "y": [6.0, 8.0]}
    assert case["wrt"] == ["w", "b"]
    values = {c.get("expression", case["expression"]): c["claimed"] for c in claims(found, "value")}
    assert values == {"y_pred": "tensor([7., 7.], grad_fn=<AddBackward0>)",
                      "mean((y_pred - y)**2)": "tensor(1., grad_fn=<MeanBackward0>)"}
    # dloss/dw = 2/2 * (y_pred - y) * x = [1*2, -1*3] = [2, -3]; the output says [3, -2] (planted).
    assert [(c["wrt"], c["claimed"]) for c in claims(found, "gradient")] == [("w", "tensor([ 3., -2.])")]


def test_backward_with_a_gradient_argument_is_the_gradient_of_the_weighted_sum():
    # y = x*x, y.backward(v) gives d sum(v*y)/dx = 2*v*x = [2*1*1, 2*0.5*2] = [2, 2].
    code = ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\ny = x * x\n"
            "y.backward(torch.tensor([1., 0.5]))\nprint(x.grad)")
    found = find(notebook((code, "tensor([2., 2.])")))
    case = case_with(found, "gradient")
    assert case["expression"] == "sum(v*y)"
    assert case["define"] == {"y": "x*x"}
    assert case["variables"] == {"v": [1.0, 0.5], "x": [1.0, 2.0]}


def test_sgd_steps_with_printed_losses_and_parameters_are_a_descent():
    # loss = sum((w - 1.5)^2) from w = [1, 2], lr = 0.1; grad = 2(w - 1.5).
    # step 0: loss 0.25 + 0.25 = 0.5, grad [-1, 1], w -> [1.1, 1.9]
    # step 1: loss 0.16 + 0.16 = 0.32, grad [-0.8, 0.8], w -> [1.18, 1.82]
    # step 2: loss 2 * 0.32^2 = 0.2048, w -> [1.244, 1.756]
    code = ("import torch\nw = torch.tensor([1., 2.], requires_grad=True)\n"
            "opt = torch.optim.SGD([w], lr=0.1)\nfor i in range(3):\n    loss = ((w - 1.5)**2).sum()\n"
            "    opt.zero_grad()\n    loss.backward()\n    opt.step()\n    print(i, loss.item(), w)")
    output = ("0 0.5 tensor([1.1000, 1.9000], requires_grad=True)\n"
              "1 0.32 tensor([1.1800, 1.8200], requires_grad=True)\n"
              "2 0.2048 tensor([1.2440, 1.7560], requires_grad=True)\n")
    found = find(notebook((code, output)))
    case = case_with(found, "descent")
    assert case["expression"] == "sum((w - 1.5)**2)" and case["variables"] == {"w": [1.0, 2.0]}
    [descent] = claims(found, "descent")
    assert descent["parameters"] == ["w"] and descent["learning_rate"] == 0.1 and descent["steps"] == 3
    assert "zero_grad" not in descent   # zeroed each step: the default
    assert descent["shown"] == [
        {"step": 0, "loss": "0.5", "after": {"w": "tensor([1.1000, 1.9000], requires_grad=True)"}},
        {"step": 1, "loss": "0.32", "after": {"w": "tensor([1.1800, 1.8200], requires_grad=True)"}},
        {"step": 2, "loss": "0.2048", "after": {"w": "tensor([1.2440, 1.7560], requires_grad=True)"}},
    ]
    assert claims(found, "value") == []   # every printed number went into the descent


def test_a_hand_written_loop_of_three_steps_under_no_grad_is_a_descent():
    # loss = (w - 5)^2 from w = 2, lr = 0.1; grad = 2(w - 5).
    # step 0: loss 9, grad -6, w -> 2.6; step 1: loss 5.76, grad -4.8, w -> 3.08;
    # step 2: loss 3.6864, grad -3.84, w -> 3.464.
    code = ("import torch\nw = torch.tensor(2., requires_grad=True)\nlr = 0.1\nfor step in range(3):\n"
            "    loss = (w - 5) ** 2\n    loss.backward()\n    print(f'step {step}: grad={w.grad.item():.2f}')\n"
            "    with torch.no_grad():\n        w -= lr * w.grad\n    w.grad.zero_()\n"
            "    print(f'step {step}: loss={loss.item():.4f} w={w.item():.4f}')")
    output = ("step 0: grad=-6.00\nstep 0: loss=9.0000 w=2.6000\nstep 1: grad=-4.80\n"
              "step 1: loss=5.7600 w=3.0800\nstep 2: grad=-3.84\nstep 2: loss=3.6864 w=3.4640\n")
    found = find(notebook((code, output)))
    [descent] = claims(found, "descent")
    assert descent["learning_rate"] == 0.1 and descent["steps"] == 3
    assert descent["shown"] == [
        {"step": 0, "grad": {"w": "-6.00"}, "loss": "9.0000", "after": {"w": "2.6000"}},
        {"step": 1, "grad": {"w": "-4.80"}, "loss": "5.7600", "after": {"w": "3.0800"}},
        {"step": 2, "grad": {"w": "-3.84"}, "loss": "3.6864", "after": {"w": "3.4640"}},
    ]


def test_a_hand_written_gradient_step_in_numpy_is_a_descent_and_a_formula():
    # loss = (w*x - y)^2 with x = 2, y = 8, w = 1, lr = 0.05; dw = 2(w*x - y)*x.
    # step 0: loss 36, dw -24, w -> 2.2; step 1: loss (4.4 - 8)^2 = 12.96, dw -14.4, w -> 2.92.
    code = ("import numpy as np\nx = np.array(2.0)\ny = np.array(8.0)\nw = np.array(1.0)\n"
            "for i in range(2):\n    loss = (w * x - y) ** 2\n    dw = 2 * (w * x - y) * x\n"
            "    w = w - 0.05 * dw\n    print(loss)")
    found = find(notebook((code, "36.0\n12.96\n")))
    [descent] = claims(found, "descent")
    assert descent["parameters"] == ["w"] and descent["learning_rate"] == 0.05
    assert descent["shown"] == [{"step": 0, "loss": "36.0"}, {"step": 1, "loss": "12.96"}]
    [formula] = claims(found, "formula")
    assert formula["wrt"] == "w" and formula["formula"] == "2*(w*x - y)*x" and formula["review"] is True


def test_a_printed_random_input_supplies_the_values_of_claims_on_it():
    # x drawn at random, printed as [0.5, -1.0]; y = x * 2 printed as [1.0, -2.0].
    code = "import torch\nx = torch.randn(2)\nprint(x)\ny = x * 2\nprint(y)"
    found = find(notebook((code, "tensor([ 0.5000, -1.0000])\ntensor([ 1.0000, -2.0000])\n")))
    [case] = found.cases
    assert case["variables"] == {"x": [0.5, -1.0]}
    assert case["note"] == "values read from the printed output of the random input"
    [claim] = claims(found, "value")
    assert claim["claimed"] == "tensor([ 1.0000, -2.0000])" and claim["review"] is True


def test_claims_on_a_random_input_never_printed_are_unread():
    code = "import torch\nx = torch.randn(2, requires_grad=True)\ny = (x * 2).sum()\nprint(y)"
    found = find(notebook((code, "tensor(0.3117)\n")))
    assert found.cases == []
    [unread] = found.unread
    assert unread.reason == "depends on random input"
    assert unread.location.cell == "In [1]" and unread.location.line == 4
    assert unread.quote == "print(y)"


def test_a_function_defined_in_one_cell_is_inlined_where_it_is_called():
    # f(x) = 3x^2 - 2x + 5 at x = 3: value 27 - 6 + 5 = 26, derivative 6x - 2 = 16.
    found = find(notebook(
        "import torch\ndef f(x):\n    return 3 * x**2 - 2 * x + 5",
        ("x = torch.tensor(3., requires_grad=True)\ny = f(x)\ny.backward()\nprint(y)\nprint(x.grad)",
         "tensor(26., grad_fn=<AddBackward0>)\ntensor(16.)\n"),
    ))
    case = case_with(found, "gradient")
    assert case["expression"] == "3*x**2 - 2*x + 5"
    assert [c["claimed"] for c in case["claim"]] == ["tensor(16.)", "tensor(26., grad_fn=<AddBackward0>)"]


def test_the_last_expression_of_a_cell_is_displayed_like_a_print():
    found = find(notebook(("import torch\nx = torch.tensor([1., 2.])\n(x ** 2).sum()", "tensor(5.)")))
    [claim] = claims(found, "value")
    assert claim["claimed"] == "tensor(5.)"
    assert found.cases[0]["expression"] == "sum(x**2)"


def test_printed_lines_the_prints_do_not_explain_make_the_matches_reviewed():
    # A warning line sits before the printed value: the value is still found, marked for review.
    code = "import numpy as np\na = np.array([1.0, 2.0])\nprint('total:', np.sum(a))"
    found = find(notebook((code, "RuntimeWarning: something\ntotal: 3.0\n")))
    [claim] = claims(found, "value")
    assert claim["claimed"] == "3.0" and claim["review"] is True


def test_percent_and_format_strings_are_read_like_f_strings():
    # (x - 1)^2 at x = 3 is 4; its derivative 2(x - 1) = 4.
    code = ("import torch\nx = torch.tensor(3., requires_grad=True)\nloss = (x - 1) ** 2\nloss.backward()\n"
            "print('loss = %.3f' % loss.item())\nprint('grad = {:.2f} at {}'.format(x.grad.item(), 3))")
    found = find(notebook((code, "loss = 4.000\ngrad = 4.00 at 3\n")))
    assert [c["claimed"] for c in claims(found, "value")] == ["4.000"]
    assert [c["claimed"] for c in claims(found, "gradient")] == ["4.00"]


def test_a_number_printed_with_a_numeric_format_skips_text_that_is_not_a_number():
    # The first output line is not the number %.2f prints: the match moves on to "2.00".
    code = "import numpy as np\na = np.array([1.0, 3.0])\nprint('%.2f' % np.mean(a))"
    found = find(notebook((code, "[note] something\n2.00\n")))
    [claim] = claims(found, "value")
    assert claim["claimed"] == "2.00" and claim["review"] is True


def test_strings_joined_with_str_of_a_value_are_read():
    # 2 * 1.5 = 3
    code = "import torch\nx = torch.tensor(1.5)\nprint('double: ' + str(x * 2))"
    found = find(notebook((code, "double: tensor(3.)\n")))
    assert [c["claimed"] for c in claims(found, "value")] == ["tensor(3.)"]


def test_a_block_that_only_holds_printed_values_is_output_not_code():
    # Markdown shows output in unlabelled fences; "tensor" there is no undefined name.
    found = find(notebook("tensor([1., 2.], requires_grad=True)\n[0.5, 0.25]"))
    assert found.cases == [] and found.unread == []


def test_cells_run_out_of_order_make_every_claim_reviewed():
    document = notebook(
        "import torch\nx = torch.tensor(2.)",
        ("print(x * 3)", "tensor(6.)"),
    )
    document.blocks[0] = type(document.blocks[0])("code", document.blocks[0].text,
                                                  type(document.blocks[0].location)("lesson.ipynb", 1, "In [5]"))
    found = find(document)   # In [5] then In [2]: the second ran first
    [claim] = claims(found, "value")
    assert claim["review"] is True
    assert "out of order" in found.cases[0]["note"]


def test_adding_in_place_through_one_name_changes_the_other():
    code = "import numpy as np\na = np.array([1., 2.])\nb = a\nb += 1\nprint(a)"
    found = find(notebook((code, "[2. 3.]\n")))
    assert claims(found, "value") == []
    assert [u.reason for u in found.unread] == ["a is changed in place through b"]


def test_two_training_runs_of_the_same_code_are_two_descents():
    # loss = (w - 3)^2, lr = 0.5: from w = 1 one step lands on 1 + 0.5*4 = 3 (loss 4);
    # from w = 2, on 2 + 0.5*2 = 3 (loss 1).
    train = ("w = torch.tensor({}, requires_grad=True)\nfor i in range(1):\n    loss = (w - 3) ** 2\n"
             "    loss.backward()\n    with torch.no_grad():\n        w -= 0.5 * w.grad\n    print(loss.item())")
    found = find(notebook("import torch", (train.format("1."), "4.0\n"), (train.format("2."), "1.0\n")))
    descents = [(case["variables"], claim["shown"]) for case in found.cases for claim in case["claim"]
                if claim["kind"] == "descent"]
    assert descents == [({"w": 1.0}, [{"step": 0, "loss": "4.0"}]), ({"w": 2.0}, [{"step": 0, "loss": "1.0"}])]


def test_data_indexed_stacked_and_reshaped_from_literals_is_followed():
    # X = zip([1, 2], [3, 4]) = [[1, 3], [2, 4]]; X[1] = [2, 4]; X[:, 0] = [1, 2];
    # reshape(4) = [1, 3, 2, 4]; w = [0.5, 1]: X[1] @ w = 1 + 4 = 5.
    code = ("import numpy as np\na = np.array([1., 2.])\nb = np.array([3., 4.])\nX = np.array(list(zip(a, b)))\n"
            "w = np.array([0.5, 1.0])\nprint(X[1] @ w)\nprint(X[:, 0])\nprint(X.reshape(4))")
    found = find(notebook((code, "5.0\n[1. 2.]\n[1. 3. 2. 4.]\n")))
    values = [c["claimed"] for c in claims(found, "value")]
    assert values == ["5.0", "[1. 2.]", "[1. 3. 2. 4.]"]
    case = next(c for c in found.cases if c["claim"][0]["claimed"] == "5.0")
    assert case["variables"]["c"] == [2.0, 4.0]   # X[1], computed from the literals


def test_indexing_a_tensor_that_requires_grad_is_outside_the_reader():
    code = "import torch\nw = torch.tensor([1., 2.], requires_grad=True)\nprint(w[0] * 3)"
    found = find(notebook((code, "tensor(3., grad_fn=<MulBackward0>)\n")))
    assert [u.reason for u in found.unread] == ["indexing of a tensor that requires grad"]


def test_an_index_past_the_end_would_fail():
    found = find(notebook("import numpy as np\nx = np.array([1., 2.])\ny = x[2]"))
    [case] = found.cases
    assert case["claim"][0]["error"].startswith("index out of range")


def test_torch_autograd_grad_gives_a_gradient_that_does_not_accumulate():
    # d(x^3)/dx at 2 = 12, asked twice with retain_graph: 12 both times (autograd.grad never
    # accumulates into x.grad).
    code = ("import torch\nx = torch.tensor(2., requires_grad=True)\ny = x ** 3\n"
            "g1 = torch.autograd.grad(y, x, retain_graph=True)\ng2 = torch.autograd.grad(y, [x])\n"
            "print(g1[0], g2[0].item())")
    found = find(notebook((code, "tensor(12.) 12.0\n")))
    case = case_with(found, "gradient")
    assert case["expression"] == "x**3"
    assert [c["claimed"] for c in claims(found, "gradient")] == ["tensor(12.)", "12.0"]
    assert claims(found, "accumulate") == []


def test_arithmetic_on_named_python_floats_is_claimed_over_the_names():
    # f(x) = x^2 - 4x at x = 3.0: 9 - 12 = -3. dfdx is named df/dx: the derivative 2x - 4 = 2
    # (printed 3.0: planted), and its formula 2*x - 4 is claimed as df/dx.
    code = "x = 3.0\nf = x**2 - 4*x\ndfdx = 2*x - 4\nprint(f, dfdx)\nfor i in range(2):\n    print(i)"
    found = find(notebook((code, "-3.0 3.0\n0\n1\n")))
    [case] = found.cases
    assert case["expression"] == "x**2 - 4*x" and case["variables"] == {"x": 3.0}
    assert [(c["kind"], c.get("claimed", c.get("formula"))) for c in case["claim"]] == [
        ("gradient", "3.0"), ("formula", "2*x - 4"), ("value", "-3.0")]


def test_numpy_reprs_shown_as_a_cells_value_are_read():
    # mean([1, 2, 4]) = 7/3 = 2.3333...; a cell's last value shows NumPy's repr.
    found = find(notebook(
        ("import numpy as np\na = np.array([1., 2., 4.])\nnp.mean(a)", "np.float64(2.3333333333333335)"),
        ("a * 2", "array([2., 4., 8.])"),
    ))
    assert [c["claimed"] for c in claims(found, "value")] == ["2.3333333333333335", "[2., 4., 8.]"]


def test_a_loop_showing_gradients_add_up_makes_an_accumulate_claim_only():
    # sum(3w) has gradient [3, 3, 3, 3]; three backward() calls without zeroing print 3, 6, 9.
    code = ("import torch\nweights = torch.ones(4, requires_grad=True)\nfor epoch in range(3):\n"
            "    out = (weights * 3).sum()\n    out.backward()\n    print(weights.grad)")
    found = find(notebook((code, "tensor([3., 3., 3., 3.])\ntensor([6., 6., 6., 6.])\ntensor([9., 9., 9., 9.])\n")))
    [accumulate] = claims(found, "accumulate")
    assert accumulate["shown"] == ["tensor([3., 3., 3., 3.])", "tensor([6., 6., 6., 6.])", "tensor([9., 9., 9., 9.])"]
    assert "zero_after" not in accumulate
    # Only the first print is the gradient of one call.
    assert [c["claimed"] for c in claims(found, "gradient")] == ["tensor([3., 3., 3., 3.])"]


def test_parameters_norms_and_clamps_are_ops_of_the_language():
    # w = [3, 4]: |w| = 5; clamp(w - 3.5, min=0) = [0, 0.5]; d|w|/dw = w/|w| = [0.6, 0.8].
    code = ("import torch\nw = torch.nn.Parameter(torch.tensor([3., 4.]))\nn = w.norm()\n"
            "print(n.item(), torch.clamp(w - 3.5, min=0))\nn.backward()\nprint(w.grad)")
    found = find(notebook((code, "5.0 tensor([0.0000, 0.5000], grad_fn=<ClampBackward1>)\ntensor([0.6000, 0.8000])\n")))
    case = case_with(found, "gradient")
    assert case["expression"] == "sqrt(sum(w**2))"
    values = {c.get("expression", case["expression"]): c["claimed"] for c in claims(found, "value")}
    assert values == {"sqrt(sum(w**2))": "5.0",
                      "relu(w - 3.5)": "tensor([0.0000, 0.5000], grad_fn=<ClampBackward1>)"}
