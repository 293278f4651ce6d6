"""The property tests run under the profile ``tests/conftest.py`` loads: ``ci`` when ``$CI`` is set.

``ci`` is derandomised (the same examples every run) and prints the blob that replays a
failure; ``default`` explores new examples every run and prints the blob too.
"""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

IN_CI = bool(os.environ.get("CI"))


def test_the_profile_follows_the_ci_variable() -> None:
    assert settings.get_current_profile_name() == ("ci" if IN_CI else "default")
    assert settings.default is not None
    assert settings.default.derandomize is IN_CI
    assert settings.default.print_blob


@settings(max_examples=3, deadline=None)
@given(n=st.integers())
def test_a_property_test_with_its_own_settings_keeps_the_profile(n: int) -> None:
    # While a test runs, settings.default is that test's settings: its own max_examples and
    # deadline over the profile (tests/conftest.py loads it before any test module).
    effective = settings.default
    assert effective is not None
    assert effective.max_examples == 3
    assert effective.derandomize is IN_CI
    assert effective.print_blob
    assert (effective.database is None) is IN_CI
