"""The errors the layers below raise *for people*: catch these, show their sentence.

The dashboard and the CLI catch exactly these names, from here:

* ``InputError`` (``data.problems``): input that cannot be used (a bad file, an unknown
  code, a name left empty). Its message says what to do.
* ``ScopeError`` (``queries.scope``): the user may not do or see this (outside their scope,
  or a right their account lacks). Its message says why, and whom to ask.
* ``REFUSALS``: both, for ``except REFUSALS as exc``.

Anything else a query raises is a bug, not a refusal.
"""

from __future__ import annotations

from data.problems import InputError
from queries.scope import ScopeError

REFUSALS: tuple[type[Exception], ...] = (InputError, ScopeError)
"""Every refusal a query function raises, for one ``except`` clause."""


def as_sentence(error: Exception | str) -> str:
    """A refusal's message as a sentence: capital first, full stop last.

    Examples
    --------
    >>> as_sentence(ScopeError("this school is not in your access"))
    'This school is not in your access.'
    """
    text = str(error).strip()
    text = f"{text[:1].upper()}{text[1:]}"
    return text if text.endswith((".", "!", "?")) else f"{text}."


__all__ = ["REFUSALS", "InputError", "ScopeError", "as_sentence"]
