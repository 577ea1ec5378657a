"""68-point landmarks from the `face-alignment` package (2D-FAN, PyTorch) as the aligner `face_alignment`.

An optional extra: `pip install "fswap[face-alignment]"`. That package downloads its FAN weights on first use
(into torch's hub cache), so the first run needs network. The aligner is declared on its config class in
`fswap_face_alignment.config`; registration imports neither torch nor the package.
"""

from __future__ import annotations

from fswap import ComponentSpec, declared, hookimpl
from fswap_face_alignment import config


@hookimpl
def fswap_register_components() -> list[ComponentSpec]:
    return declared(config)
