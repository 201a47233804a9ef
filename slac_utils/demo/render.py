"""Drawing primitives for the embedded demo world.

Everything here is pure: a function takes a numpy RGB image (H, W, 3, uint8) and
parameters, draws into it, and returns what later drawing needs (e.g. joint
positions so a context object can be held in a hand).  `demo_world` composes
these into shots and videos.

The figure is a frontal, upright, articulated human silhouette (head, neck,
torso, two-segment arms and legs, clothing colours) so that a pedestrian
detector such as OpenCV's HOG people detector fires on it, and close-ups draw a
head-and-shoulders "talking head" with the facial structure a frontal-face
cascade responds to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

SKIN_TONES = [(224, 172, 138), (198, 134, 66), (141, 85, 36), (241, 194, 125), (255, 219, 172), (160, 110, 75)]
HAIR = [(30, 20, 10), (80, 50, 20), (20, 20, 20), (150, 100, 40), (200, 170, 90)]


@dataclass
class Pose:
    """Joint angles (radians, 0 = pointing straight down) of a frontal figure.

    x, y_feet: where the figure stands (pixels); height: feet-to-top-of-head in pixels.
    Arm/leg angles are measured from the downward vertical, positive away from the body
    (left limbs rotate to image-left, right limbs to image-right).  Elbow/knee angles
    are relative bends of the distal segment in the same convention.
    """

    x: float
    y_feet: float
    height: float
    lean: float = 0.0  # lateral torso shift in units of height
    bounce: float = 0.0  # vertical lift of the whole body in pixels (jumping)
    l_shoulder: float = 0.25
    l_elbow: float = 0.1
    r_shoulder: float = 0.25
    r_elbow: float = 0.1
    l_hip: float = 0.08
    l_knee: float = 0.0
    r_hip: float = 0.08
    r_knee: float = 0.0
    head_tilt: float = 0.0


@dataclass
class Look:
    skin: tuple = SKIN_TONES[0]
    hair: tuple = HAIR[0]
    shirt: tuple = (40, 90, 180)
    pants: tuple = (40, 40, 60)
    shoes: tuple = (20, 20, 20)
    extra: dict = field(default_factory=dict)


def random_look(rng: np.random.Generator) -> Look:
    def col(lo=20, hi=230):
        return tuple(int(v) for v in rng.integers(lo, hi, 3))

    return Look(
        skin=SKIN_TONES[int(rng.integers(len(SKIN_TONES)))],
        hair=HAIR[int(rng.integers(len(HAIR)))],
        shirt=col(),
        pants=col(10, 140),
        shoes=col(0, 60),
    )


def _pt(p) -> tuple[int, int]:
    return int(round(p[0])), int(round(p[1]))


def _limb(img, a, b, thickness, color):
    cv2.line(img, _pt(a), _pt(b), color, max(1, int(round(thickness))), cv2.LINE_AA)
    cv2.circle(img, _pt(b), max(1, int(round(thickness / 2))), color, -1, cv2.LINE_AA)


def _seg(origin, angle, length, side):
    """End point of a segment hanging from origin, rotated outward by angle (side=-1 left, +1 right)."""
    return (origin[0] + side * math.sin(angle) * length, origin[1] + math.cos(angle) * length)


def draw_person(img: np.ndarray, pose: Pose, look: Look) -> dict:
    """Draw a full-body frontal figure; return joint positions (pixels)."""
    H = pose.height
    feet_y = pose.y_feet - pose.bounce
    cx = pose.x + pose.lean * H
    hip_y = feet_y - 0.47 * H
    shoulder_y = feet_y - 0.80 * H
    head_r = 0.075 * H
    head_c = (cx + math.sin(pose.head_tilt) * head_r, shoulder_y - 0.035 * H - head_r)
    hip_w, sh_w = 0.07 * H, 0.105 * H
    thigh, shin = 0.245 * H, 0.23 * H
    upper, fore = 0.17 * H, 0.16 * H
    legw, armw = 0.075 * H, 0.055 * H

    joints = {}
    # legs (behind torso)
    for side, hip_a, knee_a in ((-1, pose.l_hip, pose.l_knee), (1, pose.r_hip, pose.r_knee)):
        hip = (pose.x + side * hip_w * 0.9, hip_y)
        knee = _seg(hip, hip_a, thigh, side)
        ankle = _seg(knee, hip_a + knee_a, shin, side)
        _limb(img, hip, knee, legw, look.pants)
        _limb(img, knee, ankle, legw * 0.9, look.pants)
        foot = (ankle[0] + side * 0.04 * H, ankle[1] + 0.01 * H)
        cv2.ellipse(img, _pt(foot), (int(0.055 * H), int(0.025 * H)), 0, 0, 360, look.shoes, -1, cv2.LINE_AA)
        joints["l_foot" if side < 0 else "r_foot"] = foot
    # torso: a trapezoid from shoulders to hips
    torso = np.array(
        [
            _pt((cx - sh_w, shoulder_y)),
            _pt((cx + sh_w, shoulder_y)),
            _pt((pose.x + hip_w * 1.35, hip_y + 0.03 * H)),
            _pt((pose.x - hip_w * 1.35, hip_y + 0.03 * H)),
        ],
        np.int32,
    )
    cv2.fillConvexPoly(img, torso, look.shirt, cv2.LINE_AA)
    # neck and head
    neck_top = (head_c[0], head_c[1] + head_r * 0.8)
    _limb(img, (cx, shoulder_y + 2), neck_top, 0.05 * H, look.skin)
    cv2.circle(img, _pt(head_c), int(round(head_r)), look.skin, -1, cv2.LINE_AA)
    cv2.ellipse(
        img,
        _pt((head_c[0], head_c[1] - head_r * 0.35)),
        (int(head_r * 1.02), int(head_r * 0.7)),
        0,
        180,
        360,
        look.hair,
        -1,
        cv2.LINE_AA,
    )
    # arms (in front of torso)
    for side, sh_a, el_a in ((-1, pose.l_shoulder, pose.l_elbow), (1, pose.r_shoulder, pose.r_elbow)):
        sh = (cx + side * sh_w * 0.92, shoulder_y + 0.02 * H)
        el = _seg(sh, sh_a, upper, side)
        hand = _seg(el, sh_a + el_a, fore, side)
        _limb(img, sh, el, armw, look.shirt)
        _limb(img, el, hand, armw * 0.85, look.skin)
        cv2.circle(img, _pt(hand), int(round(armw * 0.6)), look.skin, -1, cv2.LINE_AA)
        key = "l" if side < 0 else "r"
        joints[f"{key}_shoulder"], joints[f"{key}_elbow"], joints[f"{key}_hand"] = sh, el, hand
    joints.update(
        head=head_c,
        head_r=head_r,
        hip=(pose.x, hip_y),
        waist=(cx, hip_y - 0.05 * H),
        shoulder_y=shoulder_y,
        feet_y=feet_y,
    )
    return joints


def draw_talking_head(
    img: np.ndarray, cx: float, cy: float, face_h: float, look: Look, mouth_open: float = 0.0, tilt: float = 0.0
) -> dict:
    """Head-and-shoulders close-up: shoulders, neck, face with eyes, brows, nose, mouth.

    Long on purpose: one drawing, primitive after primitive."""
    h, w = img.shape[:2]
    fw = face_h * 0.78
    # shoulders and chest down to the bottom of the frame
    sh_y = cy + face_h * 0.85
    chest = np.array(
        [
            _pt((cx - fw * 1.9, h + 5)),
            _pt((cx - fw * 1.5, sh_y)),
            _pt((cx + fw * 1.5, sh_y)),
            _pt((cx + fw * 1.9, h + 5)),
        ],
        np.int32,
    )
    cv2.fillConvexPoly(img, chest, look.shirt, cv2.LINE_AA)
    cv2.ellipse(
        img, _pt((cx - fw * 1.5, sh_y + fw * 0.35)), (int(fw * 0.45), int(fw * 0.35)), 0, 180, 270, look.shirt, -1
    )
    cv2.ellipse(
        img, _pt((cx + fw * 1.5, sh_y + fw * 0.35)), (int(fw * 0.45), int(fw * 0.35)), 0, 270, 360, look.shirt, -1
    )
    cv2.rectangle(img, _pt((cx - fw * 0.28, cy + face_h * 0.3)), _pt((cx + fw * 0.28, sh_y + 4)), look.skin, -1)
    # hair behind, face
    cv2.ellipse(
        img, _pt((cx, cy - face_h * 0.08)), (int(fw * 0.56), int(face_h * 0.58)), 0, 0, 360, look.hair, -1, cv2.LINE_AA
    )
    cv2.ellipse(
        img, _pt((cx, cy)), (int(fw * 0.5), int(face_h * 0.52)), math.degrees(tilt), 0, 360, look.skin, -1, cv2.LINE_AA
    )
    cv2.ellipse(
        img, _pt((cx, cy - face_h * 0.38)), (int(fw * 0.52), int(face_h * 0.2)), 0, 180, 360, look.hair, -1, cv2.LINE_AA
    )
    skin = np.array(look.skin, float)
    dark = tuple(int(v) for v in skin * 0.35)
    mid = tuple(int(v) for v in skin * 0.7)
    eye_y = cy - face_h * 0.06
    for s in (-1, 1):
        ex = cx + s * fw * 0.2
        cv2.ellipse(
            img,
            _pt((ex, eye_y - face_h * 0.09)),
            (int(fw * 0.13), int(face_h * 0.025)),
            0,
            0,
            360,
            look.hair,
            -1,
            cv2.LINE_AA,
        )
        cv2.ellipse(
            img, _pt((ex, eye_y)), (int(fw * 0.11), int(face_h * 0.05)), 0, 0, 360, (245, 245, 245), -1, cv2.LINE_AA
        )
        cv2.circle(img, _pt((ex, eye_y)), max(2, int(face_h * 0.042)), (40, 30, 25), -1, cv2.LINE_AA)
        cv2.ellipse(
            img, _pt((ex, eye_y + face_h * 0.05)), (int(fw * 0.11), int(face_h * 0.02)), 0, 0, 180, mid, -1, cv2.LINE_AA
        )
    nose = np.array(
        [
            _pt((cx, eye_y + face_h * 0.02)),
            _pt((cx - fw * 0.07, cy + face_h * 0.17)),
            _pt((cx + fw * 0.07, cy + face_h * 0.17)),
        ],
        np.int32,
    )
    cv2.fillConvexPoly(img, nose, mid, cv2.LINE_AA)
    mouth_y = cy + face_h * 0.29
    cv2.ellipse(
        img,
        _pt((cx, mouth_y)),
        (int(fw * 0.17), max(2, int(face_h * (0.025 + 0.05 * mouth_open)))),
        0,
        0,
        360,
        dark,
        -1,
        cv2.LINE_AA,
    )
    return {"face": (cx, cy), "face_h": face_h, "chest_y": sh_y}


def sky_ground_background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Outdoor scene: sky gradient, distant hills, textured ground."""
    img = np.empty((h, w, 3), np.float32)
    horizon = int(h * rng.uniform(0.35, 0.6))
    top = rng.uniform(60, 255, 3)
    bottom = np.clip(top + rng.uniform(-20, 60, 3), 0, 255)
    a = np.linspace(0, 1, horizon)[:, None, None]
    img[:horizon] = top * (1 - a) + bottom * a
    ground = rng.uniform(30, 200, 3)
    b = np.linspace(0, 1, h - horizon)[:, None, None]
    img[horizon:] = ground * (1 - 0.4 * b)
    out = np.clip(img, 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(1, 4))):
        cx, r = rng.integers(0, w), rng.integers(w // 6, w // 2)
        col = tuple(int(v) for v in rng.uniform(20, 180, 3))
        cv2.ellipse(
            out, (int(cx), horizon), (int(r), int(r * rng.uniform(0.2, 0.5))), 0, 180, 360, col, -1, cv2.LINE_AA
        )
    noise = rng.normal(0, rng.uniform(4, 14), (h, w, 1)).astype(np.float32)
    out = np.clip(out.astype(np.float32) + cv2.GaussianBlur(noise, (0, 0), 1.5)[..., None], 0, 255).astype(np.uint8)
    return out


def indoor_background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Indoor scene: wall, floor, a few rectangles (windows, posters, doors)."""
    wall = rng.uniform(70, 235, 3)
    floor = rng.uniform(30, 160, 3)
    img = np.empty((h, w, 3), np.uint8)
    fy = int(h * rng.uniform(0.55, 0.75))
    img[:fy] = wall.astype(np.uint8)
    img[fy:] = floor.astype(np.uint8)
    for _ in range(int(rng.integers(2, 6))):
        x0, y0 = int(rng.integers(0, w - 20)), int(rng.integers(0, max(1, fy - 30)))
        x1, y1 = x0 + int(rng.integers(15, w // 3)), y0 + int(rng.integers(15, max(16, fy // 2)))
        cv2.rectangle(img, (x0, y0), (x1, min(y1, fy)), tuple(int(v) for v in rng.uniform(0, 255, 3)), -1)
    noise = rng.normal(0, rng.uniform(3, 10), (h, w)).astype(np.float32)
    return np.clip(img.astype(np.float32) + cv2.GaussianBlur(noise, (0, 0), 1.2)[..., None], 0, 255).astype(np.uint8)


def random_background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    return sky_ground_background(rng, h, w) if rng.random() < 0.55 else indoor_background(rng, h, w)


def draw_shape(img, kind: str, center, size: float, color, angle: float = 0.0):
    """A flat animation shape (no person): circle, star, square or triangle."""
    c = np.array(center, float)
    if kind == "circle":
        cv2.circle(img, _pt(c), int(size), color, -1, cv2.LINE_AA)
        return
    n = {"square": 4, "triangle": 3, "star": 10}[kind]
    pts = []
    for i in range(n):
        r = size * (0.45 if kind == "star" and i % 2 else 1.0)
        a = angle + 2 * math.pi * i / n
        pts.append(_pt(c + r * np.array([math.cos(a), math.sin(a)])))
    cv2.fillPoly(img, [np.array(pts, np.int32)], color, cv2.LINE_AA)
