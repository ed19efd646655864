"""What a reader makes of a document: an ordered list of located blocks.

Every reader (notebook, Markdown or notebook text export, Python script, LaTeX,
reStructuredText) turns a file into a `Document`; every claim finder reads
`Document.blocks` and nothing else, so a finder never knows which format a block
came from. Nothing here executes or evaluates document text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["prose", "math", "code", "output"]


@dataclass(frozen=True)
class Location:
    """Where a block (or a claim inside it) stands: the file, the cell if the
    format has cells (`"In [4]"`, `"cell 7"`, `"%% 3"`), and the 1-based line in
    the file where it starts (for notebooks: the line within the cell)."""

    path: str
    line: int
    cell: str | None = None

    def describe(self) -> str:
        where = f"{self.cell}, line {self.line}" if self.cell else f"line {self.line}"
        return f"{self.path}: {where}"


@dataclass(frozen=True)
class Block:
    """One piece of a document.

    kind    prose  -- running text (may hold inline math such as `$x^2$`; the
                      reader leaves inline math in place and also emits it as a
                      separate `math` block with `display=False`)
            math   -- one LaTeX formula, without its delimiters
            code   -- the source of one code cell or fenced block
            output -- what a code cell printed (stored notebook output, or the
                      text after a cell in a text export, or `# >>>` / `# Output:`
                      comments), attached to the code block before it via `of`
    """

    kind: BlockKind
    text: str
    location: Location
    display: bool = False          # math: display ($$...$$, \[...\], equation) or inline
    language: str | None = None    # code: "python" when known
    of: int | None = None          # output: index in Document.blocks of its code block


@dataclass
class Document:
    """A read document: its path, its title (first heading, if any) and blocks in order."""

    path: str
    title: str | None = None
    blocks: list[Block] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)   # located one-line reading problems

    def add(self, block: Block) -> int:
        self.blocks.append(block)
        return len(self.blocks) - 1


@dataclass(frozen=True)
class Unread:
    """A claim-like passage a finder saw but could not check, and why
    (an op outside the language, a cell the static reader cannot follow,
    LaTeX it could not parse). Reports list these so a user knows what was
    not checked."""

    location: Location
    quote: str
    reason: str


@dataclass
class Found:
    """What one claim finder makes of a document: cases in the `cases/` file
    format (plain dicts, exactly the tables a case file holds: `name`, `where`,
    `quote`, `expression`, `variables`, `define`, `claim` list, ... plus
    `review = true` on anything the finder was unsure of) and the unread passages."""

    cases: list[dict] = field(default_factory=list)
    unread: list[Unread] = field(default_factory=list)
