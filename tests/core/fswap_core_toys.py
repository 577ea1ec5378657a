"""A small component world (specs, configs, stage configs) used by the core tests."""


from __future__ import annotations

from pathlib import Path

import attrs

from fswap import ComponentSpec, Kind, Provider, option
from fswap.catalog import Catalog
from fswap.options import at_least, component, component_list, one_of
from fswap.stages import StageInfo

# -- a small component world used by the structure, config, schema and CLI tests --------------------------


@attrs.frozen(kw_only=True)
class ToyDetectorConfig:
    """Options of the toy detector."""

    min_face_size: int = option(20, help="Smallest face in pixels.", validator=at_least(8))
    thresholds: tuple[float, float, float] = option((0.6, 0.7, 0.7), help="Stage thresholds.")
    weights: Path | None = option(None, help="Weights file.")


@attrs.frozen(kw_only=True)
class ToyAlignerConfig:
    size: int = option(256, help="Crop size.", validator=one_of((64, 128, 256)))


@attrs.frozen(kw_only=True)
class ToyLossConfig:
    weight: float = option(1.0, help="Weight of the term.", validator=at_least(0.0))


@attrs.frozen(kw_only=True)
class EmptyConfig:
    """No options."""


TOY_SPECS = [
    ComponentSpec(kind=Kind.DETECTOR, name="mtcnn", factory="toy.det:Mtcnn", config=ToyDetectorConfig,
                  summary="Toy MTCNN.", aliases=("mtcnn_v1",), default_for=("detector",)),
    ComponentSpec(kind=Kind.DETECTOR, name="retina", factory="toy.det:Retina", config=EmptyConfig),
    ComponentSpec(kind=Kind.ALIGNER, name="umeyama5", factory="toy.align:Umeyama", config=ToyAlignerConfig,
                  default_for=("aligner",)),
    ComponentSpec(kind=Kind.LOSS, name="reconstruction", factory="toy.loss:L1", config=ToyLossConfig,
                  default_for=("toy_losses",)),
    ComponentSpec(kind=Kind.LOSS, name="edge", factory="toy.loss:Edge", config=ToyLossConfig),
    ComponentSpec(kind=Kind.TRACKER, name="kalman", factory="toy.track:Kalman", config=EmptyConfig),
]
TOY_PROVIDER = Provider("toy", "fswap-toy", "0.3")


def toy_catalog() -> Catalog:
    """A catalog holding TOY_SPECS, all from TOY_PROVIDER."""
    catalog = Catalog()
    for spec in TOY_SPECS:
        catalog.add(spec, TOY_PROVIDER)
    return catalog


@attrs.frozen(kw_only=True)
class SideConfig:
    input: Path = option(help="Video, image folder or glob.")


@attrs.frozen(kw_only=True)
class ToyExtractConfig:
    """A stage config shaped like the real extract stage's."""

    every_n_frames: int = option(1, help="Use every n-th frame.", validator=at_least(1))
    policy: str = option("single", help="Which faces to keep.", validator=one_of(("single", "all")))
    ratio: float = option(0.5, help="A float option.")
    mode: str | None = option(None, help="Optional string.")
    a: SideConfig = option(help="Side A.")
    b: SideConfig | None = option(None, help="Side B (optional).")
    detector: object = component("detector", help="Face detector.")
    aligner: object = component("aligner", help="Aligner.")
    tracker: object = component("tracker", optional=True, help="Optional tracker.")


@attrs.frozen(kw_only=True)
class ToyTrainConfig:
    iterations: int = option(100, help="Training iterations.", validator=at_least(1))
    losses: tuple = component_list("loss", role="toy_losses", help="Loss terms.")

    def check(self, pipeline: object) -> None:
        from fswap.errors import ConfigError

        if self.iterations == 13 and "extract" not in pipeline.stages:  # type: ignore[attr-defined]
            raise ConfigError("pipeline.toml [train]: iterations = 13 needs an [extract] stage")


def _ref(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


RAN: list[tuple[str, object]] = []
"""(stage, config) of every toy runner call, in order (tests clear it)."""


def run_extract(ctx: object, config: ToyExtractConfig) -> object:
    from fswap.context import StageResult

    RAN.append(("extract", config))
    return StageResult("extract", summary={"faces": 3}, outputs={"faces": Path("faces")})


def run_train(ctx: object, config: ToyTrainConfig) -> object:
    from fswap.context import StageResult

    RAN.append(("train", config))
    return StageResult("train", summary={"iterations": config.iterations})


TOY_STAGES = (
    StageInfo("extract", config=_ref(ToyExtractConfig), runner=f"{__name__}:run_extract", summary="Extract."),
    StageInfo("train", config=_ref(ToyTrainConfig), runner=f"{__name__}:run_train", summary="Toy train."),
)
