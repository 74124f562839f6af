"""Body plans of the built-in procedural animals: parts as polygons plus landmarks.

An animal is built in its own model frame (torso centred at the origin, facing +x, y down,
torso half-length about 1). Categories differ only in the shapes and proportions of parts
(head shape, ears, horns, beak, neck and leg length, tail); colours are chosen elsewhere,
independently of the category.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from partlens.data.geometry import Polygon, capsule, direction, ellipse, polyline_point

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
    ),
}


@dataclass
class Piece:
    """A polygon of one part, painted with one of the instance's looks."""

    part: str
    look: str  # "body" (patterned), "accent" (plain second colour), "shade" (darker body)
    polygon: Polygon


@dataclass
class Animal:
    """An animal in its model frame: pieces in back-to-front paint order, and landmarks."""

    category: str
    pieces: list[Piece]
    landmarks: dict[str, np.ndarray]


def _u(rng: np.random.Generator, bounds: Range) -> float:
    return float(rng.uniform(*bounds))


def _limb(rng, root, length, radius, swing, knee) -> tuple[np.ndarray, list[Polygon]]:
    """A two-segment leg hanging from `root`; returns its joints and capsules."""
    upper = root + 0.5 * length * np.array([np.sin(swing), np.cos(swing)])
    foot = upper + 0.5 * length * np.array([np.sin(swing + knee), np.cos(swing + knee)])
    joints = np.stack([root, upper, foot])
    return joints, [
        capsule(root, upper, radius * 1.1, radius),
        capsule(upper, foot, radius, radius * 0.9),
    ]


def _legs(rng, plan: BodyPlan, rx: float, ry: float) -> tuple[list[Piece], dict[str, np.ndarray]]:
    per_group, length_range, radius_range, attach = plan.legs
    length, radius = _u(rng, length_range), _u(rng, radius_range)
    far, near, landmarks = [], [], {}
    for part, landmark, x in (
        ("front_legs", "front_leg", attach),
        ("back_legs", "back_leg", -attach),
    ):
        root = np.array([x * rx, 0.55 * ry])
        for leg in range(per_group):
            is_near = leg == per_group - 1
            # The far leg stands a little behind and aside; single-legged groups (bird) are near.
            offset = np.zeros(2) if is_near else np.array([0.18 * rx * np.sign(x), -0.05])
            swing = rng.uniform(-0.4, 0.4)
            knee = rng.uniform(-0.5, 0.5) if part == "back_legs" else rng.uniform(-0.3, 0.6)
            joints, polys = _limb(rng, root + offset, length, radius, swing, knee)
            pieces = [Piece(part, "body" if is_near else "shade", p) for p in polys]
            (near if is_near else far).extend(pieces)
            if is_near:
                landmarks[landmark] = polyline_point(joints, 0.62)
    return far + near, landmarks


def _tail(rng, plan: BodyPlan, rx: float, ry: float) -> tuple[list[Piece], np.ndarray]:
    length_range, root_r, tip_r, angle_range, curl_range = plan.tail
    length, angle, curl = _u(rng, length_range), _u(rng, angle_range), _u(rng, curl_range)
    points = [np.array([-0.88 * rx, -0.25 * ry])]
    heading = np.pi - angle
    for _ in range(3):
        points.append(points[-1] + length / 3 * direction(heading))
        heading -= curl  # curl bends the tail upward along its length
    joints = np.stack(points)
    radii = np.linspace(root_r, tip_r, 4)
    pieces = [
        Piece("tail", "body", capsule(joints[k], joints[k + 1], radii[k], radii[k + 1]))
        for k in range(3)
    ]
    return pieces, polyline_point(joints, 0.62)


def _head(rng, plan: BodyPlan, centre: np.ndarray) -> list[Piece]:
    hrx, hry, tilt_range = plan.head
    tilt = _u(rng, tilt_range)
    behind, front = [], [Piece("head", "body", ellipse(*centre, hrx, hry, tilt))]
    forward = np.array([np.cos(tilt), np.sin(tilt)])
    up = np.array([np.sin(tilt), -np.cos(tilt)])
    if plan.muzzle is not None:
        length, radius = plan.muzzle
        tip = centre + forward * (hrx + length * rng.uniform(0.8, 1.1))
        front.append(Piece("head", "body", capsule(centre, tip, hry * 0.9, radius)))
    if plan.beak:
        base = centre + forward * hrx * 0.8
        tip = centre + forward * (hrx + rng.uniform(0.35, 0.5))
        beak = np.stack([base + up * hry * 0.45, tip, base - up * hry * 0.45])
        front.append(Piece("head", "accent", beak))
    ear_base = centre + up * hry * 0.7
    if plan.ears == "pointed":
        for shift in (-0.35, 0.25):
            root = ear_base + forward * hrx * shift
            tip = root + up * rng.uniform(0.3, 0.42) + forward * rng.uniform(-0.12, 0.08)
            behind.append(
                Piece("head", "body", np.stack([root - forward * 0.14, tip, root + forward * 0.14]))
            )
    elif plan.ears == "floppy":
        root = centre - forward * hrx * 0.3 + up * hry * 0.5
        ear_angle = np.arctan2(-up[1], -up[0]) + rng.uniform(-0.5, 0.1)
        front.append(
            Piece("head", "shade", ellipse(*(root - up * 0.28), 0.13, 0.3, ear_angle - np.pi / 2))
        )
    elif plan.ears == "side":
        back = centre - forward * hrx * 0.45 + up * hry * 0.5
        behind.append(
            Piece("head", "body", ellipse(*(back - forward * 0.15), 0.2, 0.09, tilt + 0.4))
        )
    if plan.horns:
        for shift in (-0.25, 0.15):
            root = ear_base + forward * hrx * shift
            tip = root + up * rng.uniform(0.3, 0.45) + forward * rng.uniform(0.1, 0.25)
            behind.append(Piece("head", "accent", capsule(root, tip, 0.07, 0.035)))
    return behind + front


def build_animal(category: str, rng: np.random.Generator) -> Animal:
    """Sample one articulated instance of `category` in its model frame."""
    if category not in BODY_PLANS:
        raise ValueError(f"unknown built-in category {category!r}; known: {sorted(BODY_PLANS)}")
    plan = BODY_PLANS[category]
    rx, ry = _u(rng, plan.torso[0]), _u(rng, plan.torso[1])
    tilt = _u(rng, plan.tilt)
    legs, landmarks = _legs(rng, plan, rx, ry)
    tail, landmarks["tail"] = _tail(rng, plan, rx, ry)

    torso = [Piece("torso", "body", ellipse(0.0, 0.0, rx, ry))]
    if plan.woolly:
        bumps = np.linspace(0, 2 * np.pi, 12, endpoint=False) + rng.uniform(0, 0.5)
        for t in bumps:
            torso.append(
                Piece(
                    "torso", "body", ellipse(0.9 * rx * np.cos(t), 0.9 * ry * np.sin(t), 0.18, 0.18)
                )
            )
    if plan.wing:
        torso.append(Piece("torso", "shade", ellipse(-0.1 * rx, -0.05, 0.75 * rx, 0.5 * ry, 0.15)))

    neck_len_range, neck_r, neck_angle_range = plan.neck
    neck_len, neck_angle = _u(rng, neck_len_range), _u(rng, neck_angle_range)
    neck_root = np.array([0.72 * rx, -0.35 * ry])
    head_centre = neck_root + neck_len * direction(neck_angle)
    neck = [Piece("torso", "body", capsule(neck_root, head_centre, neck_r * 1.2, neck_r))]
    # Neck landmark halfway between torso edge and head edge, where the neck is visible.
    visible_neck = max(0.05, 0.5 * (neck_len - max(plan.head[0], plan.head[1])))
    landmarks["neck"] = neck_root + visible_neck * direction(neck_angle)
    landmarks["head"] = head_centre
    landmarks["torso"] = np.zeros(2)

    # Back-to-front paint order: legs hang behind the torso, the head covers the neck.
    pieces = legs + tail + torso + neck + _head(rng, plan, head_centre)
    if tilt != 0.0:
        c, s = np.cos(tilt), np.sin(tilt)
        rotation = np.array([[c, -s], [s, c]])
        for piece in pieces:
            piece.polygon = piece.polygon @ rotation.T
        landmarks = {name: point @ rotation.T for name, point in landmarks.items()}
    return Animal(category=category, pieces=pieces, landmarks=landmarks)
