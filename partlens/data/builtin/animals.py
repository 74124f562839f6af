"""Body plans of the built-in procedural animals: parts as polygons plus landmarks.

An animal is built in its own model frame (torso centred at the origin, facing +x, y down,
torso half-length about 1). Categories differ only in the shapes and proportions of parts
(head shape, ears, horns, beak, neck and leg length, tail, feet); colours are chosen
elsewhere, independently of the category. Each part also carries local details of its own
(`partlens.data.builtin.details`: eyes, noses, inner ears, feet, knee patches, tufts, bands)
and its own look: a coat pattern on the torso, a finer limb pattern on legs and tail, a plain
face on the head. Points are complex numbers x + iy while the body is laid out
(see `partlens.data.builtin.geometry`); all polygons are then built in one pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from partlens.data.builtin import details as dt
from partlens.data.builtin.geometry import Polygon, Shapes, affine, apply, direction, polyline_point

PART_NAMES: tuple[str, ...] = ("head", "torso", "front_legs", "back_legs", "tail")
LANDMARK_NAMES: tuple[str, ...] = ("head", "neck", "torso", "tail", "front_leg", "back_leg")
# The neck is merged into the torso part, as the paper merges Pascal-Part regions (Sec. 5.2.1).
LANDMARK_PARTS: dict[str, str] = {
    "head": "head",
    "neck": "torso",
    "torso": "torso",
    "tail": "tail",
    "front_leg": "front_legs",
    "back_leg": "back_legs",
}

Range = tuple[float, float]


@dataclass(frozen=True)
class BodyPlan:
    """Ranges of one category's part proportions (model units: torso half-length ~1)."""

    torso: tuple[Range, Range]  # semi-axes (rx, ry)
    tilt: Range  # torso rotation, radians (negative lifts the front)
    neck: tuple[Range, float, Range]  # length, radius, angle above horizontal
    head: tuple[float, float, Range]  # semi-axes (rx, ry), rotation
    legs: tuple[int, Range, Range, float]  # legs per group, length, radius, attach x / rx
    tail: tuple[Range, float, float, Range, Range]  # length, root r, tip r, angle, curl
    muzzle: tuple[float, float] | None = None  # length, radius
    ears: str = "none"  # "pointed" | "floppy" | "side" | "none"
    horns: bool = False
    beak: bool = False
    wing: bool = False
    woolly: bool = False
    feet: str = "paws"  # "hooves" | "paws" | "claws" (see details.FOOT_STYLES)


BODY_PLANS: dict[str, BodyPlan] = {
    "bird": BodyPlan(
        torso=((0.75, 0.9), (0.45, 0.55)),
        tilt=(-0.5, -0.2),
        neck=((0.45, 0.55), 0.24, (1.0, 1.4)),
        head=(0.36, 0.34, (-0.2, 0.2)),
        legs=(1, (1.0, 1.2), (0.19, 0.23), 0.22),
        tail=((0.8, 1.0), 0.14, 0.36, (-0.4, 0.3), (-0.1, 0.1)),
        beak=True,
        wing=True,
        feet="claws",
    ),
    "cat": BodyPlan(
        torso=((0.95, 1.05), (0.38, 0.45)),
        tilt=(-0.1, 0.1),
        neck=((0.45, 0.6), 0.22, (0.7, 1.1)),
        head=(0.38, 0.36, (-0.1, 0.1)),
        legs=(2, (0.85, 1.05), (0.13, 0.16), 0.62),
        tail=((1.1, 1.4), 0.16, 0.12, (0.3, 1.1), (0.2, 0.5)),
        ears="pointed",
    ),
    "dog": BodyPlan(
        torso=((0.95, 1.05), (0.4, 0.5)),
        tilt=(-0.1, 0.1),
        neck=((0.5, 0.7), 0.26, (0.6, 1.0)),
        head=(0.36, 0.3, (-0.1, 0.2)),
        legs=(2, (1.0, 1.2), (0.14, 0.17), 0.62),
        tail=((0.8, 1.0), 0.18, 0.14, (0.4, 1.0), (-0.1, 0.3)),
        muzzle=(0.45, 0.16),
        ears="floppy",
    ),
    "horse": BodyPlan(
        torso=((1.0, 1.1), (0.42, 0.5)),
        tilt=(-0.1, 0.05),
        neck=((0.9, 1.1), 0.28, (0.9, 1.2)),
        head=(0.5, 0.21, (0.8, 1.1)),
        legs=(2, (1.45, 1.7), (0.13, 0.16), 0.68),
        tail=((1.0, 1.2), 0.17, 0.22, (-1.3, -0.8), (-0.1, 0.1)),
        ears="pointed",
        feet="hooves",
    ),
    "cow": BodyPlan(
        torso=((1.0, 1.1), (0.55, 0.62)),
        tilt=(-0.05, 0.05),
        neck=((0.4, 0.5), 0.36, (0.1, 0.4)),
        head=(0.36, 0.3, (0.3, 0.6)),
        legs=(2, (0.8, 0.95), (0.17, 0.2), 0.66),
        tail=((1.0, 1.2), 0.1, 0.24, (-1.45, -1.15), (-0.05, 0.05)),
        muzzle=(0.3, 0.2),
        ears="side",
        horns=True,
        feet="hooves",
    ),
    "sheep": BodyPlan(
        torso=((0.8, 0.9), (0.45, 0.52)),
        tilt=(-0.05, 0.05),
        neck=((0.4, 0.5), 0.26, (0.3, 0.6)),
        head=(0.3, 0.22, (0.5, 0.9)),
        legs=(2, (0.95, 1.1), (0.13, 0.16), 0.6),
        tail=((0.5, 0.6), 0.22, 0.2, (-1.0, -0.4), (-0.1, 0.1)),
        ears="side",
        woolly=True,
        feet="hooves",
    ),
}


@dataclass
class Piece:
    """A polygon of one part, painted with one of the instance's looks."""

    part: str
    # "body" (coat pattern), "shade" (darker coat), "limb" / "limb_shade" (limb pattern),
    # "face", "accent" (plain colours), "dark" / "light" (a detail: see details.DETAIL_LOOKS)
    look: str
    span: slice  # the polygon's rows of `Animal.vertices`

    @property
    def detail(self) -> bool:
        """Whether this piece is a local detail lying inside its part's other pieces."""
        return self.look in dt.DETAIL_LOOKS


@dataclass
class Animal:
    """An animal in its model frame: pieces in back-to-front paint order, and landmarks."""

    category: str
    vertices: Polygon  # float [N, 2]: every piece's polygon
    pieces: list[Piece]
    landmark_names: tuple[str, ...]
    landmarks: np.ndarray  # float [len(landmark_names), 2]


# (part, look, index of the shape in the instance's `Shapes`), in paint order.
_Draft = list[tuple[str, str, int]]


def _u(rng: np.random.Generator, bounds: Range) -> float:
    return float(rng.uniform(*bounds))


def _limb(
    shapes: Shapes, root: complex, length: float, radius: float, swing: float, knee: float
) -> tuple[list[complex], list[int]]:
    """A two-segment leg hanging from `root`; returns its joints and its capsules' indices."""
    upper = root + 0.5 * length * complex(math.sin(swing), math.cos(swing))
    foot = upper + 0.5 * length * complex(math.sin(swing + knee), math.cos(swing + knee))
    return [root, upper, foot], [
        shapes.capsule(root, upper, radius * 1.1, radius),
        shapes.capsule(upper, foot, radius, radius * 0.9),
    ]


def _legs(
    rng: np.random.Generator, shapes: Shapes, plan: BodyPlan, rx: float, ry: float
) -> tuple[_Draft, dict[str, complex]]:
    per_group, length_range, radius_range, attach = plan.legs
    length, radius = _u(rng, length_range), _u(rng, radius_range)
    far: _Draft = []
    near: _Draft = []
    landmarks: dict[str, complex] = {}
    for part, landmark, x in (
        ("front_legs", "front_leg", attach),
        ("back_legs", "back_leg", -attach),
    ):
        root = complex(x * rx, 0.55 * ry)
        for leg in range(per_group):
            is_near = leg == per_group - 1
            # The far leg stands a little behind and aside; single-legged groups (bird) are near.
            offset = 0j if is_near else complex(math.copysign(0.18 * rx, x), -0.05)
            swing = rng.uniform(-0.4, 0.4)
            knee = rng.uniform(-0.5, 0.5) if part == "back_legs" else rng.uniform(-0.3, 0.6)
            joints, capsules = _limb(shapes, root + offset, length, radius, swing, knee)
            pieces = [(part, "limb" if is_near else "limb_shade", k) for k in capsules]
            details = dt.leg_details(rng, shapes, joints, radius, plan.feet)
            pieces += [(part, look, k) for look, k in details]
            (near if is_near else far).extend(pieces)
            if is_near:
                landmarks[landmark] = polyline_point(joints, 0.62)
    return far + near, landmarks


def _tail(
    rng: np.random.Generator, shapes: Shapes, plan: BodyPlan, rx: float, ry: float
) -> tuple[_Draft, complex]:
    length_range, root_r, tip_r, angle_range, curl_range = plan.tail
    length, angle, curl = _u(rng, length_range), _u(rng, angle_range), _u(rng, curl_range)
    joints = [complex(-0.88 * rx, -0.25 * ry)]
    heading = math.pi - angle
    for _ in range(3):
        joints.append(joints[-1] + length / 3 * direction(heading))
        heading -= curl  # curl bends the tail upward along its length
    radii = [root_r + k * (tip_r - root_r) / 3 for k in range(4)]
    pieces = [
        ("tail", "limb", shapes.capsule(joints[k], joints[k + 1], radii[k], radii[k + 1]))
        for k in range(3)
    ]
    pieces += [("tail", look, k) for look, k in dt.tail_details(rng, shapes, joints, radii)]
    return pieces, polyline_point(joints, 0.62)


def _head(rng: np.random.Generator, shapes: Shapes, plan: BodyPlan, centre: complex) -> _Draft:
    hrx, hry, tilt_range = plan.head
    tilt = _u(rng, tilt_range)
    behind: _Draft = []
    front: _Draft = [("head", "face", shapes.ellipse(centre, hrx, hry, tilt))]
    forward = complex(math.cos(tilt), math.sin(tilt))
    up = complex(math.sin(tilt), -math.cos(tilt))
    nose = None if plan.beak else dt.head_nose(centre, hrx, hry, forward)
    if plan.muzzle is not None:
        length, radius = plan.muzzle
        tip = centre + forward * (hrx + length * rng.uniform(0.8, 1.1))
        front.append(("head", "face", shapes.capsule(centre, tip, hry * 0.9, radius)))
        nose = (tip, radius)
    if plan.beak:
        base = centre + forward * hrx * 0.8
        tip = centre + forward * (hrx + rng.uniform(0.35, 0.5))
        beak = [base + up * hry * 0.45, tip, base - up * hry * 0.45]
        front.append(("head", "accent", shapes.polygon(beak)))
    ear_base = centre + up * hry * 0.7
    if plan.ears == "pointed":
        for shift in (-0.35, 0.25):
            root = ear_base + forward * hrx * shift
            tip = root + up * rng.uniform(0.3, 0.42) + forward * rng.uniform(-0.12, 0.08)
            outline = [root - forward * 0.14, tip, root + forward * 0.14]
            behind.append(("head", "face", shapes.polygon(outline)))
            behind += [("head", look, k) for look, k in dt.inner_ear(shapes, outline)]
    elif plan.ears == "floppy":
        root = centre - forward * hrx * 0.3 + up * hry * 0.5
        ear_angle = math.atan2(-up.imag, -up.real) + rng.uniform(-0.5, 0.1)
        ear = shapes.ellipse(root - up * 0.28, 0.13, 0.3, ear_angle - math.pi / 2)
        front.append(("head", "shade", ear))
    elif plan.ears == "side":
        back = centre - forward * hrx * 0.45 + up * hry * 0.5
        ear = shapes.ellipse(back - forward * 0.15, 0.2, 0.09, tilt + 0.4)
        behind.append(("head", "face", ear))
    if plan.horns:
        for shift in (-0.25, 0.15):
            root = ear_base + forward * hrx * shift
            tip = root + up * rng.uniform(0.3, 0.45) + forward * rng.uniform(0.1, 0.25)
            behind.append(("head", "accent", shapes.capsule(root, tip, 0.07, 0.035)))
    eyes = dt.head_details(rng, shapes, centre, (hrx, hry), (forward, up), nose)
    return behind + front + [("head", look, k) for look, k in eyes]


def build_animal(category: str, rng: np.random.Generator) -> Animal:
    """Sample one articulated instance of `category` in its model frame."""
    if category not in BODY_PLANS:
        raise ValueError(f"unknown built-in category {category!r}; known: {sorted(BODY_PLANS)}")
    plan = BODY_PLANS[category]
    shapes = Shapes()
    rx, ry = _u(rng, plan.torso[0]), _u(rng, plan.torso[1])
    tilt = _u(rng, plan.tilt)
    legs, landmarks = _legs(rng, shapes, plan, rx, ry)
    tail, landmarks["tail"] = _tail(rng, shapes, plan, rx, ry)

    torso = [("torso", "body", shapes.ellipse(0j, rx, ry))]
    if plan.woolly:
        start = rng.uniform(0, 0.5)
        for k in range(12):
            t = start + k * math.pi / 6
            bump = complex(0.9 * rx * math.cos(t), 0.9 * ry * math.sin(t))
            torso.append(("torso", "body", shapes.ellipse(bump, 0.18, 0.18)))
    if plan.wing:
        wing = shapes.ellipse(complex(-0.1 * rx, -0.05), 0.75 * rx, 0.5 * ry, 0.15)
        torso.append(("torso", "shade", wing))

    neck_len_range, neck_r, neck_angle_range = plan.neck
    neck_len, neck_angle = _u(rng, neck_len_range), _u(rng, neck_angle_range)
    neck_root = complex(0.72 * rx, -0.35 * ry)
    head_centre = neck_root + neck_len * direction(neck_angle)
    neck = [("torso", "body", shapes.capsule(neck_root, head_centre, neck_r * 1.2, neck_r))]
    # Neck landmark halfway between torso edge and head edge, where the neck is visible.
    visible_neck = max(0.05, 0.5 * (neck_len - max(plan.head[0], plan.head[1])))
    landmarks["neck"] = neck_root + visible_neck * direction(neck_angle)
    landmarks["head"] = head_centre
    landmarks["torso"] = 0j

    # Back-to-front paint order: legs hang behind the torso, the head covers the neck.
    draft = legs + tail + torso + neck + _head(rng, shapes, plan, head_centre)
    vertices, spans = shapes.build()
    points = np.array(list(landmarks.values()))
    rotation = affine(1.0, 1.0, tilt, 0.0, 0.0)
    return Animal(
        category=category,
        vertices=apply(rotation, vertices),
        pieces=[Piece(part, look, spans[k]) for part, look, k in draft],
        landmark_names=tuple(landmarks),
        landmarks=apply(rotation, np.stack([points.real, points.imag], axis=1)),
    )
