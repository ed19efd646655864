"""Case files as data: the shipped JSON Schema, TOML read within limits, and
validation whose first error names the file, the case and the field.

Nothing here builds a case; :mod:`diffcheck.documents.catalogue` does, from the
tables these functions read and check.
"""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path

import jsonschema

from diffcheck.errors import CaseFileError

#: Largest case file read.
MAX_FILE_BYTES = 8 * 1024 * 1024


def load_schema() -> dict:
    text = resources.files("diffcheck.documents").joinpath("schemas/casefile.schema.json").read_text("utf-8")
    return json.loads(text)


SCHEMA = load_schema()
CASE_SCHEMA = {"$defs": SCHEMA["$defs"], **SCHEMA["$defs"]["case"]}
FILE_SCHEMA = {**SCHEMA, "properties": {**SCHEMA["properties"], "case": {"type": "array", "minItems": 1}}}



def read_toml(path: Path, shown: str) -> dict:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CaseFileError(f"{shown}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        raw = path.read_bytes()
    except OSError as err:
        raise CaseFileError(f"{shown}: cannot read: {err.strerror or err}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CaseFileError(f"{shown}: not UTF-8 text (byte {err.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise CaseFileError(f"{shown}: not valid TOML: {err}") from None
    except RecursionError:
        raise CaseFileError(f"{shown}: not valid TOML: nested too deeply") from None


def field_path(path) -> str:
    parts: list[str] = []
    for item in path:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]} {item + 1}" if parts else f"item {item + 1}"]
        else:
            parts.append(str(item))
    return ".".join(parts)


def validate(data, schema, shown: str, case: str | None) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is None:
        return
    message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    if error.validator == "type" and error.validator_value == "string" and isinstance(error.instance, (int, float)):
        # Claimed numbers are text so that their digits count (0.540 shows three places).
        message += f'; write it in quotes, as the document shows it: "{error.instance}"'
    place = field_path(error.absolute_path)
    place = f"field {place}" if place else "top level"
    where = f"{shown}: case {case!r}, {place}" if case else f"{shown}: {place}"
    raise CaseFileError(f"{where}: {message}")
