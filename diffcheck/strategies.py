"""Hypothesis strategies for expressions and points: the public import path.

``from diffcheck.strategies import problems`` is what the README and users'
test suites write; the strategies live in :mod:`diffcheck.testing.strategies`.
"""

from diffcheck.testing.strategies import *  # noqa: F401,F403
