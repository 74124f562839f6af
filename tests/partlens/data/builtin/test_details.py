"""Part details and per-part looks: every detail lies inside its own part's shapes."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from partlens.data.builtin import details, looks
from partlens.data.builtin.animals import BODY_PLANS, PART_NAMES, build_animal


def _raster(animal, pieces, scale=80.0, size=400):
    """Pieces filled in the model frame, magnified so rasterisation edges are negligible."""
    canvas = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(canvas)
    for piece in pieces:
        points = animal.vertices[piece.span] * scale + size / 2
        draw.polygon(points.ravel().tolist(), fill=1)
    return np.asarray(canvas, dtype=bool)


@pytest.mark.parametrize("category", sorted(BODY_PLANS))
def test_every_detail_lies_inside_its_own_part(category):
    for seed in range(6):
        animal = build_animal(category, np.random.default_rng(seed))
        found = set()
        for part in PART_NAMES:
            own = [p for p in animal.pieces if p.part == part]
            extras = [p for p in own if p.detail]
            if not extras:
                continue
            found.add(part)
            base = _raster(animal, [p for p in own if not p.detail])
            detail = _raster(animal, extras)
            outside = detail & ~base
            # Polygon edges of the two rasterisations may differ by a pixel along the border.
            assert outside.sum() <= 0.01 * detail.sum(), (category, seed, part, outside.sum())
        # Head (eye), legs (feet) and tail (tuft) always carry details.
        assert {"head", "front_legs", "back_legs", "tail"} <= found, (category, found)


def test_details_vary_per_instance_and_feet_follow_the_body_plan():
    looks_seen = {
        tuple(p.look for p in build_animal("cat", np.random.default_rng(s)).pieces if p.detail)
        for s in range(8)
    }
    assert len(looks_seen) > 1  # presence and colour of details change between instances
    assert BODY_PLANS["horse"].feet == "hooves" and BODY_PLANS["dog"].feet == "paws"
    assert BODY_PLANS["bird"].feet == "claws"
    assert set(details.FOOT_STYLES) >= {plan.feet for plan in BODY_PLANS.values()}


def test_parts_have_their_own_looks():
    animal = build_animal("dog", np.random.default_rng(0))
    by_part = {
        part: {p.look for p in animal.pieces if p.part == part and not p.detail}
        for part in PART_NAMES
    }
    assert by_part["torso"] == {"body"}
    assert "face" in by_part["head"] and "body" not in by_part["head"]  # floppy ears: shade
    assert by_part["tail"] == {"limb"}
    assert by_part["front_legs"] == {"limb", "limb_shade"}


def test_texture_weight_picks_coat_for_torso_and_limb_pattern_for_limbs():
    ground, coat, limbs = (np.full((2, 3), v, dtype=np.uint8) for v in (10, 20, 30))
    per_pixel = np.array(
        [[looks.GROUND, looks.COAT, looks.SHADE], [looks.LIMB, looks.LIMB_SHADE, looks.DARK]],
        dtype=np.uint8,
    )
    weight = looks.texture_weight(per_pixel, (ground, coat, limbs))
    assert weight.tolist() == [[10, 20, 20], [30, 30, 10]]


def test_coat_pattern_is_coarser_than_the_limbs():
    assert looks.COAT_PERIOD[0] >= 2 * looks.LIMB_PERIOD[1] * 0.9
    rng = np.random.default_rng(0)
    colours_a, colours_b = looks.palette(rng)
    assert colours_a.shape == colours_b.shape == (len(looks.PIECE_LOOKS) + 2, 3)
    # Plain looks (face, details, accent) have one colour; the dark detail is dark.
    for look in (looks.ACCENT, looks.FACE, looks.DARK, looks.LIGHT):
        assert np.array_equal(colours_a[look], colours_b[look])
    assert colours_a[looks.DARK].max() <= 0.25 * 240 + 1
    assert colours_a[looks.LIGHT].min() >= 255 - 0.25 * 240 - 1
