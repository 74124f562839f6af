"""render_scene: one built-in image with its part map, landmarks and bbox."""

import numpy as np
import pytest

from partlens.data.builtin import render
from partlens.data.builtin.animals import BODY_PLANS, LANDMARK_PARTS, PART_NAMES, build_animal
from partlens.data.builtin.render import Scene, render_scene

CATEGORIES = sorted(BODY_PLANS)
PART_INDEX = {name: k + 1 for k, name in enumerate(PART_NAMES)}


def _render(category, seed, size=64, framing="crop"):
    return render_scene(category, size, np.random.default_rng(seed), framing)


def _same(a: Scene, b: Scene) -> bool:
    return (
        np.array_equal(a.image, b.image)
        and np.array_equal(a.part_map, b.part_map)
        and a.landmarks == b.landmarks
        and a.bbox == b.bbox
    )


@pytest.mark.parametrize("category", [None, "cat"])
@pytest.mark.parametrize("framing", ["crop", "scene"])
def test_same_seed_same_scene_and_same_rng_use(category, framing):
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    a = render_scene(category, 48, rng_a, framing)
    b = render_scene(category, 48, rng_b, framing)
    assert _same(a, b)
    # The scene consumes the generator deterministically: the next draws agree too.
    assert rng_a.random() == rng_b.random()
    assert not _same(a, render_scene(category, 48, np.random.default_rng(6), framing))


@pytest.mark.parametrize("size", [32, 64, 97])
def test_image_and_part_map_types_shapes_and_range(size):
    scene = _render("dog", 0, size)
    assert scene.image.shape == (size, size, 3) and scene.image.dtype == np.uint8
    assert scene.part_map.shape == (size, size) and scene.part_map.dtype == np.uint8
    assert set(np.unique(scene.part_map)) <= set(range(len(PART_NAMES) + 1))
    # Textures, light and noise: not a flat image, and colours vary across the channels.
    assert scene.image.std() > 5 and len(np.unique(scene.image.reshape(-1, 3), axis=0)) > 50


def test_background_scene_has_no_parts_landmarks_or_bbox():
    for seed in range(4):
        scene = _render(None, seed)
        assert not scene.part_map.any()
        assert scene.landmarks == {} and scene.bbox is None
        assert scene.image.std() > 5  # distractors and ground texture, not an empty canvas


@pytest.mark.parametrize("category", CATEGORIES)
def test_landmarks_lie_on_their_own_part_and_bbox_is_tight(category):
    for seed in range(4):
        scene = _render(category, seed)
        assert set(scene.landmarks) <= set(LANDMARK_PARTS)
        for name, (x, y) in scene.landmarks.items():
            assert 0 <= x < 64 and 0 <= y < 64
            assert scene.part_map[int(y), int(x)] == PART_INDEX[LANDMARK_PARTS[name]], name
        # Head and torso are large: visible in every crop.
        assert {PART_INDEX["head"], PART_INDEX["torso"]} <= set(np.unique(scene.part_map))
        rows, cols = np.nonzero(scene.part_map)
        x0, y0, x1, y1 = (float(cols.min()), float(rows.min()), cols.max() + 1.0, rows.max() + 1.0)
        assert scene.bbox == (x0, y0, x1, y1)


def test_part_map_is_one_index_per_pixel_so_part_masks_are_disjoint():
    scene = _render("cow", 3)
    masks = [scene.part_map == PART_INDEX[name] for name in PART_NAMES]
    assert (np.sum(masks, axis=0) <= 1).all()
    # Every part pixel belongs to exactly one part mask, the rest to none.
    assert np.array_equal(np.any(masks, axis=0), scene.part_map > 0)


def test_crop_fills_the_image_and_scene_framing_leaves_room():
    crop = [_render("horse", seed).bbox for seed in range(6)]
    scene = [_render("horse", seed, framing="scene").bbox for seed in range(6)]
    crop_sides = [max(x1 - x0, y1 - y0) for x0, y0, x1, y1 in crop]
    scene_sides = [max(x1 - x0, y1 - y0) for x0, y0, x1, y1 in scene]
    assert min(crop_sides) >= 0.85 * 64
    # Scene framing: the long side is 0.35-0.7 of the image (before occlusion trims it).
    assert max(scene_sides) <= 0.75 * 64 and np.median(scene_sides) < min(crop_sides)


def test_occlusion_hides_landmarks_without_moving_the_others(monkeypatch):
    seeds = range(12)
    monkeypatch.setattr(render, "OCCLUSION_PROBABILITY", 0.0)
    clear = [_render("cat", seed) for seed in seeds]
    monkeypatch.setattr(render, "OCCLUSION_PROBABILITY", 1.0)
    occluded = [_render("cat", seed) for seed in seeds]
    assert sum(len(s.landmarks) for s in occluded) < sum(len(s.landmarks) for s in clear)
    for a, b in zip(clear, occluded, strict=True):
        # The occluder is painted over the animal: no part pixel appears, some may vanish.
        assert (b.part_map[a.part_map == 0] == 0).all()
        for name, point in b.landmarks.items():
            assert a.landmarks[name] == point


def test_flip_mirrors_which_way_the_animal_faces(monkeypatch):
    def facing(probability):
        monkeypatch.setattr(render, "FLIP_PROBABILITY", probability)
        signs = []
        for seed in range(6):
            landmarks = _render("dog", seed).landmarks
            if "head" in landmarks and "tail" in landmarks:
                signs.append(np.sign(landmarks["head"][0] - landmarks["tail"][0]))
        return signs

    right, left = facing(0.0), facing(1.0)
    assert right and left
    assert all(s > 0 for s in right) and all(s < 0 for s in left)


def test_visible_landmarks_keeps_only_points_on_their_part():
    animal = build_animal("cat", np.random.default_rng(0))
    part_map = np.zeros((8, 8), dtype=np.uint8)
    names = list(animal.landmark_names)
    points = np.zeros((len(names), 2))
    # head on a head pixel, torso on a tail pixel (occluded by the tail), tail outside the image.
    part_map[1, 2] = PART_INDEX["head"]
    part_map[5, 6] = PART_INDEX["tail"]
    points[names.index("head")] = (2.5, 1.5)
    points[names.index("torso")] = (6.2, 5.9)
    points[names.index("tail")] = (8.0, 1.0)
    visible = render._visible_landmarks(animal, points, part_map)
    assert visible == {"head": (2.5, 1.5)}


def test_part_bbox_is_half_open_pixel_box():
    part_map = np.zeros((10, 12), dtype=np.uint8)
    assert render._part_bbox(part_map) is None
    part_map[2:5, 3] = 1
    part_map[7, 9] = 4
    assert render._part_bbox(part_map) == (3.0, 2.0, 10.0, 8.0)


def test_canvas_paints_later_polygons_on_top():
    canvas = render._Canvas(8)
    square = np.array([[0.0, 0.0], [8.0, 0.0], [8.0, 8.0], [0.0, 8.0]])
    small = np.array([[2.0, 2.0], [6.0, 2.0], [6.0, 6.0], [2.0, 6.0]])
    vertices = np.vstack([square, small])
    canvas.add(vertices, [slice(0, 4), slice(4, 8)], [1, 2], [render._COAT, render._SHADE])
    codes = np.asarray(canvas.fill())
    coat = 1 | render._COAT << render._PART_BITS
    shade = 2 | render._SHADE << render._PART_BITS
    assert codes[0, 0] == coat and codes[7, 7] == coat
    assert (codes[2:6, 2:6] == shade).all()
    assert set(np.unique(codes)) == {coat, shade}


@pytest.mark.parametrize(
    ("category", "framing", "error"),
    [("cat", "square", "framing must be"), ("unicorn", "crop", "unknown built-in category")],
)
def test_bad_arguments_raise(category, framing, error):
    with pytest.raises(ValueError, match=error):
        _render(category, 0, framing=framing)


@pytest.mark.parametrize("kind", render.OBJECT_KINDS)
def test_object_scenes_have_an_object_mask_and_bbox_but_no_parts(kind):
    for seed in range(3):
        scene = _render(kind, seed)
        # Object pixels carry OBJECT_INDEX, which no part mask contains; no landmarks.
        assert set(np.unique(scene.part_map)) <= {0, render.OBJECT_INDEX}
        object_mask = scene.part_map == render.OBJECT_INDEX
        assert object_mask.sum() >= 0.1 * 64 * 64 and scene.landmarks == {}
        rows, cols = np.nonzero(object_mask)
        x0, y0, x1, y1 = (float(cols.min()), float(rows.min()), cols.max() + 1.0, rows.max() + 1.0)
        assert scene.bbox == (x0, y0, x1, y1)
        # Crops frame objects as they frame animals: the long side fills the image.
        assert max(x1 - x0, y1 - y0) >= 0.85 * 64


def test_objects_are_deterministic_and_unknown_kinds_raise():
    assert _same(_render("vehicle", 2), _render("vehicle", 2))
    assert not _same(_render("vehicle", 2), _render("vehicle", 3))
    with pytest.raises(ValueError, match="unknown built-in object"):
        render.build_object("spaceship", np.random.default_rng(0))
