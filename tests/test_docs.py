"""The Python examples of the docs run, and print what the docs say they print.

Each ```python block of a page is run in a fresh namespace (in a scratch folder); when an
unlabelled block follows it at once, that block is the output it must print: the same words,
and the same numbers to 1e-6 relative (the last digits of a float may differ between CPUs).
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = ("pomdp.md",)
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def examples(page: str) -> list[tuple[str, str | None]]:
    """(code, expected output or None) of each Python block of ``page``."""
    text = (DOCS / page).read_text()
    found = []
    pattern = re.compile(r"```python\n(.*?)```\n(?:```\n(.*?)```\n)?", re.S)
    for match in pattern.finditer(text):
        found.append((match.group(1), match.group(2)))
    return found


CASES = [
    pytest.param(code, output, id=f"{page}-{i}")
    for page in PAGES
    for i, (code, output) in enumerate(examples(page))
]


def same_output(printed: str, expected: str) -> bool:
    words, numbers = NUMBER.split(printed), NUMBER.findall(printed)
    want_words, want_numbers = NUMBER.split(expected), NUMBER.findall(expected)
    if [w.split() for w in words] != [w.split() for w in want_words]:
        return False
    return len(numbers) == len(want_numbers) and all(
        float(a) == pytest.approx(float(b), rel=1e-6, abs=1e-12)
        for a, b in zip(numbers, want_numbers, strict=True)
    )


def test_the_pages_have_examples():
    assert all(examples(page) for page in PAGES)


@pytest.mark.parametrize(("code", "output"), CASES)
def test_a_docs_example_runs_and_prints_what_the_docs_say(code, output, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "<docs>", "exec"), {"__name__": "__docs__"})
    if output is not None:
        assert same_output(printed.getvalue(), output), printed.getvalue()


def test_the_comparison_catches_a_changed_number_or_word():
    assert same_output("LB 9.30244948 converged\n", "LB 9.302449484 converged")
    assert not same_output("LB 9.31 converged", "LB 9.30 converged")
    assert not same_output("LB 9.30 interrupted", "LB 9.30 converged")
