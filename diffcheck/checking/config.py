"""Settings from ``[tool.diffcheck]`` in the nearest ``pyproject.toml``.

Looked up from the working directory upwards, read with :mod:`tomllib`, checked
key by key; the command line overrides every setting.  Paths in the file are
relative to the file's directory, so an audit run from a subdirectory finds
the same cases and writes the same reports.

.. code-block:: toml

    [tool.diffcheck]
    paths = ["cases"]
    report_dir = "reports"
    formats = ["json", "md", "junit", "html"]
    backends = ["symbolic", "numeric", "engine", "torch"]
    jobs = 2            # worker processes (0: check cases in the audit process)
    timeout = 120       # seconds per case, in a worker
    memory_mb = 2048    # address space a worker may add, per case
    reproducible = true # reports without times, versions or last digits (to commit)

    [tool.diffcheck.tolerance]
    rounding_safety = 32.0
    estimate_safety = 2.0
    floor_ulps = 16.0
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from diffcheck.checking.tolerances import Tolerances, tolerances_from
from diffcheck.errors import DiffcheckError


class ConfigError(DiffcheckError):
    """A ``[tool.diffcheck]`` table with an unknown key or a value of the wrong kind."""


@dataclass
class Settings:
    paths: list[str] = field(default_factory=lambda: ["cases"])
    report_dir: str | None = None
    formats: list[str] = field(default_factory=list)
    backends: list[str] | None = None
    tolerance: dict[str, float] = field(default_factory=dict)
    jobs: int | None = None
    timeout: float | None = None
    memory_mb: int | None = None
    reproducible: bool = False
    source: str = ""   # the pyproject.toml read, if any


_KINDS = {"paths": list, "report_dir": str, "formats": list, "backends": list, "tolerance": dict,
          "jobs": int, "timeout": float, "memory_mb": int, "reproducible": bool}
#: Numeric settings and the least value each may take.
_LEAST = {"jobs": 0, "timeout": 0.001, "memory_mb": 1}


def find_pyproject(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_settings(start: Path | None = None) -> Settings:
    path = find_pyproject(start)
    if path is None:
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"{path}: cannot read: {err}") from None
    table = data.get("tool", {}).get("diffcheck", {})
    settings = Settings(source=str(path))
    for key, value in table.items():
        if key not in _KINDS:
            raise ConfigError(f"{path}: [tool.diffcheck] has no setting {key!r} "
                              f"(known: {', '.join(_KINDS)})")
        if key in _LEAST:
            value = _number(path, key, value)
        elif not isinstance(value, _KINDS[key]):
            raise ConfigError(f"{path}: [tool.diffcheck] {key} should be a {_KINDS[key].__name__}")
        if key in ("paths", "report_dir"):
            base = path.parent
            value = [_relative(base / v) for v in value] if key == "paths" else _relative(base / value)
        setattr(settings, key, value)
    known = {f.name for f in dataclasses.fields(Tolerances)}
    for key, value in settings.tolerance.items():
        if key not in known:
            raise ConfigError(f"{path}: [tool.diffcheck.tolerance] has no setting {key!r} "
                              f"(known: {', '.join(sorted(known))})")
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{path}: [tool.diffcheck.tolerance] {key} should be a positive number")
    return settings


def _number(path: Path, key: str, value):
    kind = _KINDS[key]
    accepted = (int, float) if kind is float else (int,)
    if isinstance(value, bool) or not isinstance(value, accepted) or value < _LEAST[key]:
        least = "positive" if key != "jobs" else "non-negative"
        raise ConfigError(f"{path}: [tool.diffcheck] {key} should be a {least} "
                          f"{'number' if kind is float else 'integer'}, got {value!r}")
    return kind(value)


def _relative(path: Path) -> str:
    """A settings path as reports should show it: relative to the working directory
    when it lies below it, so reports do not depend on where the checkout is."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def tolerances_of(settings: Settings) -> Tolerances:
    """The tolerance multipliers these settings give (the defaults, with the
    ``[tool.diffcheck.tolerance]`` values validated by :func:`load_settings`):
    a value to pass to the checks, not a setting of the process."""
    return tolerances_from(settings.tolerance)
