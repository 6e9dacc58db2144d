"""Synthetic road scenes for the simulated cameras: background, vehicle sprites with readable plates.

The venv side draws the still images here with OpenCV; the GStreamer child
(`rtsp_server.py`) only composites them and moves the sprites, so it needs nothing
beyond gi and the standard library. A scene is a pure function of time: every vehicle
crosses the frame with a period that divides `loop_seconds`, so a pre-encoded clip of
that length loops without a jump, and live and loop modes show the same traffic.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

# Bump when the drawing changes, so cached images and clips are rebuilt.
SCENE_VERSION = 3

MAIN_SIZE = (1280, 720)
SUB_SIZE = (640, 360)
MAIN_FPS = 25
SUB_FPS = 15

# Layout of the main frame, in pixels (the sub-stream is the same scene at half scale).
SKY_BOTTOM = 192
ROAD_TOP = 216
LANE_HEIGHT = 160
LANES = 3
ROAD_BOTTOM = ROAD_TOP + LANES * LANE_HEIGHT
ROAD_GREY = (72, 72, 72)  # BGR; sprites are painted on this colour so their edges vanish on the road
VEHICLES_PER_LANE = 2

# California-like plates: digit, three letters, three digits. I, O and Q are left out as
# real issuers do, so an OCR test never argues about 0/O or 1/I.
PLATE_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
BODY_COLOURS = [(40, 40, 160), (150, 90, 30), (220, 220, 220), (30, 30, 30), (40, 130, 40),
                (20, 140, 200), (120, 120, 120), (90, 30, 110)]


@dataclass(frozen=True)
class Vehicle:
    """One vehicle of a scene: its sprite and how it crosses the frame (main-stream pixels)."""

    plate: str
    sprite: str  # file name inside the scene's asset directory, without the size suffix
    width: int
    height: int
    top: int
    period_s: float
    phase: float
    direction: int  # +1 left to right, -1 right to left


def plate_text(chooser: random.Random) -> str:
    """A plate like 7ABC123."""
    letters = "".join(chooser.choice(PLATE_LETTERS) for _ in range(3))
    return f"{chooser.randint(1, 9)}{letters}{chooser.randint(0, 999):03d}"


def plan_vehicles(camera_index: int, loop_seconds: float) -> list[Vehicle]:
    """The vehicles of camera `camera_index` (1-based); deterministic, plates differ per camera."""
    chooser = random.Random(f"rtcc-sim-camera-{camera_index}")
    vehicles = []
    for lane in range(LANES):
        # Whole crossings per loop, so the scene at t and at t + loop_seconds is identical.
        crossings = chooser.choice([1, 2, 2, 3]) if loop_seconds >= 6 else 1
        direction = -1 if lane == 0 else 1
        lane_phase = chooser.random()
        for slot in range(VEHICLES_PER_LANE):
            width = chooser.randrange(300, 372, 4)  # multiples of 4: even at half scale too
            vehicles.append(Vehicle(
                plate=plate_text(chooser), sprite=f"vehicle-{lane}-{slot}", width=width, height=144,
                top=ROAD_TOP + lane * LANE_HEIGHT + 8, period_s=loop_seconds / crossings,
                phase=(lane_phase + slot / VEHICLES_PER_LANE) % 1.0, direction=direction))
    return vehicles


def draw_background(camera_index: int, label: str) -> np.ndarray:
    """A street seen from a pole: buildings, sidewalks, three lanes with markings."""
    width, height = MAIN_SIZE
    chooser = random.Random(f"rtcc-sim-background-{camera_index}")
    image = np.zeros((height, width, 3), np.uint8)
    image[:SKY_BOTTOM] = (120, 90, 60)
    x = 0
    while x < width:
        building_width = chooser.randrange(120, 260)
        building_top = chooser.randrange(30, 120)
        shade = chooser.randrange(70, 140)
        cv2.rectangle(image, (x, building_top), (x + building_width - 6, SKY_BOTTOM), (shade, shade, shade + 10), -1)
        for wy in range(building_top + 14, SKY_BOTTOM - 20, 30):
            for wx in range(x + 12, x + building_width - 30, 34):
                lit = (140, 210, 230) if chooser.random() < 0.4 else (60, 60, 70)
                cv2.rectangle(image, (wx, wy), (wx + 16, wy + 16), lit, -1)
        x += building_width
    image[SKY_BOTTOM:ROAD_TOP] = (165, 165, 160)
    image[ROAD_TOP:ROAD_BOTTOM] = ROAD_GREY
    image[ROAD_BOTTOM:] = (165, 165, 160)
    cv2.line(image, (0, ROAD_TOP + 2), (width, ROAD_TOP + 2), (235, 235, 235), 4)
    cv2.line(image, (0, ROAD_BOTTOM - 3), (width, ROAD_BOTTOM - 3), (235, 235, 235), 4)
    for lane in range(1, LANES):
        y = ROAD_TOP + lane * LANE_HEIGHT
        colour = (40, 200, 230) if lane == 1 else (235, 235, 235)  # yellow centre line
        for dash in range(0, width, 80):
            cv2.rectangle(image, (dash, y - 2), (dash + 44, y + 2), colour, -1)
    # The clock is drawn live at the top left; the camera's name sits top right.
    (text_width, _), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_DUPLEX, 1.0, 2)
    cv2.rectangle(image, (width - text_width - 30, 10), (width - 10, 50), (20, 20, 20), -1)
    cv2.putText(image, label, (width - text_width - 20, 42), cv2.FONT_HERSHEY_DUPLEX, 1.0, (255, 255, 255), 2,
                cv2.LINE_AA)
    return image


def draw_vehicle(vehicle: Vehicle, colour: tuple[int, int, int]) -> np.ndarray:
    """A vehicle seen from behind, with its plate in large dark glyphs on a light plate."""
    image = np.full((vehicle.height, vehicle.width, 3), ROAD_GREY, np.uint8)
    w, h = vehicle.width, vehicle.height
    cv2.rectangle(image, (14, h - 22), (62, h - 2), (15, 15, 15), -1)
    cv2.rectangle(image, (w - 62, h - 22), (w - 14, h - 2), (15, 15, 15), -1)
    cv2.rectangle(image, (4, 8), (w - 5, h - 14), colour, -1)
    cv2.rectangle(image, (30, 2), (w - 31, 40), colour, -1)
    cv2.rectangle(image, (44, 8), (w - 45, 38), (55, 45, 40), -1)  # rear window
    cv2.rectangle(image, (10, 50), (52, 78), (30, 30, 220), -1)  # tail lights
    cv2.rectangle(image, (w - 53, 50), (w - 11, 78), (30, 30, 220), -1)
    plate_w, plate_h = 226, 70
    left, top = (w - plate_w) // 2, 52
    cv2.rectangle(image, (left, top), (left + plate_w, top + plate_h), (232, 238, 240), -1)
    cv2.rectangle(image, (left, top), (left + plate_w, top + plate_h), (40, 40, 40), 2)
    font, thickness = cv2.FONT_HERSHEY_DUPLEX, 3
    scale = 1.0
    while True:  # the largest glyphs that fit the plate with a margin
        (text_w, text_h), _ = cv2.getTextSize(vehicle.plate, font, scale + 0.05, thickness)
        if text_w > plate_w - 16 or text_h > plate_h - 22:
            break
        scale += 0.05
    (text_w, text_h), _ = cv2.getTextSize(vehicle.plate, font, scale, thickness)
    origin = (left + (plate_w - text_w) // 2, top + (plate_h + text_h) // 2)
    cv2.putText(image, vehicle.plate, origin, font, scale, (40, 25, 20), thickness, cv2.LINE_AA)
    return image


def _half(image: np.ndarray) -> np.ndarray:
    return cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)


def _scene_variant(assets: Path, vehicles: list[Vehicle], size: tuple[int, int], fps: int, suffix: str,
                   scale: int) -> dict:
    return {
        "width": size[0], "height": size[1], "fps": fps,
        "background": str(assets / f"background{suffix}.png"),
        "clock_font": f"DejaVu Sans Mono Bold {22 // scale}",
        "vehicles": [
            {"sprite": str(assets / f"{v.sprite}{suffix}.png"), "width": v.width // scale,
             "height": v.height // scale, "top": v.top // scale, "period_s": v.period_s, "phase": v.phase,
             "direction": v.direction}
            for v in vehicles
        ],
    }


def build_scene(camera_index: int, assets_root: Path, loop_seconds: float) -> dict:
    """Draw (once, cached) the images of one camera and return its scene spec for the child."""
    vehicles = plan_vehicles(camera_index, loop_seconds)
    label = f"SIM CAM {camera_index:02d}"
    key = hashlib.sha256(json.dumps([SCENE_VERSION, label, [asdict(v) for v in vehicles]]).encode()).hexdigest()
    assets = assets_root / f"cam{camera_index}-{key[:12]}"
    if not (assets / "done").exists():
        assets.mkdir(parents=True, exist_ok=True)
        background = draw_background(camera_index, label)
        cv2.imwrite(str(assets / "background.png"), background)
        cv2.imwrite(str(assets / "background-sub.png"), _half(background))
        for number, vehicle in enumerate(vehicles):
            sprite = draw_vehicle(vehicle, BODY_COLOURS[(camera_index * 3 + number) % len(BODY_COLOURS)])
            cv2.imwrite(str(assets / f"{vehicle.sprite}.png"), sprite)
            cv2.imwrite(str(assets / f"{vehicle.sprite}-sub.png"), _half(sprite))
        (assets / "done").write_text("ok\n")
    return {
        "index": camera_index,
        "key": key,
        "loop_seconds": loop_seconds,
        "plates": [v.plate for v in vehicles],
        "main": _scene_variant(assets, vehicles, MAIN_SIZE, MAIN_FPS, "", 1),
        "sub": _scene_variant(assets, vehicles, SUB_SIZE, SUB_FPS, "-sub", 2),
    }
