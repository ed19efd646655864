"""Case files that name Python code: ``callable = "module:function"`` (and optionally
``gradient = "module:function"``, a hand-written gradient) instead of an expression.

Naming code in a case file must never be enough to run it: an untrusted file
would then run arbitrary code on the machine that audits it.  So the loader only
records the names (:func:`code_spec`); :func:`check_code_case` imports them only
when its caller passes the permission (``diffcheck audit --allow-import``, carried
by :class:`~diffcheck.documents.audit.CheckingSettings`), and otherwise reports
the case as refused without importing anything.  Modules are
looked up first in the case file's own directory.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

import numpy as np

from diffcheck.checking.tolerances import DEFAULT_TOLERANCES, Tolerances
from diffcheck.documents.findings import Finding
from diffcheck.errors import CaseFileError, DiffcheckError
from diffcheck.usercode.callables import check, check_gradient_fn
from diffcheck.vocabulary import AGREE, CONFIRMED, DISCREPANCY, ERROR, FAILED, REFUTED, UNDECIDED, UNSUPPORTED

REFUSED = "refused"


def code_spec(raw: dict, point: dict, locate) -> dict:
    """The code a case names, checked for form only (nothing imported)."""
    wrt = list(raw.get("wrt") or [])
    for variable in wrt:
        if variable not in point:
            raise CaseFileError(f"{locate('field wrt')}: {variable!r} is not a variable of the case")
    framework = raw.get("framework", "torch")
    return {"callable": raw["callable"], "gradient": raw.get("gradient", ""), "framework": framework,
            "wrt": wrt}


def resolve(name: str, directory: str):
    """The object ``module:attribute.path`` names, importing the module (with the case
    file's directory first on the path)."""
    module_name, _, attributes = name.partition(":")
    sys.path.insert(0, directory)
    try:
        obj = importlib.import_module(module_name)
    finally:
        sys.path.remove(directory)
    for attribute in attributes.split("."):
        obj = getattr(obj, attribute)
    return obj


def _inputs(case, spec):
    names = list(case.point)
    wrt = spec["wrt"] or names
    if spec["framework"] == "numpy":
        dtype = np.float32 if case.dtype == "float32" else np.float64
        return [case.point[k].astype(dtype) for k in names], [names.index(k) for k in wrt], names
    import torch
    dtype = torch.float32 if case.dtype == "float32" else torch.float64
    inputs = [torch.tensor(case.point[k], dtype=dtype, requires_grad=k in wrt) for k in names]
    return inputs, [names.index(k) for k in wrt], names


def check_code_case(case, result, started: float, allow_imports: bool = False,
                    tolerances: Tolerances = DEFAULT_TOLERANCES):
    """Check a case that names code: refused unless ``allow_imports``; else the
    callable's derivatives (or its hand-written gradient) checked at the case's
    point with ``tolerances``."""
    spec = case.code
    subject = f"the case's code ({spec['callable']}" + (f", gradient {spec['gradient']})" if spec["gradient"] else ")")
    if not allow_imports:
        message = (f"{REFUSED}: {case.locate('field callable')} names Python code ({spec['callable']}); "
                   "diffcheck imports code only with --allow-import, so nothing was imported or run")
        result.findings.append(Finding(0, "callable", subject, FAILED, message, where=case.where,
                                       quote=case.quote))
        result.seconds = time.perf_counter() - started
        return result
    directory = str(Path(case.path).resolve().parent)
    try:
        fn = resolve(spec["callable"], directory)
        inputs, positions, names = _inputs(case, spec)
        if spec["gradient"]:
            grad_f = resolve(spec["gradient"], directory)
            checked = check_gradient_fn(fn, grad_f, *inputs, wrt=positions, names=names,
                                        batch_size=case.batch_size, tolerances=tolerances)
        else:
            checked = check(fn, *inputs, wrt=positions, names=names, tolerances=tolerances)
    except DiffcheckError as err:
        status, message, evidence = FAILED, str(err), {}
    except Exception as err:  # noqa: BLE001 - user code failing to import is this case's outcome
        status, message, evidence = FAILED, f"importing the code failed: {type(err).__name__}: {err}", {}
    else:
        status = {AGREE: CONFIRMED, DISCREPANCY: REFUTED}.get(checked.verdict, UNDECIDED)
        if checked.verdict in (ERROR, UNSUPPORTED):
            status = FAILED
        message = checked.message().replace("\n", "; ")
        evidence = {"verdict": checked.verdict, "mode": checked.mode, "evaluations": checked.evaluations,
                    "worst": checked.worst.describe() if checked.worst else ""}
    result.findings.append(Finding(0, "callable", subject, status, message, where=case.where,
                                   quote=case.quote, evidence=evidence))
    result.seconds = time.perf_counter() - started
    return result
