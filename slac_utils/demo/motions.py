"""Per-class motions and context objects of the demo world.

Each action class of the demo world is a characteristic periodic motion of the
figure together with a context object (paper section 3.3's "context").  For a
shot of a given kind the figure is posed as follows:

* ``action``: the class motion, the object in use;
* ``no_action``: the object is present (held still or lying nearby), the figure idles;
* ``no_context``: no object, a generic motion (walking on the spot, waving, idling).

``pose_and_draw(cls, kind, t, base, var)`` returns the posed figure and a callback
that draws the object given the figure's joints.
"""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np

from .render import Pose, _pt

# name -> (definition, object colour)
CLASSES: dict[str, dict] = {
    "archery": {
        "definition": "Shooting arrows with a bow: one arm holds the bow out, the other draws the string back to the face and releases.",
        "color": (120, 70, 30),
    },
    "juggling_balls": {
        "definition": "Keeping three or more balls in the air by throwing and catching them in a cascade (different from simply tossing one ball).",
        "color": (230, 40, 40),
    },
    "jump_rope": {
        "definition": "Jumping repeatedly over a rope swung under the feet and over the head.",
        "color": (250, 250, 250),
    },
    "basketball_dribbling": {
        "definition": "Bouncing a basketball continuously off the floor with one hand while standing or moving.",
        "color": (235, 120, 20),
    },
    "hula_hoop": {
        "definition": "Keeping a hoop spinning around the waist by swaying the hips.",
        "color": (200, 40, 200),
    },
    "waving_flag": {
        "definition": "Swinging a flag on a pole from side to side above the head.",
        "color": (40, 160, 230),
    },
}

ACTION_PERIOD_S = {
    "archery": 2.0,
    "juggling_balls": 0.9,
    "jump_rope": 0.7,
    "basketball_dribbling": 0.8,
    "hula_hoop": 1.0,
    "waving_flag": 1.2,
}


def _tri(x: float) -> float:
    """Periodic triangle wave in [0, 1] with period 1."""
    x = x % 1.0
    return 2 * x if x < 0.5 else 2 - 2 * x


def _idle(base: Pose, t: float, var: dict) -> Pose:
    s = math.sin(2 * math.pi * t / var["idle_period"])
    return replace(
        base,
        lean=0.01 * s,
        l_shoulder=0.18 + 0.05 * s,
        r_shoulder=0.2 - 0.05 * s,
        l_elbow=0.15,
        r_elbow=0.2 + 0.15 * max(0.0, s),
        head_tilt=0.1 * s,
    )


def _generic(base: Pose, t: float, var: dict) -> Pose:
    """No-context motions: walking on the spot, waving, or idling with gestures."""
    style = var["generic_style"]
    ph = 2 * math.pi * t / 1.1
    if style == 0:  # walk on the spot
        s = math.sin(ph)
        return replace(
            base,
            l_hip=0.08 + 0.18 * max(0, s),
            r_hip=0.08 + 0.18 * max(0, -s),
            l_knee=-0.3 * max(0, s),
            r_knee=-0.3 * max(0, -s),
            l_shoulder=0.15 + 0.15 * max(0, -s),
            r_shoulder=0.15 + 0.15 * max(0, s),
            bounce=2 * abs(s),
        )
    if style == 1:  # wave one hand
        return replace(base, r_shoulder=2.3, r_elbow=0.4 + 0.5 * math.sin(2 * ph), l_shoulder=0.2)
    return _idle(base, t, var)


def pose_and_draw(cls: str, kind: str, t: float, base: Pose, var: dict):
    """Pose of the figure at time t (s) and a draw(img, joints) callback for the object (or None)."""
    color = CLASSES[cls]["color"]
    if kind == "no_context":
        return _generic(base, t, var), None
    if kind == "no_action":
        return _idle(base, t, var), _static_object(cls, color, var)
    period = ACTION_PERIOD_S[cls] * var["speed"]
    u = (t / period + var["phase"]) % 1.0
    return ACTION_FNS[cls](base, u, color, var)


def _static_object(cls: str, color, var):
    """The context object present but not in use (held still or lying on the ground)."""

    def draw(img, j):
        H = j["feet_y"] - j["head"][1]
        fx = j["r_foot"][0] + var["obj_side"] * 0.35 * H
        gy = j["feet_y"]
        if cls == "archery":
            hx, hy = j["l_hand"]
            cv2.ellipse(img, _pt((hx - 6, hy)), (int(0.12 * H), int(0.35 * H)), 0, -70, 70, color, 3, cv2.LINE_AA)
        elif cls == "juggling_balls":
            for k in range(3):
                cv2.circle(
                    img,
                    _pt((fx + k * 0.07 * H, gy - 0.03 * H)),
                    int(0.035 * H),
                    ((230, 40, 40), (40, 200, 60), (240, 220, 30))[k],
                    -1,
                    cv2.LINE_AA,
                )
        elif cls == "jump_rope":
            hx, hy = j["r_hand"]
            pts = np.array(
                [_pt((hx + 0.05 * H * k / 10 * var["obj_side"], hy + (gy - hy) * (k / 10))) for k in range(11)],
                np.int32,
            )
            cv2.polylines(img, [pts], False, color, 2, cv2.LINE_AA)
        elif cls == "basketball_dribbling":
            cv2.circle(img, _pt((fx, gy - 0.06 * H)), int(0.06 * H), color, -1, cv2.LINE_AA)
            cv2.line(
                img,
                _pt((fx - 0.06 * H, gy - 0.06 * H)),
                _pt((fx + 0.06 * H, gy - 0.06 * H)),
                (40, 20, 0),
                1,
                cv2.LINE_AA,
            )
        elif cls == "hula_hoop":
            cv2.ellipse(
                img, _pt((fx, gy - 0.25 * H)), (int(0.06 * H), int(0.25 * H)), 10, 0, 360, color, 4, cv2.LINE_AA
            )
        elif cls == "waving_flag":
            hx, hy = j["r_hand"]
            top = (hx + 0.05 * H, hy - 0.5 * H)
            cv2.line(img, _pt((hx, hy + 0.1 * H)), _pt(top), (90, 60, 30), 3, cv2.LINE_AA)
            pts = np.array(
                [_pt(top), _pt((top[0] + 0.05 * H, top[1] + 0.3 * H)), _pt((top[0] + 0.03 * H, top[1] + 0.2 * H))],
                np.int32,
            )
            cv2.fillPoly(img, [pts], color, cv2.LINE_AA)

    return draw


def _archery(base, u, color, var):
    draw_phase = min(1.0, u / 0.6)  # draw during 60% of the cycle, then release
    released = u >= 0.6
    pose = replace(
        base,
        l_shoulder=math.pi / 2,
        l_elbow=0.0,
        r_shoulder=math.pi / 2 - 0.2 * draw_phase if not released else 1.2,
        r_elbow=-2.4 * draw_phase if not released else -0.3,
    )

    def draw(img, j):
        H = j["feet_y"] - j["head"][1]
        hx, hy = j["l_hand"]
        cv2.ellipse(img, _pt((hx + 0.06 * H, hy)), (int(0.1 * H), int(0.35 * H)), 0, 110, 250, color, 3, cv2.LINE_AA)
        top, bot = (hx + 0.03 * H, hy - 0.33 * H), (hx + 0.03 * H, hy + 0.33 * H)
        string = j["r_hand"] if not released else (hx + 0.03 * H, hy)
        cv2.line(img, _pt(top), _pt(string), (230, 230, 230), 1, cv2.LINE_AA)
        cv2.line(img, _pt(bot), _pt(string), (230, 230, 230), 1, cv2.LINE_AA)
        if released:
            fly = (u - 0.6) / 0.4
            ax = hx - 0.1 * H - fly * 1.2 * H
            cv2.line(img, _pt((ax, hy)), _pt((ax - 0.3 * H, hy)), (40, 40, 40), 2, cv2.LINE_AA)
        else:
            cv2.line(img, _pt(j["r_hand"]), _pt((hx - 0.08 * H, hy)), (40, 40, 40), 2, cv2.LINE_AA)

    return pose, draw


def _juggling(base, u, color, var):
    a = 2 * math.pi * u
    pose = replace(
        base,
        l_shoulder=0.35,
        l_elbow=-1.3 + 0.35 * math.sin(a),
        r_shoulder=0.35,
        r_elbow=-1.3 + 0.35 * math.sin(a + math.pi),
    )
    cols = ((230, 40, 40), (40, 200, 60), (240, 220, 30))

    def draw(img, j):
        H = j["feet_y"] - j["head"][1]
        lh, rh = np.array(j["l_hand"]), np.array(j["r_hand"])
        for k in range(3):
            v = (u * 1.5 + k / 3) % 1.0  # each ball: one throw from one hand to the other per 2/3 cycle
            left_to_right = int((u * 1.5 + k / 3) // 1.0 + k) % 2 == 0
            p0, p1 = (lh, rh) if left_to_right else (rh, lh)
            p = p0 * (1 - v) + p1 * v
            p = (p[0], p[1] - 4 * v * (1 - v) * 0.45 * H)
            cv2.circle(img, _pt(p), int(0.035 * H), cols[k], -1, cv2.LINE_AA)

    return pose, draw


def _jump_rope(base, u, color, var):
    a = 2 * math.pi * u
    pose = replace(
        base,
        bounce=0.1 * base.height * max(0.0, math.sin(a)),
        l_shoulder=0.45,
        r_shoulder=0.45,
        l_elbow=-0.6,
        r_elbow=-0.6,
        l_knee=-0.15,
        r_knee=-0.15,
    )

    def draw(img, j):
        lh, rh = j["l_hand"], j["r_hand"]
        H = j["feet_y"] - j["head"][1]
        # rope rotates around the body: its apex moves between above the head and below the feet
        apex_y = (j["head"][1] - 0.15 * H) * (0.5 + 0.5 * math.cos(a)) + (j["feet_y"] + 0.05 * H) * (
            0.5 - 0.5 * math.cos(a)
        )
        mid = ((lh[0] + rh[0]) / 2, apex_y)
        pts = []
        for k in range(21):
            s = k / 20
            x = (1 - s) ** 2 * lh[0] + 2 * s * (1 - s) * mid[0] + s * s * rh[0]
            y = (1 - s) ** 2 * lh[1] + 2 * s * (1 - s) * (2 * mid[1] - (lh[1] + rh[1]) / 2) + s * s * rh[1]
            pts.append(_pt((x, y)))
        cv2.polylines(img, [np.array(pts, np.int32)], False, color, 2, cv2.LINE_AA)

    return pose, draw


def _dribble(base, u, color, var):
    a = 2 * math.pi * u
    hand_up = 0.5 + 0.5 * math.cos(a)
    pose = replace(
        base,
        r_shoulder=0.35 + 0.1 * hand_up,
        r_elbow=-0.9 + 0.6 * (1 - hand_up),
        l_knee=-0.25,
        r_knee=-0.25,
        l_hip=0.15,
        r_hip=0.15,
        l_shoulder=0.4,
    )

    def draw(img, j):
        H = j["feet_y"] - j["head"][1]
        hx, hy = j["r_hand"]
        by = hy + 0.06 * H + (j["feet_y"] - 0.06 * H - hy - 0.06 * H) * abs(math.sin(math.pi * u))
        cv2.circle(img, _pt((hx + 0.03 * H, by)), int(0.06 * H), color, -1, cv2.LINE_AA)
        cv2.line(img, _pt((hx - 0.03 * H, by)), _pt((hx + 0.09 * H, by)), (40, 20, 0), 1, cv2.LINE_AA)

    return pose, draw


def _hula(base, u, color, var):
    a = 2 * math.pi * u
    pose = replace(base, lean=0.03 * math.sin(a), l_shoulder=2.6, r_shoulder=2.6, l_elbow=0.3, r_elbow=0.3)

    def draw(img, j):
        H = j["feet_y"] - j["head"][1]
        wx, wy = j["waist"]
        cx = wx + 0.08 * H * math.cos(a)
        cv2.ellipse(
            img,
            _pt((cx, wy + 0.03 * H * math.sin(a))),
            (int(0.22 * H), int(0.05 * H)),
            8 * math.sin(a),
            0,
            360,
            color,
            4,
            cv2.LINE_AA,
        )

    return pose, draw


def _flag(base, u, color, var):
    a = 2 * math.pi * u
    sw = math.sin(a)
    pose = replace(base, r_shoulder=2.4 + 0.35 * sw, r_elbow=0.2, l_shoulder=2.2 - 0.2 * sw, l_elbow=0.5)

    def draw(img, j):
        H = j["feet_y"] - j["head"][1]
        hx, hy = j["r_hand"]
        ang = -math.pi / 2 + 0.6 * sw
        top = (hx + math.cos(ang) * 0.55 * H, hy + math.sin(ang) * 0.55 * H)
        cv2.line(img, _pt((hx, hy)), _pt(top), (90, 60, 30), 3, cv2.LINE_AA)
        tip = (top[0] + 0.3 * H * (1 if sw < 0 else -1) * (0.6 + 0.4 * abs(sw)), top[1] + 0.05 * H)
        mid = (top[0] + (tip[0] - top[0]) * 0.5, top[1] + 0.18 * H)
        cv2.fillPoly(img, [np.array([_pt(top), _pt(tip), _pt(mid)], np.int32)], color, cv2.LINE_AA)

    return pose, draw


ACTION_FNS = {
    "archery": _archery,
    "juggling_balls": _juggling,
    "jump_rope": _jump_rope,
    "basketball_dribbling": _dribble,
    "hula_hoop": _hula,
    "waving_flag": _flag,
}
