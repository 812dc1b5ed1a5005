"""The README's tour runs and its set-up commands are the ones CI uses."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_tour_runs() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README has no python tour"
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    assert abs(namespace["poa"].poa - 1.625752) < 1e-6  # type: ignore[attr-defined]


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "gametheory demo" in readme
    assert 'pip install -e ".[test]" && python -m pytest' in readme
    assert "python -m pytest" in ci


def test_getting_started_tutorial_runs() -> None:
    text = (ROOT / "docs" / "tutorials" / "getting-started.md").read_text(encoding="utf-8")
    namespace: dict[str, object] = {}
    for block in re.findall(r"```python\n(.*?)```", text, flags=re.S):
        exec(compile(block, "getting-started.md", "exec"), namespace)
    assert namespace["eq"].converged  # type: ignore[attr-defined]
    assert namespace["result"].poa == 2.5  # type: ignore[attr-defined]
