"""fswap.testing: good components pass; broken ones are caught with a message naming the fault."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from kit_components import MutableCfg, NoHelpCfg, RequiredCfg, spec

from fswap import ComponentSpec, Kind
from fswap.errors import PluginError
from fswap.testing import (
    check_aligner,
    check_blender,
    check_block,
    check_color_transfer,
    check_detector,
    check_embedder,
    check_loss,
    check_mask_generator,
    check_spec,
    check_tracker,
    check_writer,
    sample_aligned_face,
    sample_detection,
    sample_frame,
)


def with_mode(component: ComponentSpec, mode: str) -> object:
    return component.config(mode=mode)


def test_samples_are_the_public_domain_faces() -> None:
    astronaut = sample_frame("astronaut")
    assert astronaut.shape == (512, 512, 3) and astronaut.dtype == np.uint8
    assert sample_frame("grace_hopper").shape == (600, 512, 3)
    assert astronaut.flags.writeable and sample_frame("astronaut") is not astronaut
    face = sample_aligned_face(size=128)
    assert face.image.shape == (128, 128, 3)
    eyes = face.crop_landmarks[:2]
    assert abs(eyes[0, 1] - eyes[1, 1]) < 2.0 and 0.25 * 128 < eyes[0, 1] < 0.40 * 128  # level, upper third
    assert eyes[0, 0] < 64 < eyes[1, 0]
    assert sample_detection("grace_hopper").landmarks.shape == (5, 2)
    with pytest.raises(ValueError, match="no sample face"):
        sample_frame("mona_lisa")


# -- check_spec ----------------------------------------------------------------------------------------


def test_check_spec_accepts_a_good_spec() -> None:
    check_spec(spec("tracker", "NotHeavyAtAll"))


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (MutableCfg, "config MutableCfg is not frozen; use @attrs.frozen"),
        (NoHelpCfg, "config option 'mode' has no help text"),
        (RequiredCfg, "config RequiredCfg cannot be built with its defaults"),
    ],
)
def test_check_spec_rejects_bad_configs(config: type, message: str) -> None:
    with pytest.raises(PluginError) as info:
        check_spec(spec("tracker", "NotHeavyAtAll", config=config))
    assert str(info.value).startswith("tracker 'kit' ")
    assert message in str(info.value)


def test_check_spec_rejects_unimportable_factory_and_non_specs() -> None:
    with pytest.raises(PluginError, match="cannot import its factory kit_components:Missing"):
        check_spec(spec("tracker", "Missing"))
    with pytest.raises(PluginError, match=r"expected a fswap\.ComponentSpec or a config class declared with "
                                          r"@fswap\.declare, received tuple"):
        check_spec(("tracker", "kit"))  # type: ignore[arg-type]
    with pytest.raises(PluginError, match=r"received type"):
        check_spec(int)


def test_checks_take_a_declared_config_class_and_check_its_protocol() -> None:
    import kit_components

    assert check_spec(kit_components.DeclaredTracker) == kit_components.DeclaredTracker.__fswap_component__
    from fswap.testing import check_tracker

    check_tracker(kit_components.DeclaredTracker)
    with pytest.raises(PluginError, match=r"tracker 'kit_no_reset' built a NoResetTracker without reset "
                                          r"\(the tracker Protocol; `fswap docs contracts`\)"):
        check_tracker(kit_components.NoResetConfig)


def test_check_spec_catches_a_registration_module_importing_heavy_libraries(site) -> None:
    module = site.module(
        """
        import attrs
        import cv2
        from fswap import option

        @attrs.frozen
        class HeavyCfg:
            x: int = option(1, help="x")
        """,
        prefix="heavyplugin",
    )
    heavy_config = __import__(module).HeavyCfg
    component = ComponentSpec(kind="tracker", name="heavy", factory="kit_components:NotHeavyAtAll",
                              config=heavy_config)
    with pytest.raises(PluginError) as info:
        check_spec(component)
    assert f"registration module {module} imports cv2" in str(info.value)


def test_installed_component_is_named_with_its_distribution() -> None:
    from fswap.catalog import Catalog
    from fswap.plugins import make_plugin_manager

    entry = Catalog.from_plugin_manager(make_plugin_manager()).get("tracker", "none")
    broken = attrs.evolve(entry.spec, config=MutableCfg)
    with pytest.raises(PluginError, match=r"^tracker 'none' \(fswap [\d.]+\) config MutableCfg is not fro"):
        check_spec(broken)


# -- kinds -----------------------------------------------------------------------------------------------


def test_check_detector_good_and_broken() -> None:
    detector = spec("detector", "ReplayDetector")
    result = check_detector(detector)
    assert [len(r) for r in result] == [1, 1, 0]
    cases = {
        "tuples": "detector 'kit' returned list of tuple for frame 0; expected Detection",
        "swapped_eyes": "gave 5 landmarks in the wrong order for frame 0",
        "outside": "gave landmarks outside the 512×512 image for frame 0",
        "blind": "found no face in frame 0",
        "elsewhere": "put the face of frame 0 at box (4, 4, 60, 60), overlapping the portrait's face",
        "shifted_eyes": "put the eyes of frame 0 30 px from the portrait's eyes (inter-ocular distance 42 px",
        "scribble": "modified input frame 0",
        "tuple_result": "returned tuple of list from detect; expected a list",
    }
    for mode, message in cases.items():
        with pytest.raises(PluginError) as info:
            check_detector(detector, config=with_mode(detector, mode))
        assert message in str(info.value), mode


def test_check_detector_on_given_frames() -> None:
    detector = spec("detector", "ReplayDetector")
    assert check_detector(detector, [np.zeros((50, 60, 3), np.uint8)]) == [[]]
    with pytest.raises(PluginError, match="found no face in frame 0"):
        check_detector(detector, [np.zeros((50, 60, 3), np.uint8)], expect_faces=True)


def test_check_detector_refuses_another_kind() -> None:
    with pytest.raises(PluginError, match="is a tracker; this check is for detector components"):
        check_detector(spec("tracker", "CopyTracker"))


def test_check_aligner_good_and_broken() -> None:
    aligner = spec("aligner", "CropAligner")
    assert check_aligner(aligner).image.shape == (64, 64, 3)
    with pytest.raises(PluginError, match=r"returned a \(32, 32, 3\) uint8 crop; expected \(64, 64, 3\)"):
        check_aligner(aligner, config=with_mode(aligner, "small"))


def test_check_mask_generator_good_and_broken() -> None:
    masker = spec("mask_generator", "BoxMask")
    assert check_mask_generator(masker).max() == 1.0
    with pytest.raises(PluginError, match=r"returned a \(256, 256\) uint8 mask; expected \(256, 256\) fl"):
        check_mask_generator(masker, config=with_mode(masker, "uint8"))
    with pytest.raises(PluginError, match="returned an empty mask"):
        check_mask_generator(masker, config=with_mode(masker, "empty"))


def test_check_embedder_good_and_broken() -> None:
    embedder = spec("embedder", "PixelEmbedder")
    assert check_embedder(embedder).shape == (3, 64)
    with pytest.raises(PluginError, match=r"returned \(3, 32\) from embed; expected \(3, 64\)"):
        check_embedder(embedder, config=with_mode(embedder, "wrong_dim"))
    with pytest.raises(PluginError, match="says the astronaut is closer to Grace Hopper"):
        check_embedder(embedder, config=with_mode(embedder, "inverted"))


def test_check_tracker_good_and_broken() -> None:
    tracker = spec("tracker", "CopyTracker")
    outputs = check_tracker(tracker)
    assert [len(o) for o in outputs[:4]] == [1, 1, 1, 0]
    with pytest.raises(PluginError, match=r"gave one steadily moving face \d+ track ids"):
        check_tracker(tracker, config=with_mode(tracker, "new_ids"))


def test_check_color_transfer_good_and_broken() -> None:
    transfer = spec("color_transfer", "MeanTransfer")
    assert check_color_transfer(transfer).dtype == np.uint8
    with pytest.raises(PluginError, match="modified its inputs"):
        check_color_transfer(transfer, config=with_mode(transfer, "in_place"))
    with pytest.raises(PluginError, match=r"float64; expected \(128, 128, 3\) uint8"):
        check_color_transfer(transfer, config=with_mode(transfer, "float"))


def test_check_blender_good_and_broken() -> None:
    blender = spec("blender", "PasteBlender")
    assert check_blender(blender).shape == (512, 512, 3)
    with pytest.raises(PluginError, match="outside the face's footprint with alpha 0"):
        check_blender(blender, config=with_mode(blender, "ignores_alpha"))  # α 0.5 over the whole frame
    # a row blacked out far from the face: the mean difference alone (0.4 levels) let it through
    with pytest.raises(PluginError, match=r"changed 512 pixels \(first at x=0, y=2\) outside the face's "
                                          r"footprint with alpha 0"):
        check_blender(blender, config=with_mode(blender, "blacks_a_row"))
    # +1 everywhere is named for what it is: pixels changed away from the face
    with pytest.raises(PluginError, match=r"\(first at x=0, y=0\) outside the face's footprint"):
        check_blender(blender, config=with_mode(blender, "plus_one"))
    with pytest.raises(PluginError, match=r"where alpha is 0 \(by up to 3 levels"):
        check_blender(blender, config=with_mode(blender, "face_only_drift"))


@pytest.mark.slow
def test_check_loss_good_and_broken() -> None:
    loss = spec("loss", "L1Loss")
    assert check_loss(loss) > 0.0
    with pytest.raises(PluginError, match="generator_loss has no gradient with respect to the generator"):
        check_loss(loss, config=with_mode(loss, "constant"))
    with pytest.raises(PluginError, match=r"of shape \(2,\) from generator_loss; expected a scalar tensor"):
        check_loss(loss, config=with_mode(loss, "vector"))


def test_every_kind_has_a_contract_check() -> None:
    import fswap.testing as kit

    blocks = {"normalization", "attention", "upsampling"}  # checked by check_block
    assert all(hasattr(kit, f"check_{kind.value}") for kind in Kind if kind.value not in blocks)
    assert callable(kit.check_block) and blocks <= {k.value for k in Kind}


@pytest.mark.slow
def test_check_block_runs_the_layer_checks_and_reports_failures_as_plugin_errors() -> None:
    norm = spec("normalization", "ScaleNorm")
    result = check_block(norm, channels=4, size=4)
    assert result is not None and result["outputs"][0].shape == (2, 4, 4, 4)
    with pytest.raises(PluginError) as info:
        check_block(norm, config=with_mode(norm, "forgets_config"), channels=4, size=4)
    assert str(info.value).startswith("normalization 'kit' layer check failed: ")
    assert "get_config round trip" in str(info.value)
    with pytest.raises(PluginError, match=r"check failed: TypeError: .*Could not locate class 'Unregist"):
        check_block(norm, config=with_mode(norm, "unregistered"), channels=4, size=4)
    with pytest.raises(PluginError, match="check_block is for normalization, attention, upsampling"):
        check_block(spec("tracker", "CopyTracker"))


@pytest.mark.slow
def test_check_block_on_the_installed_blocks() -> None:
    from fswap.catalog import Catalog
    from fswap.plugins import make_plugin_manager

    catalog = Catalog.from_plugin_manager(make_plugin_manager())
    checked = 0
    for kind in ("normalization", "attention", "upsampling"):
        for name in catalog.names(kind):
            result = check_block(catalog.get(kind, name).spec, channels=8, size=4)
            checked += result is not None
    assert checked >= 3


def test_landmark_order_is_judged_in_the_face_frame_so_rolled_faces_pass() -> None:
    import cv2

    detector = spec("detector", "ReplayDetector")
    rolled = cv2.warpAffine(sample_frame("astronaut"), cv2.getRotationMatrix2D((256.0, 256.0), 30.0, 1.0),
                            (512, 512))
    found = check_detector(detector, [rolled], config=with_mode(detector, "rolled"), expect_faces=True)
    eyes = found[0][0].landmarks[:2]
    assert abs(eyes[1, 1] - eyes[0, 1]) > 15  # really rolled: the eye line is far from horizontal


def test_expect_faces_with_default_frames_still_allows_an_empty_blank_frame() -> None:
    found = check_detector(spec("detector", "ReplayDetector"), expect_faces=True)
    assert [len(r) for r in found] == [1, 1, 0]


def test_check_writer_good_and_broken(tmp_path) -> None:  # type: ignore[no-untyped-def]
    writer = spec("writer", "NpyWriter")
    out = check_writer(writer, folder=tmp_path)
    assert out == tmp_path / "check_output.npy" and np.load(out).shape == (6, 48, 64, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["check_output.npy"]
    with pytest.raises(PluginError, match=r"made check_output\.npy visible before close\(\)"):
        check_writer(writer, config=with_mode(writer, "eager"))
    with pytest.raises(PluginError, match=r"abort\(\) left .*check_aborted.* behind"):
        check_writer(writer, config=with_mode(writer, "leaky"))


@pytest.mark.slow
def test_every_installed_component_passes_check_spec() -> None:
    """The static contract for everything installed (built-ins and the example plugin): frozen configs with
    defaults and help, importable factories, registration modules free of heavy imports."""
    from fswap.catalog import Catalog
    from fswap.plugins import make_plugin_manager

    entries = list(Catalog.from_plugin_manager(make_plugin_manager()))
    assert len(entries) > 20
    for entry in entries:
        check_spec(entry.spec)
