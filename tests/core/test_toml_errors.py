"""TOML syntax errors always say where: also the ones tomllib reports "at end of document"."""

from __future__ import annotations

from pathlib import Path

import pytest

from fswap.config import read_toml
from fswap.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a = '''open", "(at line 1, column 12: end of document)"),  # found by the property test
        ("x = 1\ny = [1,\n  2", "(at line 3, column 4: end of document)"),
        ("a = 1\n[b\n", "(at line 2, column 3)"),  # tomllib's own position is kept
    ],
)
def test_syntax_errors_name_line_and_column(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "pipeline.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_toml(path)
    message = str(caught.value)
    assert message.startswith("pipeline.toml: TOML syntax error: ") and message.endswith(where)
