"""Every conversion component of fswap_standard and fswap_kalman passes the plugin contract checks."""

from __future__ import annotations

import fswap_kalman
import fswap_standard
import pytest

from fswap import Kind
from fswap.testing import check_blender, check_color_transfer, check_spec, check_tracker

STANDARD = fswap_standard.fswap_register_components()


def of_kind(kind: Kind, specs: list) -> list:
    return [spec for spec in specs if spec.kind == kind]


TRACKERS = of_kind(Kind.TRACKER, [*STANDARD, *fswap_kalman.fswap_register_components()])


@pytest.mark.parametrize("spec", TRACKERS, ids=lambda s: s.name)
def test_trackers(spec):
    check_spec(spec)
    frames = check_tracker(spec)
    assert len(frames[0]) == 1 and all(len(f) <= 1 for f in frames)


@pytest.mark.parametrize("spec", of_kind(Kind.COLOR_TRANSFER, STANDARD), ids=lambda s: s.name)
def test_color_transfers(spec):
    check_spec(spec)
    out = check_color_transfer(spec)
    assert out.dtype.name == "uint8"


@pytest.mark.parametrize("spec", of_kind(Kind.BLENDER, STANDARD), ids=lambda s: s.name)
def test_blenders(spec):
    check_spec(spec)
    out = check_blender(spec)
    assert out.ndim == 3


@pytest.mark.parametrize("spec", of_kind(Kind.WRITER, STANDARD), ids=lambda s: s.name)
def test_writer_specs(spec):
    check_spec(spec)
