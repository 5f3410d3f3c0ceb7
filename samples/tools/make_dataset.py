#!/usr/bin/python3
"""Synthetic street scenes with StreetHazards labels, for the HEAT Lens sample workspace.

Writes 256x128 (width x height) RGB PNG images and uint8 PNG labels into
samples/street/{train,val,test,test-shifted}/{images,labels}/.

Label ids (plain 0..13, no on-disk offset; configure with heat.labels.anomaly = [13], ignore = [255]):
  0 unlabelled (sky), 1 building, 2 fence, 3 other, 4 pedestrian, 5 pole, 6 road line, 7 road,
  8 sidewalk, 9 vegetation, 10 car, 11 wall, 12 traffic sign, 13 anomaly, 255 void (ego-vehicle hood).

The train split never contains label 13. val and test have pasted anomaly objects whose shapes
(star polygons, legged blobs, rings) and textures (checkerboards, zebra stripes, polka dots in magenta,
purple and cyan) appear in no training class. test-shifted is the test recipe (other seeds) rendered
darker, foggier and noisier, so that test-time normalization has a shift to adapt to.

Deterministic: every image is drawn from numpy.random.default_rng((SEED, split_index, image_index)).
Run with Debian's python3 from the repository root:  /usr/bin/python3 samples/tools/make_dataset.py
"""
import argparse
import os

import numpy as np
from PIL import Image

WIDTH, HEIGHT = 256, 128
SEED = 20261204

UNLABELLED, BUILDING, FENCE, OTHER, PEDESTRIAN, POLE, ROAD_LINE, ROAD, SIDEWALK, VEGETATION, CAR, WALL, SIGN, ANOMALY = range(14)
VOID = 255

SPLITS = {
    # name: (index used in the seed, image count, anomalies, domain shift)
    'train': (0, 64, False, False),
    'val': (1, 20, True, False),
    'test': (2, 20, True, False),
    'test-shifted': (3, 20, True, True),
}

YY, XX = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)


class Canvas:
    """An RGB float image (0..255) and its label map, painted back to front."""

    def __init__(self):
        self.rgb = np.zeros((HEIGHT, WIDTH, 3), np.float32)
        self.label = np.zeros((HEIGHT, WIDTH), np.uint8)

    def paint(self, mask, label, colour):
        """colour: an RGB triple, or an (H, W, 3) texture of which only the masked part is used."""
        if not mask.any():
            return
        colour = np.asarray(colour, np.float32)
        self.rgb[mask] = colour[mask] if colour.ndim == 3 else colour
        self.label[mask] = label


def smooth_noise(rng, cells_y, cells_x, amplitude):
    """Low-frequency noise: a random grid upsampled bicubically to the image size, in -amplitude..amplitude."""
    grid = rng.uniform(-1, 1, (cells_y, cells_x)).astype(np.float32)
    up = Image.fromarray(grid, mode='F').resize((WIDTH, HEIGHT), Image.BICUBIC)
    return np.asarray(up, np.float32)[..., None] * amplitude


def jitter(rng, colour, amount=12):
    return np.clip(np.asarray(colour, np.float32) + rng.uniform(-amount, amount, 3), 0, 255)


def line_x(vx, vy, x_bottom, y):
    """x on the straight line from the vanishing point (vx, vy) to (x_bottom, HEIGHT) at height y."""
    return vx + (x_bottom - vx) * (y - vy) / (HEIGHT - vy)


def depth_scale(vy, y):
    """Apparent size factor of an object standing at image row y: 0 at the horizon, 1 at the bottom."""
    return max(0.05, (y - vy) / (HEIGHT - vy))


# ---------------------------------------------------------------- background: sky, facades, ground

def draw_sky(canvas, rng, vy):
    top = jitter(rng, (110, 160, 220), 20)
    bottom = jitter(rng, (200, 215, 235), 15)
    t = np.clip(YY / max(vy, 1), 0, 1)[..., None]
    sky = top * (1 - t) + bottom * t + smooth_noise(rng, 3, 6, 10)
    canvas.paint(np.ones((HEIGHT, WIDTH), bool), UNLABELLED, sky)


def building_texture(rng, mask):
    base = jitter(rng, [(180, 160, 130), (150, 110, 90), (170, 170, 165), (200, 190, 170), (120, 100, 90)][rng.integers(5)], 15)
    tex = np.broadcast_to(base, (HEIGHT, WIDTH, 3)) + smooth_noise(rng, 8, 16, 6)
    pitch_x, pitch_y = rng.integers(7, 12), rng.integers(8, 13)
    win_w, win_h = rng.integers(3, pitch_x - 2), rng.integers(3, pitch_y - 3)
    ox, oy = rng.integers(0, pitch_x), rng.integers(0, pitch_y)
    windows = (((XX + ox) % pitch_x) < win_w) & (((YY + oy) % pitch_y) < win_h)
    glass = jitter(rng, (60, 75, 95), 15)
    tex = np.where(windows[..., None], glass, tex)
    return tex


def wall_texture(rng):
    base = jitter(rng, (135, 135, 128), 15)
    tex = np.broadcast_to(base, (HEIGHT, WIDTH, 3)) + smooth_noise(rng, 6, 24, 8)
    course = rng.integers(4, 7)
    mortar = (YY % course) < 1
    return np.where(mortar[..., None], base * 0.75, tex)


def fence_texture(rng):
    slat = jitter(rng, [(150, 110, 70), (95, 100, 105)][rng.integers(2)], 12)
    gap = slat * 0.45
    pitch = rng.integers(3, 6)
    stripes = (XX % pitch) < pitch - 1
    rail = (YY % rng.integers(9, 14)) < 1
    return np.where((stripes | rail)[..., None], slat, gap)


def vegetation_texture(rng):
    base = jitter(rng, (60, 120, 45), 15)
    return np.broadcast_to(base, (HEIGHT, WIDTH, 3)) + smooth_noise(rng, 24, 48, 28) * np.array([0.5, 1.0, 0.4], np.float32)


def draw_side(canvas, rng, vx, vy, x_outer_bottom, side):
    """Draws one side of the street: segments of building, wall, fence and vegetation along the facade band."""
    # The band lies between the ground line (V -> outer sidewalk edge at the bottom) and the roof line
    # (V -> a point high on the image border). t is 0 on the ground line and 1 on the roof line.
    edge_x = 0.0 if side < 0 else WIDTH - 1.0
    roof_y = rng.uniform(-40, 25)
    dx, dy = XX - vx, YY - vy
    ground_angle = np.arctan2(HEIGHT - vy, x_outer_bottom - vx)
    roof_angle = np.arctan2(roof_y - vy, edge_x - vx)
    angle = np.arctan2(dy, dx)
    if side < 0:
        # Left side: angles run from ground_angle (below-left, ~ +pi - a) up to roof_angle (~ -pi + b).
        angle = np.where(angle < 0, angle + 2 * np.pi, angle)
        ra = roof_angle + 2 * np.pi if roof_angle < 0 else roof_angle
        t = (angle - ground_angle) / (ra - ground_angle)
        beyond = XX < vx
    else:
        t = (ground_angle - angle) / (ground_angle - roof_angle)
        beyond = XX > vx
    band = beyond & (t >= 0) & (t <= 1)

    # Segment breakpoints along x (farther segments are nearer the vanishing point).
    far_end = vx - 6 if side < 0 else vx + 6
    breaks = np.sort(rng.uniform(min(far_end, edge_x), max(far_end, edge_x), rng.integers(1, 4)))
    edges = np.concatenate([[min(far_end, edge_x)], breaks, [max(far_end, edge_x)]])
    for lo, hi in zip(edges[:-1], edges[1:]):
        seg = band & (XX >= lo) & (XX < hi)
        kind = rng.choice([BUILDING, BUILDING, BUILDING, WALL, FENCE, VEGETATION])
        if kind == BUILDING:
            height = rng.uniform(0.6, 1.0)
            canvas.paint(seg & (t <= height), BUILDING, building_texture(rng, seg))
        else:
            low = rng.uniform(0.2, 0.4)
            if rng.random() < 0.6:
                # Trees behind the low wall or fence, with an irregular crown line.
                crown = rng.uniform(0.5, 0.95) + smooth_noise(rng, 2, 24, 0.12)[..., 0]
                canvas.paint(seg & (t <= crown), VEGETATION, vegetation_texture(rng))
            texture = {WALL: wall_texture, FENCE: fence_texture, VEGETATION: vegetation_texture}[kind](rng)
            canvas.paint(seg & (t <= low if kind != VEGETATION else t <= rng.uniform(0.5, 0.9)), kind, texture)


def draw_ground(canvas, rng, vx, vy):
    """Draws road, sidewalks and road markings, and returns the road and sidewalk edges at the bottom row."""
    centre = vx + rng.uniform(-20, 20)
    half = rng.uniform(95, 140)
    road_l, road_r = centre - half, centre + half
    walk_l, walk_r = road_l - rng.uniform(50, 110), road_r + rng.uniform(50, 110)
    below = YY > vy

    walk = below & (XX >= line_x(vx, vy, walk_l, YY)) & (XX <= line_x(vx, vy, walk_r, YY))
    base = jitter(rng, (175, 170, 160), 15)
    tiles = ((XX.astype(int) % rng.integers(7, 11)) == 0) | ((YY.astype(int) % rng.integers(4, 7)) == 0)
    walk_tex = np.where(tiles[..., None], base * 0.8, base) + smooth_noise(rng, 4, 8, 5)
    canvas.paint(walk, SIDEWALK, walk_tex)

    road = below & (XX >= line_x(vx, vy, road_l, YY)) & (XX <= line_x(vx, vy, road_r, YY))
    asphalt = jitter(rng, (75, 75, 78), 10) + smooth_noise(rng, 16, 32, 6)
    canvas.paint(road, ROAD, asphalt)

    # Lane markings: a dashed centre line and solid edge lines, widening with depth.
    paint_colour = jitter(rng, [(235, 235, 230), (230, 200, 60)][int(rng.random() < 0.25)], 8)
    scale = (YY - vy) / (HEIGHT - vy)
    width = 0.6 + 3.0 * scale
    dash = np.sin(np.log(np.maximum(YY - vy, 1)) * rng.uniform(9, 13) + rng.uniform(0, 6)) > 0
    centre_line = below & (np.abs(XX - line_x(vx, vy, centre, YY)) < width) & dash
    edge_l = below & (np.abs(XX - line_x(vx, vy, road_l + 10, YY)) < width * 0.7)
    edge_r = below & (np.abs(XX - line_x(vx, vy, road_r - 10, YY)) < width * 0.7)
    canvas.paint(centre_line | edge_l | edge_r, ROAD_LINE, paint_colour)
    return road_l, road_r, walk_l, walk_r, centre


# ---------------------------------------------------------------- objects

def draw_car(canvas, rng, x, y_base, s):
    w, h = 90 * s * rng.uniform(0.85, 1.15), 42 * s * rng.uniform(0.9, 1.1)
    body = jitter(rng, [(170, 30, 30), (30, 60, 150), (230, 230, 230), (25, 25, 28), (160, 165, 170), (30, 90, 60)][rng.integers(6)], 15)
    x0, x1, y0, y1 = x - w / 2, x + w / 2, y_base - h, y_base - 0.15 * h
    lower = (XX >= x0) & (XX <= x1) & (YY >= y0 + 0.4 * h) & (YY <= y1)
    cabin = (XX >= x0 + 0.15 * w) & (XX <= x1 - 0.15 * w) & (YY >= y0) & (YY < y0 + 0.45 * h)
    tex = np.broadcast_to(body, (HEIGHT, WIDTH, 3)) + smooth_noise(rng, 6, 12, 5)
    windows = cabin & (YY >= y0 + 0.08 * h) & (XX >= x0 + 0.2 * w) & (XX <= x1 - 0.2 * w)
    tex = np.where(windows[..., None], jitter(rng, (55, 65, 80), 10), tex)
    canvas.paint(lower | cabin, CAR, tex)
    r = 0.17 * h
    for wx in (x0 + 0.22 * w, x1 - 0.22 * w):
        wheel = (XX - wx) ** 2 + (YY - (y1 - 0.02 * h)) ** 2 <= r * r
        canvas.paint(wheel, CAR, (20, 20, 20))
    lights = (YY >= y0 + 0.5 * h) & (YY <= y0 + 0.62 * h) & (((XX >= x0) & (XX <= x0 + 0.1 * w)) | ((XX >= x1 - 0.1 * w) & (XX <= x1)))
    canvas.paint(lights, CAR, (240, 220, 150))


def draw_pedestrian(canvas, rng, x, y_base, s):
    h = 55 * s * rng.uniform(0.85, 1.15)
    w = 0.3 * h
    skin = jitter(rng, [(230, 190, 160), (180, 130, 95), (110, 75, 55)][rng.integers(3)], 10)
    shirt = jitter(rng, [(200, 50, 50), (40, 80, 160), (240, 240, 240), (40, 40, 40), (200, 170, 40)][rng.integers(5)], 20)
    trousers = jitter(rng, [(35, 40, 60), (60, 60, 60), (110, 90, 60)][rng.integers(3)], 10)
    head_r = 0.1 * h
    head = (XX - x) ** 2 / (head_r * 0.85) ** 2 + (YY - (y_base - h + head_r)) ** 2 / head_r ** 2 <= 1
    torso = (np.abs(XX - x) <= w / 2) & (YY >= y_base - h + 2 * head_r) & (YY <= y_base - 0.45 * h)
    legs = (np.abs(np.abs(XX - x) - w * 0.2) <= w * 0.14) & (YY > y_base - 0.45 * h) & (YY <= y_base)
    canvas.paint(legs, PEDESTRIAN, trousers)
    canvas.paint(torso, PEDESTRIAN, shirt)
    canvas.paint(head, PEDESTRIAN, skin)


def draw_pole_and_sign(canvas, rng, x, y_base, s, with_sign):
    h = 85 * s * rng.uniform(0.8, 1.2)
    half_w = max(0.6, 1.6 * s)
    pole = (np.abs(XX - x) <= half_w) & (YY >= y_base - h) & (YY <= y_base)
    canvas.paint(pole, POLE, jitter(rng, (110, 110, 115), 10))
    if not with_sign:
        return
    r = max(2.5, 9 * s)
    cy = y_base - h + r
    kind = rng.integers(3)
    if kind == 0:
        d2 = (XX - x) ** 2 + (YY - cy) ** 2
        shape, inner = d2 <= r * r, d2 <= (0.7 * r) ** 2
        outer, fill = (200, 30, 30), (240, 240, 240)
    elif kind == 1:
        shape = (np.abs(XX - x) <= r) & (np.abs(YY - cy) <= r)
        inner = (np.abs(XX - x) <= 0.75 * r) & (np.abs(YY - cy) <= 0.75 * r)
        outer, fill = (240, 240, 240), (30, 70, 170)
    else:
        up = (YY >= cy - r) & (YY <= cy + r) & (np.abs(XX - x) <= (YY - (cy - r)) * 0.6)
        shape, inner = up, up & (YY >= cy - 0.4 * r) & (np.abs(XX - x) <= (YY - (cy - r)) * 0.4)
        outer, fill = (210, 40, 30), (240, 200, 40)
    canvas.paint(shape, SIGN, jitter(rng, outer, 10))
    canvas.paint(inner, SIGN, jitter(rng, fill, 10))


def draw_other(canvas, rng, x, y_base, s):
    """Street furniture: bins and cardboard boxes ('other')."""
    if rng.random() < 0.5:
        w, h = 14 * s * rng.uniform(0.8, 1.2), 22 * s * rng.uniform(0.8, 1.2)
        bin_ = (np.abs(XX - x) <= w / 2) & (YY >= y_base - h) & (YY <= y_base)
        lid = (np.abs(XX - x) <= w / 2 + 1) & (YY >= y_base - h - 2) & (YY < y_base - h + 1)
        colour = jitter(rng, [(40, 70, 110), (70, 70, 70)][rng.integers(2)], 10)
        canvas.paint(bin_ | lid, OTHER, colour)
        canvas.paint(lid, OTHER, colour * 0.6)
    else:
        w, h = 20 * s * rng.uniform(0.8, 1.3), 14 * s * rng.uniform(0.8, 1.3)
        box = (np.abs(XX - x) <= w / 2) & (YY >= y_base - h) & (YY <= y_base)
        tape = box & (np.abs(XX - x) <= max(0.6, w * 0.06))
        canvas.paint(box, OTHER, jitter(rng, (170, 125, 75), 12))
        canvas.paint(tape, OTHER, (210, 190, 150))


def anomaly_texture(rng):
    """Textures absent from the known classes: checkerboards, zebra stripes, polka dots in off-palette colours."""
    palette = [(220, 0, 200), (130, 40, 210), (0, 220, 230), (255, 105, 180), (250, 250, 20)]
    a, b = (jitter(rng, palette[i], 15) for i in rng.choice(len(palette), 2, replace=False))
    kind = rng.integers(3)
    if kind == 0:
        pitch = rng.integers(2, 5)
        pattern = ((XX // pitch + YY // pitch) % 2) == 0
    elif kind == 1:
        pitch = rng.integers(3, 6)
        pattern = ((XX + YY * rng.uniform(-1.5, 1.5)) % pitch) < pitch / 2
    else:
        pitch = rng.integers(4, 7)
        pattern = ((XX % pitch) - pitch / 2) ** 2 + ((YY % pitch) - pitch / 2) ** 2 < (pitch / 3) ** 2
    return np.where(pattern[..., None], a, b)


def anomaly_shape(rng, x, y_base, s):
    size = rng.uniform(30, 60) * s
    cy = y_base - size * 0.55
    kind = rng.integers(3)
    dx, dy = XX - x, YY - cy
    if kind == 0:
        # Star polygon: radius modulated by angle.
        spikes = rng.integers(5, 9)
        radius = size * 0.5 * (0.6 + 0.4 * np.cos(spikes * np.arctan2(dy, dx) + rng.uniform(0, 6)))
        return dx ** 2 + dy ** 2 <= radius ** 2
    if kind == 1:
        # Legged blob: a wide ellipse on four thin legs (an animal-like silhouette).
        body = (dx / (size * 0.6)) ** 2 + (dy / (size * 0.3)) ** 2 <= 1
        legs = np.zeros_like(body)
        for off in (-0.45, -0.2, 0.2, 0.45):
            legs |= (np.abs(dx - off * size) <= max(0.8, size * 0.05)) & (YY > cy) & (YY <= y_base)
        head = ((dx - size * 0.7) / (size * 0.18)) ** 2 + ((dy + size * 0.2) / (size * 0.15)) ** 2 <= 1
        return body | legs | head
    # Ring on a stand: a torus outline.
    d = np.sqrt(dx ** 2 + dy ** 2)
    return (d <= size * 0.5) & (d >= size * 0.25)


# ---------------------------------------------------------------- one scene

def make_scene(rng, with_anomalies):
    canvas = Canvas()
    vx, vy = rng.uniform(96, 160), rng.uniform(38, 56)
    draw_sky(canvas, rng, vy)
    road_l, road_r, walk_l, walk_r, centre = draw_ground(canvas, rng, vx, vy)
    draw_side(canvas, rng, vx, vy, walk_l, -1)
    draw_side(canvas, rng, vx, vy, walk_r, +1)

    # Objects, sorted far to near so nearer ones cover farther ones.
    objects = []
    for _ in range(rng.integers(1, 5)):
        y = rng.uniform(vy + 8, HEIGHT + 5)
        lane = rng.uniform(0.15, 0.85)
        x = line_x(vx, vy, road_l + lane * (road_r - road_l), y)
        objects.append((y, 'car', x))
    for _ in range(rng.integers(0, 4)):
        y = rng.uniform(vy + 10, HEIGHT)
        side_l = rng.random() < 0.5
        frac = rng.uniform(0.2, 0.8)
        xb = walk_l + frac * (road_l - walk_l) if side_l else road_r + frac * (walk_r - road_r)
        objects.append((y, 'pedestrian', line_x(vx, vy, xb, y)))
    for _ in range(rng.integers(1, 5)):
        y = rng.uniform(vy + 8, HEIGHT)
        xb = walk_l + 0.2 * (road_l - walk_l) if rng.random() < 0.5 else walk_r - 0.2 * (walk_r - road_r)
        objects.append((y, 'pole', line_x(vx, vy, xb, y)))
    for _ in range(rng.integers(0, 3)):
        y = rng.uniform(vy + 8, HEIGHT)
        side_l = rng.random() < 0.5
        xb = walk_l + 0.35 * (road_l - walk_l) if side_l else walk_r - 0.35 * (walk_r - road_r)
        objects.append((y, 'other', line_x(vx, vy, xb, y)))
    if with_anomalies:
        for _ in range(rng.integers(1, 3)):
            y = rng.uniform(vy + 25, HEIGHT - 2)
            lane = rng.uniform(0.1, 0.9) if rng.random() < 0.8 else rng.choice([-0.2, 1.2])
            objects.append((y, 'anomaly', line_x(vx, vy, road_l + lane * (road_r - road_l), y)))

    for y, kind, x in sorted(objects, key=lambda o: o[0]):
        s = depth_scale(vy, y)
        if kind == 'car':
            draw_car(canvas, rng, x, y, s)
        elif kind == 'pedestrian':
            draw_pedestrian(canvas, rng, x, y, s)
        elif kind == 'pole':
            draw_pole_and_sign(canvas, rng, x, y, s, with_sign=rng.random() < 0.7)
        elif kind == 'other':
            draw_other(canvas, rng, x, y, s)
        else:
            canvas.paint(anomaly_shape(rng, x, y, s), ANOMALY, anomaly_texture(rng))

    # Ego-vehicle hood in some frames: void (255), never counted anywhere.
    if rng.random() < 0.3:
        top = HEIGHT - rng.uniform(6, 12)
        hood = YY >= top + 0.0015 * (XX - WIDTH / 2) ** 2
        canvas.paint(hood, VOID, jitter(rng, (40, 40, 45), 8))

    # Global lighting. No per-pixel sensor noise here: it would double the PNG sizes.
    canvas.rgb = canvas.rgb * rng.uniform(0.85, 1.12)
    return canvas


def shift_domain(rng, canvas):
    """Darker, foggier, noisier: fog grows toward the horizon, then gain and sensor noise."""
    fog_colour = np.array([150, 155, 160], np.float32)
    fog = np.clip(1.0 - (YY - 20) / (HEIGHT - 20), 0.0, 1.0)[..., None] * rng.uniform(0.25, 0.45)
    rgb = canvas.rgb * (1 - fog) + fog_colour * fog
    rgb = rgb * rng.uniform(0.6, 0.75) + rng.normal(0, 4.0, rgb.shape)
    canvas.rgb = rgb


def write_split(out_dir, name, count):
    split_index, _, anomalies, shifted = SPLITS[name]
    images_dir = os.path.join(out_dir, name, 'images')
    labels_dir = os.path.join(out_dir, name, 'labels')
    os.makedirs(images_dir, exist_ok=True)
    os.makedirs(labels_dir, exist_ok=True)
    # test-shifted uses the test recipe with its own seeds, so its scenes are new, not darkened copies.
    for i in range(count):
        rng = np.random.default_rng((SEED, split_index, i))
        canvas = make_scene(rng, anomalies)
        if shifted:
            shift_domain(rng, canvas)
        stem = f'{name}_{i:03d}'
        image = Image.fromarray(np.clip(np.rint(canvas.rgb), 0, 255).astype(np.uint8))
        if shifted:
            # Sensor noise makes PNGs large; a shifted camera is also a JPEG camera, which keeps the
            # sample (and the extension package that bundles it) small.
            image.save(os.path.join(images_dir, stem + '.jpg'), quality=90)
        else:
            image.save(os.path.join(images_dir, stem + '.png'), optimize=True)
        Image.fromarray(canvas.label).save(os.path.join(labels_dir, stem + '.png'), optimize=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default=os.path.join(os.path.dirname(__file__), '..', 'street'))
    parser.add_argument('--splits', nargs='*', default=list(SPLITS))
    args = parser.parse_args()
    for name in args.splits:
        write_split(args.out, name, SPLITS[name][1])
        print(f'wrote {SPLITS[name][1]} {name} images to {os.path.join(args.out, name)}')


if __name__ == '__main__':
    main()
