"""The teaching subset of torch and NumPy the static reader knows, as data.

`FUNCTIONS` maps a dotted name (after import aliases are resolved) to the op of
diffcheck's expression language it is; `CREATORS` to the tensor factories;
`KEYWORDS` lists the keyword arguments each accepted call takes, so that a
misspelled keyword (`dtpye=`) is found without running anything.
"""

from __future__ import annotations

import difflib

# Element-wise functions: dotted name -> op name of the expression language.
_ELEMENTWISE = ("exp", "log", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "sqrt", "abs",
                "square", "sinh", "cosh", "arcsin", "arccos", "arctan", "asin", "acos", "atan")
FUNCTIONS: dict[str, str] = {}
for _name in _ELEMENTWISE:
    FUNCTIONS[f"torch.{_name}"] = _name
    FUNCTIONS[f"numpy.{_name}"] = _name
for _name in ("relu", "sigmoid", "tanh", "softplus", "elu", "leaky_relu"):
    FUNCTIONS[f"torch.nn.functional.{_name}"] = _name
FUNCTIONS["torch.special.expit"] = "sigmoid"
FUNCTIONS["math.exp"] = "exp"
FUNCTIONS["math.log"] = "log"
FUNCTIONS["math.sin"] = "sin"
FUNCTIONS["math.cos"] = "cos"
FUNCTIONS["math.sqrt"] = "sqrt"
FUNCTIONS["math.tanh"] = "tanh"
for _fw in ("torch", "numpy"):
    FUNCTIONS[f"{_fw}.sum"] = "sum"
    FUNCTIONS[f"{_fw}.mean"] = "mean"
    FUNCTIONS[f"{_fw}.dot"] = "dot"
    FUNCTIONS[f"{_fw}.matmul"] = "matmul"
    FUNCTIONS[f"{_fw}.transpose"] = "transpose"
    FUNCTIONS[f"{_fw}.maximum"] = "max"
    FUNCTIONS[f"{_fw}.minimum"] = "min"
    FUNCTIONS[f"{_fw}.pow"] = "pow"
    FUNCTIONS[f"{_fw}.add"] = "add"
    FUNCTIONS[f"{_fw}.subtract"] = "sub"
    FUNCTIONS[f"{_fw}.multiply"] = "mul"
    FUNCTIONS[f"{_fw}.divide"] = "div"
FUNCTIONS["torch.mul"] = "mul"
FUNCTIONS["torch.sub"] = "sub"
FUNCTIONS["torch.div"] = "div"
FUNCTIONS["torch.mm"] = "matmul"
FUNCTIONS["torch.mv"] = "matmul"
FUNCTIONS["numpy.power"] = "pow"
FUNCTIONS["torch.nn.functional.mse_loss"] = "mse_loss"

# Tensor methods that are ops: method name -> op name.
METHODS = {name: name for name in ("exp", "log", "sin", "cos", "tan", "tanh", "sigmoid", "relu",
                                   "sqrt", "abs", "square", "sum", "mean", "dot", "pow", "matmul",
                                   "sinh", "cosh")}
METHODS.update({"t": "transpose", "mm": "matmul", "mul": "mul", "add": "add", "sub": "sub",
                "div": "div", "neg": "neg"})

# Methods the reader follows in its own way (not ops); all are names torch or NumPy have.
OTHER_METHODS = {"item", "numpy", "detach", "clone", "requires_grad_", "backward", "numel", "size",
                 "zero_", "tolist", "float", "double", "sub_", "add_", "mul_", "copy_", "cpu",
                 "retain_grad", "max", "min", "view", "reshape", "unsqueeze", "squeeze", "flatten",
                 "argmax", "norm", "to", "type", "long", "int", "zero_grad", "step"}
ALL_METHODS = set(METHODS) | OTHER_METHODS

# Creators: dotted name -> kind.
CREATORS = {
    "torch.tensor": "tensor", "torch.Tensor": "tensor", "torch.FloatTensor": "tensor",
    "torch.as_tensor": "tensor", "torch.from_numpy": "tensor",
    "numpy.array": "array", "numpy.asarray": "array",
    "torch.ones": "ones", "torch.zeros": "zeros", "numpy.ones": "ones", "numpy.zeros": "zeros",
    "torch.ones_like": "ones_like", "torch.zeros_like": "zeros_like",
    "numpy.ones_like": "ones_like", "numpy.zeros_like": "zeros_like",
    "torch.arange": "arange", "numpy.arange": "arange",
    "torch.linspace": "linspace", "numpy.linspace": "linspace",
    "torch.eye": "eye", "numpy.eye": "eye", "torch.full": "full", "numpy.full": "full",
}
RANDOM = {"torch.randn", "torch.rand", "torch.randint", "torch.normal", "torch.randn_like",
          "torch.rand_like", "numpy.random.randn", "numpy.random.rand", "numpy.random.random",
          "numpy.random.uniform", "numpy.random.normal", "numpy.random.randint",
          "numpy.random.random_sample", "numpy.random.choice"}
# Calls that change no value the reader tracks (seeding, display, plotting set-up).
INERT_PREFIXES = ("matplotlib", "seaborn", "IPython", "builtins.display", "warnings")
INERT = {"torch.manual_seed", "numpy.random.seed", "random.seed", "torch.set_printoptions",
         "numpy.set_printoptions", "torch.set_grad_enabled"}

_TENSOR_KW = {"dtype", "device", "requires_grad", "pin_memory", "layout", "out", "memory_format"}
KEYWORDS = {
    "torch.tensor": {"data", "dtype", "device", "requires_grad", "pin_memory"},
    "torch.as_tensor": {"data", "dtype", "device"},
    "numpy.array": {"object", "dtype", "copy", "order", "subok", "ndmin", "like"},
    "numpy.asarray": {"a", "dtype", "order", "like", "device", "copy"},
    "torch.ones": _TENSOR_KW | {"size"}, "torch.zeros": _TENSOR_KW | {"size"},
    "torch.ones_like": _TENSOR_KW | {"input"}, "torch.zeros_like": _TENSOR_KW | {"input"},
    "torch.randn": _TENSOR_KW | {"size", "generator"}, "torch.rand": _TENSOR_KW | {"size", "generator"},
    "torch.arange": _TENSOR_KW | {"start", "end", "step"},
    "torch.linspace": _TENSOR_KW | {"start", "end", "steps"},
    "numpy.ones": {"shape", "dtype", "order", "like", "device"},
    "numpy.zeros": {"shape", "dtype", "order", "like", "device"},
    "numpy.arange": {"start", "stop", "step", "dtype", "like", "device"},
    "numpy.linspace": {"start", "stop", "num", "endpoint", "retstep", "dtype", "axis", "device"},
    "backward": {"gradient", "retain_graph", "create_graph", "inputs"},
    "torch.optim.SGD": {"params", "lr", "momentum", "dampening", "weight_decay", "nesterov",
                        "maximize", "foreach", "differentiable", "fused"},
    "sum": {"dim", "keepdim", "dtype", "axis"}, "mean": {"dim", "keepdim", "dtype", "axis"},
    "torch.sum": {"input", "dim", "keepdim", "dtype", "axis"},
    "torch.mean": {"input", "dim", "keepdim", "dtype", "axis", "out"},
    "numpy.sum": {"a", "axis", "dtype", "out", "keepdims", "initial", "where"},
    "numpy.mean": {"a", "axis", "dtype", "out", "keepdims", "where"},
    "requires_grad_": {"requires_grad"},
    "print": {"sep", "end", "file", "flush"},
}


def check_keywords(function: str, given, allowed: set[str] | None = None) -> str | None:
    """The one-line error a misspelled keyword argument raises, or None."""
    allowed = KEYWORDS.get(function) if allowed is None else allowed
    if not allowed:
        return None
    for keyword in given:
        if keyword is not None and keyword not in allowed:
            close = difflib.get_close_matches(keyword, sorted(allowed), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            short = function.rsplit(".", 1)[-1] if "." not in function else function
            return f"{short}() got an unexpected keyword argument {keyword!r}{hint}"
    return None


DTYPES = {"float32": "float32", "float": "float32", "float64": "float64", "double": "float64",
          "float16": "float32", "half": "float32", "int64": "int", "int32": "int", "long": "int",
          "int": "int", "int8": "int", "int16": "int", "uint8": "int", "bool": "int"}

# Ops whose backward needs tensors saved in the forward pass: a second backward()
# through them, without retain_graph=True, raises.
SAVING_OPS = {"mul", "div", "pow", "matmul", "dot", "exp", "log", "sin", "cos", "tan", "tanh",
              "sigmoid", "relu", "sqrt", "abs", "square", "max", "min", "softplus", "elu",
              "leaky_relu", "sinh", "cosh"}
