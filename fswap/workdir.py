"""The layout of a run's working folder, shared by every stage so they agree on where things live."""

from __future__ import annotations

from pathlib import Path

import attrs


@attrs.frozen
class Workdir:
    """Paths inside the workdir. Stages create what they write; nothing here touches the disk."""

    root: Path

    def faceset(self, side: str) -> Path:
        """Face set of identity `side` ("a" or "b")."""
        return self.root / "faces" / side

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def checkpoints(self) -> Path:
        return self.model / "checkpoints"

    @property
    def previews(self) -> Path:
        return self.model / "previews"

    @property
    def logs(self) -> Path:
        return self.model / "logs"

    @property
    def convert(self) -> Path:
        return self.root / "convert"

    @property
    def evaluate(self) -> Path:
        return self.root / "evaluate"

    @property
    def resolved_config(self) -> Path:
        return self.root / "pipeline.resolved.json"
