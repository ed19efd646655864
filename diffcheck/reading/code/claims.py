"""From what the interpreter saw to cases in the `cases/` format.

Every printed value matched to its text becomes a claim:

* a value the code computed -> `value` (expression over the leaves it depends on);
* `x.grad` after one `backward()` -> `gradient` of that call's expression wrt x;
  after several different ones without zeroing -> `gradient` of the last with
  `earlier` (marked for review); the same call repeated is left to `accumulate`;
* a leaf that several `backward()` calls reached, with its `.grad` printed ->
  `accumulate` (calls in order, where it was zeroed, what was printed after each);
* parameters updated by gradient steps (`w -= lr * w.grad`, `optimizer.step()`,
  or a hand-written gradient under a name that says whose gradient it is) ->
  one `descent` per group of parameters, with the printed losses, parameters and
  gradients as its `shown` steps;
* a hand-written gradient (`dw = ...`) the names tie to a loss and a parameter ->
  `formula` (and `gradient` where it is printed), marked for review;
* code that would raise when run -> a case with one claim of the new kind
  `runs`: `{kind = "runs", claimed = "runs", error = "<what would go wrong>"}`.
  The document implicitly claims its code runs; the static reader found where
  it would not, so the audit is to report the claim refuted with `error`. The
  case has `expression = "0"` and no variables (nothing to differentiate); its
  `where`/`quote` locate the failing line. An error the document shows (a
  traceback in the cell's output) or announces (a comment such as `# ERROR:`,
  or prose just before the cell) is no such claim: it is listed unread.

Values drawn at random are never invented: a random leaf printed on its own
takes the printed values (each claim then carries a note saying so); otherwise
claims depending on it are unread.
"""

from __future__ import annotations

import re

from diffcheck.errors import DiffcheckError
from diffcheck.checking.precision import claimed as read_claimed
from diffcheck.reading.document import Unread
from diffcheck.reading.code.values import Renderer, leaves, strip

RANDOM_NOTE = "values read from the printed output of the random input"


def where_of(location) -> str:
    return f"{location.cell}, line {location.line}" if location.cell else f"line {location.line}"


def cell_label(location, fallback: int) -> str:
    if location.cell:
        digits = re.findall(r"\d+", location.cell)
        return f"cell-{digits[0]}" if digits else f"cell-{fallback}"
    return f"line-{location.line}"


class Builder:
    """Collects cases; each case keeps the renderer that names its leaves and defines."""

    def __init__(self):
        self.cases: list[dict] = []
        self.meta: list[dict] = []     # per case: renderer, root, leaves, cell
        self.by_root: dict = {}
        self.names: set[str] = set()
        self.unread: list[Unread] = []
        self.seen_claims: set = set()

    # -- cases ---------------------------------------------------------------------

    def case_for_root(self, tree, event, slug: str) -> int:
        key = strip(tree)
        if key in self.by_root:
            return self.by_root[key]
        renderer = Renderer()
        root = strip(tree)
        expression = renderer.render(root)
        label = cell_label(event.location, event.cell + 1)
        name = self._unique(f"{label}-{slug}")
        case = {"name": name, "where": where_of(event.location), "quote": event.quote,
                "expression": expression}
        self.cases.append(case)
        self.meta.append({"renderer": renderer, "root": root, "leaves": set(leaves(root)),
                          "cell": event.cell, "notes": []})
        self.by_root[key] = len(self.cases) - 1
        return len(self.cases) - 1

    def case_containing(self, tree, event) -> int:
        """The latest case whose leaves include every leaf of `tree` (same cell first)."""
        needed = set(leaves(tree))
        candidates = [i for i, m in enumerate(self.meta) if m["root"] is not None and needed <= m["leaves"]]
        same_cell = [i for i in candidates if self.meta[i]["cell"] == event.cell]
        if same_cell or candidates:
            return (same_cell or candidates)[-1]
        scalar = strip(tree)
        shape = _tree_shape(scalar)
        root = scalar if shape == () else ("op", "sum", (scalar,), ())
        slug = _slug(tree)
        return self.case_for_root(root, event, slug)

    def add_claim(self, index: int, claim: dict, tree=None) -> None:
        # A loop prints the same claim from the same line once per iteration: keep one.
        key = (index, tuple(sorted((k, repr(v)) for k, v in claim.items() if k != "quote")))
        if key in self.seen_claims:
            return
        self.seen_claims.add(key)
        self.cases[index].setdefault("claim", []).append(claim)
        if tree is not None:
            self.meta[index]["leaves"] |= set(leaves(tree))

    def render(self, index: int, tree, top: bool = True) -> str:
        return self.meta[index]["renderer"].render(tree, top)

    def _unique(self, name: str) -> str:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "case"
        candidate, n = name, 1
        while candidate in self.names:
            n += 1
            candidate = f"{name}-{n}"
        self.names.add(candidate)
        return candidate

    def runs_case(self, event) -> None:
        label = cell_label(event.location, event.cell + 1)
        name = self._unique(f"{label}-runs-line-{event.location.line}")
        self.cases.append({"name": name, "where": where_of(event.location), "quote": event.quote,
                           "expression": "0", "variables": {},
                           "claim": [{"kind": "runs", "claimed": "runs", "error": event.message}]})
        self.meta.append({"renderer": Renderer(), "root": None, "leaves": set(), "cell": event.cell,
                          "notes": []})

    # -- finishing -----------------------------------------------------------------

    def finish(self) -> list[dict]:
        """Fill in variables, defines, wrt and dtype; drop cases left without claims."""
        out = []
        for case, meta in zip(self.cases, self.meta):
            if not case.get("claim"):
                continue
            if meta["root"] is None:
                out.append(case)
                continue
            _fill(case, meta)
            out.append(case)
        return out


def _fill(case: dict, meta: dict) -> None:
    """A case's variables, defines, wrt, dtype and notes, from its leaves."""
    renderer: Renderer = meta["renderer"]
    named = dict(renderer.names)
    case["variables"] = {name: _float(leaf.value) for leaf, name in named.items()}
    if renderer.defines:
        case["define"] = dict(renderer.defines)
    used = set(leaves(meta["root"]))
    wrt = [name for leaf, name in named.items() if leaf.requires_grad and leaf in used]
    if wrt and len(wrt) < len(named):
        case["wrt"] = wrt
    kinds = {(leaf.framework, leaf.dtype) for leaf in named}
    if ("torch", "float32") in kinds and all(k == ("torch", "float32") or k[1] == "int" for k in kinds):
        case["dtype"] = "float32"
    if any(leaf.read_from_output for leaf in named):
        meta["notes"].append(RANDOM_NOTE)
        case["rounded_inputs"] = {name: leaf.printed_unit for leaf, name in named.items()
                                  if leaf.read_from_output and leaf.printed_unit > 0}
        for claim in case["claim"]:
            claim["review"] = True
    if meta["notes"]:
        case["note"] = "; ".join(dict.fromkeys(meta["notes"]))


def _float(value):
    if isinstance(value, list):
        return [_float(v) for v in value]
    return float(value)


def _tree_shape(tree):
    """Whether a tree is known to be scalar: () when it is, None otherwise."""
    if tree[0] == "num":
        return ()
    if tree[0] == "leaf":
        return tuple(tree[1].shape) if tree[1].shape is not None else None
    if tree[0] == "named":
        return _tree_shape(tree[2])
    name, args, params = tree[1], tree[2], tree[3]
    if name in ("sum", "mean") and not params or name == "dot":
        return ()
    shapes = [_tree_shape(a) for a in args]
    if name in ("matmul", "transpose", "sum", "mean") or None in shapes:
        return None
    return () if all(s == () for s in shapes) else None


def _slug(tree) -> str:
    if tree[0] == "named":
        return tree[1]
    if tree[0] == "leaf":
        return tree[1].name or "value"
    return "value"


def claimed_text(text: str):
    """The printed text as a claim can hold it, or None when it is not a number."""
    text = text.strip()
    for candidate in (text, _numpy_repr_stripped(text)):
        if candidate is None:
            continue
        try:
            read_claimed(candidate)
            return candidate
        except (DiffcheckError, ValueError, TypeError):
            continue
    return None


def _numpy_repr_stripped(text: str):
    """The numbers inside a NumPy repr: `array([1., 2.])`, `np.float64(3.0)`."""
    match = re.fullmatch(r"(?:array|np\.\w+|numpy\.\w+)\((.*?)(?:,\s*dtype=[\w.]+)?\)", text, re.S)
    if match:
        return match.group(1)
    match = re.fullmatch(r"Parameter containing:\s*(tensor\(.*\))", text, re.S)
    return match.group(1) if match else None
