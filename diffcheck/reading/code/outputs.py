"""Which printed text is which value: a cell's output matched to its prints.

Each `print` the interpreter recorded is a template: literal text (string
constants, separators, loop counters it computed) around values it did not
compute. The cell's output is read from the start, print by print: literal text
must match where it stands, and each value takes the text up to the next literal
(or the balanced brackets of `tensor(...)`, `[...]`, which may span lines). A
print whose literals are not where expected is looked for further on (the text in
between is skipped and the match marked for review); a print never found gets no
claimed text. Nothing is evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_OPEN = {"(": ")", "[": "]", "{": "}"}
MAX_SKIP = 2_000   # characters skipped to find a print whose literal text moved


@dataclass
class Matched:
    texts: list            # per part: the printed text of a value part, or None
    review: bool = False   # found only after skipping text, or the output was irregular


def match_cell(events, output: str) -> dict:
    """event id -> Matched, for the print events of one cell (in execution order)."""
    result, cursor = {}, 0
    for event in events:
        found = _match_at(event, output, cursor)
        review = False
        if found is None:
            found = _search(event, output, cursor)
            review = True
        if found is None:
            result[id(event)] = Matched([None] * len(event.parts), True)
            continue
        texts, cursor = found
        result[id(event)] = Matched(texts, review)
    if output[cursor:].strip() and result:
        for matched in result.values():
            matched.review = True
    return result


def _search(event, output: str, cursor: int):
    """Retry the match at the start of each later line, within MAX_SKIP characters."""
    position = output.find("\n", cursor)
    while position != -1 and position - cursor <= MAX_SKIP:
        found = _match_at(event, output, position + 1)
        if found is not None:
            return found
        position = output.find("\n", position + 1)
    return None


def _match_at(event, output: str, cursor: int):
    texts = []
    parts = list(event.parts)
    for number, part in enumerate(parts):
        if part.kind == "text":
            if not output.startswith(part.text, cursor):
                return None
            cursor += len(part.text)
            texts.append(None)
            continue
        following = _next_literal(parts, number, event.end)
        end = _value_end(output, cursor, following)
        if end is None or end == cursor:
            return None
        if _numeric(part) and not _NUMBER.fullmatch(output[cursor:end].strip()):
            return None
        texts.append(output[cursor:end])
        cursor = end
    if output.startswith(event.end, cursor):
        cursor += len(event.end)
    elif cursor < len(output) and event.end == "\n":
        return None
    return texts, cursor


_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?%?|[-+]?(nan|inf)")


def _numeric(part) -> bool:
    """A value printed as a plain number: a Python number (`.item()`) or a numeric format."""
    if part.kind != "value":
        return False
    spec = part.text
    return part.val.framework == "python" or bool(spec and spec[-1] in "eEfFgGd%n")


def _next_literal(parts, number: int, end: str) -> str:
    literal = ""
    for part in parts[number + 1:]:
        if part.kind != "text":
            break
        literal += part.text
    return literal if literal else (end if number == len(parts) - 1 else "")


def _value_end(output: str, start: int, following: str):
    """Where a printed value starting at `start` ends."""
    if start >= len(output):
        return None
    head = output[start:start + 12]
    if head.startswith(("tensor(", "array(", "Parameter containing:")) or output[start] in "[(":
        end = _balanced_end(output, start)
        if end is not None:
            return end
    line_end = output.find("\n", start)
    line_end = len(output) if line_end == -1 else line_end
    if following and following != "\n":
        stop = output.find(following, start + 1, line_end + len(following))
        return stop if stop != -1 else None
    return line_end


def _balanced_end(output: str, start: int):
    position = start
    if output.startswith("Parameter containing:", start):
        position = output.find("tensor(", start)
        if position == -1:
            return None
    while position < len(output) and output[position] not in _OPEN:
        position += 1
    depth = []
    for index in range(position, min(len(output), start + 200_000)):
        char = output[index]
        if char in _OPEN:
            depth.append(_OPEN[char])
        elif depth and char == depth[-1]:
            depth.pop()
            if not depth:
                return index + 1
    return None
