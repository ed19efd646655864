"""User code seen as a function of one flat vector: what :mod:`diffcheck.usercode.probes` checks.

:class:`TorchCode` wraps a torch callable (custom ``autograd.Function`` s
included) and its inputs; :class:`ArrayCode` wraps NumPy code.  Both give the
function in float64 for numeric differentiation (upcasting float32 inputs when the
code runs in float64, so the reference is not limited by float32 rounding), and
the derivatives under test in the code's own dtype and, when possible, in float64
too: the difference measures the code's own rounding, which sets the tolerance.
"""

from __future__ import annotations

import contextlib
import inspect

import numpy as np

from diffcheck.errors import CallableError

NATIVE, FLOAT64 = "native", "float64"


def parameter_names(fn, count: int, names=None) -> list[str]:
    """Names for the inputs: given ones, else fn's parameter names, else ''."""
    if names is not None:
        if len(names) != count:
            raise CallableError(f"names: {len(names)} names given for {count} inputs")
        return list(names)
    try:
        params = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else "" for i in range(count)]


class _Flat:
    """Bookkeeping shared by both kinds of code: positions, shapes, flat labels."""

    def _layout(self, values: list[np.ndarray]):
        self.shapes = [tuple(np.shape(v)) for v in values]
        self.sizes = [int(np.prod(s, dtype=int)) for s in self.shapes]
        self.offsets = np.cumsum([0, *self.sizes])
        self.x = (np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in values])
                  if values else np.zeros(0))

    def split(self, flat: np.ndarray) -> list[np.ndarray]:
        return [flat[a:b].reshape(s) for a, b, s in zip(self.offsets, self.offsets[1:], self.shapes)]

    def label(self, flat_index: int) -> tuple[int, str, tuple]:
        """(input position, input name, entry index) of a flat index."""
        k = int(np.searchsorted(self.offsets, flat_index, side="right")) - 1
        index = np.unravel_index(flat_index - self.offsets[k], self.shapes[k]) if self.shapes[k] else ()
        return self.positions[k], self.names[self.positions[k]], tuple(int(i) for i in index)

    def output_label(self, flat_index: int) -> tuple[int, tuple]:
        offsets = np.cumsum([0, *[int(np.prod(s, dtype=int)) for s in self.out_shapes]])
        k = int(np.searchsorted(offsets, flat_index, side="right")) - 1
        shape = self.out_shapes[k]
        index = np.unravel_index(flat_index - offsets[k], shape) if shape else ()
        return k, tuple(int(i) for i in index)


class TorchCode(_Flat):
    """A torch callable at given inputs.  The differentiated inputs are the floating
    tensors with ``requires_grad`` (all floating tensors if none has it), or ``wrt``."""

    def __init__(self, fn, inputs, wrt=None, names=None, no_grad: bool = True):
        import torch
        self.torch, self.fn, self.inputs = torch, fn, list(inputs)
        self.names = parameter_names(fn, len(self.inputs), names)
        floating = [i for i, v in enumerate(self.inputs)
                    if isinstance(v, torch.Tensor) and v.is_floating_point()]
        if wrt is None:
            wrt = [i for i in floating if self.inputs[i].requires_grad] or floating
        for i in wrt:
            if i not in floating:
                raise CallableError(f"wrt: input {i} is not a floating-point tensor")
        if not wrt:
            raise CallableError("no input to differentiate: pass floating-point tensors")
        self.positions = list(wrt)
        self.dtypes = [self.inputs[i].dtype for i in self.positions]
        self.native = max(self.dtypes, key=lambda d: torch.finfo(d).eps)
        self.eps = float(torch.finfo(self.native).eps)
        self._layout([self.inputs[i].detach().to(torch.float64).cpu().numpy() for i in self.positions])
        self.no_grad = no_grad
        self.calls = 0
        self._graphs: dict = {}
        self.float64 = self.native == torch.float64
        self.out_shapes: list[tuple] = []

    # -- running the code -------------------------------------------------------------------
    def _assemble(self, leaves, precision):
        torch = self.torch
        args = list(self.inputs)
        if precision == FLOAT64:
            args = [a.detach().to(torch.float64) if isinstance(a, torch.Tensor) and a.is_floating_point()
                    else a for a in args]
        for position, leaf in zip(self.positions, leaves):
            args[position] = leaf
        return args

    def arguments(self, flat, precision) -> list:
        """All inputs, the differentiated ones replaced by ``flat`` (no autograd)."""
        return self._assemble(self._leaves(flat, precision, False), precision)

    def _leaves(self, flat, precision, requires_grad):
        torch = self.torch
        # from_numpy shares the (fresh, never mutated) array instead of copying it.
        return [torch.from_numpy(np.asarray(part, order="C")).to(
                    torch.float64 if precision == FLOAT64 else dtype).requires_grad_(requires_grad)
                for part, dtype in zip(self.split(flat), self.dtypes)]

    def _outputs(self, result) -> list:
        torch = self.torch
        if isinstance(result, torch.Tensor):
            return [result] if result.is_floating_point() else []
        if isinstance(result, (tuple, list)):
            return [t for item in result for t in self._outputs(item)]
        return []

    def call(self, leaves, precision) -> list:
        self.calls += 1
        outputs = self._outputs(self.fn(*self._assemble(leaves, precision)))
        if not outputs:
            raise CallableError("fn returned no floating-point tensor")
        return outputs

    def start(self) -> np.ndarray:
        """Run the code once at the inputs; decide whether it runs in float64."""
        torch = self.torch
        with torch.no_grad() if self.no_grad else contextlib.nullcontext():
            outputs = self.call(self._leaves(self.x, NATIVE, not self.no_grad), NATIVE)
        self.out_shapes = [tuple(o.shape) for o in outputs]
        if not self.float64:
            try:
                with torch.no_grad() if self.no_grad else contextlib.nullcontext():
                    wide = self.call(self._leaves(self.x, FLOAT64, not self.no_grad), FLOAT64)
                self.float64 = all(o.dtype == torch.float64 for o in wide) and \
                    [tuple(o.shape) for o in wide] == self.out_shapes
            except Exception:  # noqa: BLE001 - code that cannot run in float64 is checked in its own dtype
                self.float64 = False
        return self.evaluate(self.x)

    def evaluate(self, flat: np.ndarray) -> np.ndarray:
        torch = self.torch
        precision = FLOAT64 if self.float64 else NATIVE
        with torch.no_grad() if self.no_grad else contextlib.nullcontext():
            outputs = self.call(self._leaves(flat, precision, not self.no_grad), precision)
        return np.concatenate([o.detach().to(torch.float64).reshape(-1).cpu().numpy() for o in outputs])

    # -- derivatives under test ---------------------------------------------------------------
    def _graph(self, precision):
        if precision not in self._graphs:
            leaves = self._leaves(self.x, precision, True)
            with self.torch.enable_grad():
                self._graphs[precision] = (leaves, self.call(leaves, precision))
        return self._graphs[precision]

    def _cotangents(self, w, outputs):
        torch = self.torch
        offsets = np.cumsum([0, *[o.numel() for o in outputs]])
        return [torch.tensor(w[a:b].reshape(tuple(o.shape)), dtype=o.dtype)
                for a, b, o in zip(offsets, offsets[1:], outputs)]

    def _flat(self, grads) -> np.ndarray:
        return np.concatenate([np.zeros(size) if g is None else
                               g.detach().to(self.torch.float64).reshape(-1).cpu().numpy()
                               for g, size in zip(grads, self.sizes)])

    def autograd_vjp(self, w: np.ndarray, precision: str) -> np.ndarray:
        """``w^T J`` by torch.autograd (reverse mode, custom backward rules included)."""
        torch = self.torch
        leaves, outputs = self._graph(precision)
        pairs = [(o, c) for o, c in zip(outputs, self._cotangents(w, outputs)) if o.requires_grad]
        if not pairs:
            return np.zeros(self.x.size)
        grads = torch.autograd.grad([o for o, _ in pairs], leaves, [c for _, c in pairs],
                                    retain_graph=True, allow_unused=True)
        return self._flat(grads)

    def forward_jvp(self, u: np.ndarray, precision: str) -> np.ndarray:
        """``J u`` by forward-mode AD (``torch.func.jvp``); raises where torch has none."""
        torch = self.torch
        primals = tuple(self._leaves(self.x, precision, False))
        tangents = tuple(torch.tensor(part, dtype=p.dtype) for part, p in zip(self.split(u), primals))

        def function(*leaves):
            return tuple(self.call(list(leaves), precision))

        _, tangent_out = torch.func.jvp(function, primals, tangents)
        return np.concatenate([t.detach().to(torch.float64).reshape(-1).cpu().numpy() for t in tangent_out])


class ArrayCode(_Flat):
    """A NumPy function ``f(*inputs) -> scalar`` at given inputs.  The differentiated
    inputs are the floating arrays and Python floats, or ``wrt``."""

    def __init__(self, f, inputs, wrt=None, names=None):
        self.f, self.inputs = f, list(inputs)
        self.names = parameter_names(f, len(self.inputs), names)
        floating = [i for i, v in enumerate(self.inputs)
                    if isinstance(v, float) or (isinstance(v, np.ndarray) and v.dtype.kind == "f")]
        self.positions = list(floating if wrt is None else wrt)
        for i in self.positions:
            if i not in floating:
                raise CallableError(f"wrt: input {i} is not a floating-point array")
        if not self.positions:
            raise CallableError("no input to differentiate: pass floating-point arrays")
        self.dtypes = [np.asarray(self.inputs[i]).dtype for i in self.positions]
        self.native = max(self.dtypes, key=lambda d: np.finfo(d).eps)
        self.eps = float(np.finfo(self.native).eps)
        self._layout([np.asarray(self.inputs[i]) for i in self.positions])
        self.float64 = True     # NumPy code runs on float64 arrays
        self.out_shapes = [()]
        self.calls = 0

    def arguments(self, flat, precision) -> list:
        args = list(self.inputs)
        if precision == FLOAT64:
            args = [a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
                    for a in args]
        for position, part, dtype in zip(self.positions, self.split(flat), self.dtypes):
            value = part.astype(np.float64 if precision == FLOAT64 else dtype)
            args[position] = float(value) if isinstance(self.inputs[position], float) else value
        return args

    def start(self) -> np.ndarray:
        return self.evaluate(self.x)

    def evaluate(self, flat: np.ndarray) -> np.ndarray:
        self.calls += 1
        value = np.asarray(self.f(*self.arguments(flat, FLOAT64)), dtype=np.float64)
        if value.size != 1:
            raise CallableError(f"f must return a scalar (the function whose gradient grad_f "
                                f"computes); it returned shape {value.shape}")
        return value.reshape(1)
