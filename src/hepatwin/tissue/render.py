"""Histology-like pictures: Sirius-red (collagen red on pale yellow parenchyma) and H&E.

Colours approximate stained sections; each lattice site (about one hepatocyte) becomes `scale` x `scale`
pixels. The H&E picture draws the microanatomy the lattice does not hold (sinusoids between the
hepatocyte plates, nuclei) from the geometry and the cell states when `scale` >= 3.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from scipy import ndimage

from . import kernels as kn
from .geometry import BILE_DUCT, CV_LUMEN, HEP_ARTERY, LUMENS, PARENCHYMA, PORTAL_STROMA, PORTAL_VEIN, Geometry

_PALE = np.array([243, 229, 178], np.float32)      # picric-acid yellow parenchyma
_RED = np.array([176, 18, 42], np.float32)          # Sirius red on collagen
_LUMEN = np.array([250, 248, 245], np.float32)
# H&E: eosin colours the cytoplasm and the matrix, haematoxylin the nuclei
_HEP = np.array([210, 128, 180], np.float32)        # hepatocyte cytoplasm: granular, lilac-pink
_BALLOON = np.array([242, 212, 230], np.float32)    # injured hepatocyte: swollen, cleared cytoplasm
_DROPOUT = np.array([234, 200, 218], np.float32)    # collapsed stroma where hepatocytes were lost
_FIBROUS = np.array([245, 178, 208], np.float32)    # collagen: brighter, glassy pink
_SINUS = np.array([248, 240, 245], np.float32)      # sinusoid lumen
_MUSCLE = np.array([212, 104, 150], np.float32)     # hepatic-artery wall
_DUCT = np.array([196, 148, 200], np.float32)       # biliary epithelium
_HEMA = np.array([74, 44, 122], np.float32)         # hepatocyte nuclei (vesicular chromatin)
_HEMA_DARK = np.array([44, 26, 88], np.float32)     # lymphocytes, Kupffer, stellate and fibroblast nuclei
_RBC = np.array([214, 66, 76], np.float32)
#: sinusoid spacing and width (sites; one site ~ one hepatocyte, 25 um): plates one cell thick
_SINUS_SPACING, _SINUS_WIDTH = 1.45, 0.34


def _upscale(img: np.ndarray, scale: int) -> np.ndarray:
    return np.repeat(np.repeat(img, scale, axis=0), scale, axis=1) if scale > 1 else img


def _texture(shape, seed: int = 0, amp: float = 6.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, amp, shape).astype(np.float32)[..., None]


def sirius_red(geom: Geometry, collagen_total: np.ndarray, c_sat: float, *, scale: int = 1, stride: int = 1,
               seed: int = 0, region: tuple[slice, slice] | None = None) -> np.ndarray:
    """RGB uint8 image: red intensity grows with local collagen; `stride` > 1 takes every stride-th site
    (small frames for a time-lapse), `scale` > 1 repeats each site as scale x scale pixels; `region`
    (rows, columns) draws only that window."""
    ys, xs = region if region is not None else (slice(None), slice(None))
    c = collagen_total[ys, xs][::stride, ::stride]
    a = np.clip(c / c_sat, 0.0, 1.0)[..., None] ** 0.8
    img = _PALE * (1 - a) + _RED * a
    img[np.isin(geom.structure[ys, xs][::stride, ::stride], LUMENS)] = _LUMEN
    img = _upscale(img, scale)
    img = img + _texture(img.shape[:2], seed, 5.0)
    return np.clip(img, 0, 255).astype(np.uint8)


def hematoxylin_eosin(geom: Geometry, cell: np.ndarray, collagen_total: np.ndarray, c_sat: float, *,
                      scale: int = 3, seed: int = 0, region: tuple[slice, slice] | None = None) -> np.ndarray:
    """RGB uint8 H&E-like image.

    Hepatocyte plates (lilac-pink cytoplasm, round purple nuclei) separated by sinusoids that radiate
    from the central vein and branch outward; injured hepatocytes swollen and pale; collagen glassy
    pink with spindle nuclei; small dark nuclei of macrophages, activated stellate cells and portal
    lymphocytes; portal tracts with a muscular artery, a bile duct lined by epithelium and a portal vein
    with red cells; white lumina. Microscopic detail (sinusoids, nuclei) needs `scale` >= 3 pixels per
    site; at smaller scales only the site colours are drawn. `region` (rows, columns) draws only that
    window of the field (a high-power view of a large field)."""
    ys, xs = region if region is not None else (slice(None), slice(None))
    cell, collagen_total, st = cell[ys, xs], collagen_total[ys, xs], geom.structure[ys, xs]
    origin = (ys.indices(geom.ny)[0], xs.indices(geom.nx)[0])
    ny, nx = cell.shape
    rng = np.random.default_rng([seed, 0x4E])
    hep, hsc, mac = cell & 3, (cell >> 2) & 3, (cell >> 4) & 3
    par, lumen = st == PARENCHYMA, np.isin(st, LUMENS)
    a = np.clip(collagen_total / c_sat, 0.0, 1.0).astype(np.float32)
    base = np.where((hep == kn.HEP_INJURED)[..., None], _BALLOON, _HEP)
    base = np.where((hep == kn.HEP_EMPTY)[..., None], _DROPOUT, base)
    base = np.where(par[..., None], base, _FIBROUS)
    img = base * (1 - a[..., None]) + _FIBROUS * a[..., None]
    stroma = st == PORTAL_STROMA
    img[stroma & ndimage.binary_dilation(st == HEP_ARTERY, iterations=1)] = _MUSCLE
    img[stroma & ndimage.binary_dilation(st == BILE_DUCT, iterations=1)] = _DUCT
    img[lumen] = _LUMEN
    # stain unevenness over a few cells
    coarse = ndimage.zoom(rng.normal(0.0, 1.0, (ny // 6 + 2, nx // 6 + 2)), 6, order=1)[:ny, :nx]
    img = img * (1.0 + 0.035 * coarse.astype(np.float32)[..., None])
    img = _upscale(img.astype(np.float32), scale)
    if scale >= 3:
        _draw_microanatomy(img, st, lumen, geom.cv_offset[:, ys, xs], origin, hep, hsc, mac, a, scale, rng)
    img = img + _texture(img.shape[:2], seed + 1, 3.0)
    return np.clip(img, 0, 255).astype(np.uint8)


def _blend(img: np.ndarray, alpha: np.ndarray, colour: np.ndarray) -> None:
    img += alpha[..., None] * (colour - img)


def _soft(edge: np.ndarray, scale: int) -> np.ndarray:
    # coverage of a pixel by a shape whose signed distance (sites, > 0 inside) is `edge`
    return np.clip(0.5 + edge * scale, 0.0, 1.0)


def _draw_microanatomy(img, st, lumen, cv_offset, origin, hep, hsc, mac, a, s, rng) -> None:
    ny, nx = hep.shape
    par = st == PARENCHYMA
    off = ((np.arange(s) + 0.5) / s - 0.5).astype(np.float32)    # pixel centre within its site, sites
    py = np.tile(off, ny)[:, None]
    px = np.tile(off, nx)[None, :]

    # sinusoids: radial lines from the central vein, about one plate apart; they branch outward where
    # the circumference makes room for twice as many (6 * 2^k lines at radius r)
    dy = _upscale(cv_offset[0], s) + py
    dx = _upscale(cv_offset[1], s) + px
    r = np.hypot(dy, dx)
    n = 6.0 * np.exp2(np.floor(np.log2(np.maximum(2 * np.pi * r / (6 * _SINUS_SPACING), 1.0))))
    # a gentle wave, different in each lobule (phase from its central vein's position)
    cy = np.round(_upscale(origin[0] + np.arange(ny)[:, None] + 0.5 - cv_offset[0], s))
    cx = np.round(_upscale(origin[1] + np.arange(nx)[None, :] + 0.5 - cv_offset[1], s))
    phase = np.sin(cy * 12.9898 + cx * 78.233) * 43758.5453
    t = np.arctan2(dy, dx) / (2 * np.pi) * n + 0.22 * np.sin(0.55 * r + phase)
    d_line = np.abs((t + 0.5) % 1.0 - 0.5) * (2 * np.pi * r / n)
    # open (not collapsed, not cut tangentially) at about four sites in five
    plates = _upscale(par & (hep != kn.HEP_EMPTY) & (a < 0.45) & (rng.random((ny, nx)) < 0.8), s)
    sinus = 0.7 * _soft(_SINUS_WIDTH / 2 - d_line, s) * plates
    del dy, dx, r, n, cy, cx, phase, t, d_line
    _blend(img, sinus.astype(np.float32), _SINUS)

    # per-site nucleus position, size and visibility (a 5-um section cuts about 3 in 4 nuclei)
    jy, jx = (rng.uniform(-0.2, 0.2, (2, ny, nx))).astype(np.float32)
    seen = rng.random((ny, nx)) < 0.78
    hep_nuc = par & (hep != kn.HEP_EMPTY) & (a < 0.6) & seen
    rad = np.where(hep == kn.HEP_DIVIDING, 0.27, 0.2).astype(np.float32)
    # distance of each pixel from its site's nucleus position (red cells in the veins sit there too)
    d_nuc = np.hypot(py - _upscale(jy, s), px - _upscale(jx, s))
    alpha = _soft(_upscale(rad, s) - d_nuc, s) * _upscale(hep_nuc, s) * (1.0 - sinus)
    _blend(img, alpha, np.where(_upscale(hep == kn.HEP_DIVIDING, s)[..., None], _HEMA_DARK, _HEMA))
    del alpha

    # small dark nuclei beside the plates: Kupffer cells and macrophages, activated stellate cells and
    # fibroblasts in scar (spindles), lymphocytes in portal tracts (more where inflammation is)
    stroma = st == PORTAL_STROMA
    lymph = stroma & (rng.random((ny, nx)) < np.where(mac == kn.MAC_M1, 0.6, 0.12))
    spindle = ((hsc == kn.HSC_A) | ((a > 0.5) & (rng.random((ny, nx)) < 0.18))) & ~lumen
    small = ((mac != kn.MAC_NONE) & ~lumen) | lymph | spindle
    ang = rng.uniform(0, 2 * np.pi, (ny, nx)).astype(np.float32)
    oy, ox = (0.3 * np.sin(ang)).astype(np.float32), (0.3 * np.cos(ang)).astype(np.float32)
    qy, qx = py - _upscale(oy, s), px - _upscale(ox, s)
    cs, sn = _upscale(np.cos(ang + 1.2), s), _upscale(np.sin(ang + 1.2), s)
    along, across = qx * cs + qy * sn, -qx * sn + qy * cs
    long = _upscale(np.where(spindle, 0.3, 0.14).astype(np.float32), s)
    dist = np.hypot(along / long, across / 0.12)
    alpha = _soft((1.0 - dist) * 0.12, s) * _upscale(small, s)
    _blend(img, alpha.astype(np.float32), _HEMA_DARK)
    del qy, qx, cs, sn, along, across, long, dist, alpha

    # red cells in the portal veins and central veins
    rbc = np.isin(st, (PORTAL_VEIN, CV_LUMEN)) & (rng.random((ny, nx)) < 0.3)
    _blend(img, (_soft(0.3 - d_nuc, s) * _upscale(rbc, s)).astype(np.float32), _RBC)


def save_png(path: str | Path, img: np.ndarray) -> Path:
    """Write an RGB array as PNG atomically."""
    from PIL import Image

    from ..io.atomic import atomic_path

    with atomic_path(path) as tmp:
        Image.fromarray(img).save(tmp, format="PNG")
    return Path(path)


def snapshot_label(name: str, day: float, cpa: float) -> str:
    """Caption of a snapshot picture: scenario, day and the section's collagen proportionate area."""
    # no-break spaces keep "day 169" and "CPA 12.3%" on one line when the caption wraps
    return f"{name}: day\u00a0{day:g}, CPA\u00a0{cpa:.1f}% (research software, not clinical advice)"


def scale_bar(um_per_px: float, width_px: int) -> tuple[float, int]:
    """A round length (1, 2 or 5 x 10^k um) at most a quarter of the picture's width; (um, pixels)."""
    target = max(um_per_px, width_px * um_per_px / 4)
    k = np.floor(np.log10(target))
    um = max(m * 10.0 ** k for m in (1, 2, 5) if m * 10.0 ** k <= target)
    return float(um), max(1, round(um / um_per_px))


@functools.cache
def _font(size: int):
    import matplotlib
    from PIL import ImageFont

    # matplotlib's own DejaVu Sans: the same glyphs (and so the same pixels) on every machine
    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"), size)


def _wrap(text: str, font, width: float) -> list[str]:
    lines: list[str] = []
    for word in filter(None, text.split(" ")):     # not at no-break spaces
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def caption_layout(label: str, width_px: int) -> tuple[int, list[str]]:
    """Font size and lines of `label` wrapped to a picture `width_px` wide: the size shrinks (down to 7 px)
    until every word fits on a line."""
    inner = width_px - 2 * _MARGIN
    size = int(np.clip(width_px / 45, 9, 16))
    while True:
        font = _font(size)
        lines = _wrap(label, font, inner)
        if size <= 7 or all(font.getlength(line) <= inner for line in lines):
            return size, lines
        size -= 1


_MARGIN = 4


def annotate(img: np.ndarray, label: str, um_per_px: float, *, lines: int | None = None) -> np.ndarray:
    """The picture with a white band below it: `label` wrapped to the picture's width and a scale bar in
    micrometres (`um_per_px` micrometres per pixel). The picture's own pixels are not touched; `lines`
    (at least the caption's) fixes the band's height, so the frames of a time-lapse match."""
    from PIL import Image, ImageDraw

    h, w = img.shape[:2]
    size, text = caption_layout(label, w)
    font = _font(size)
    line_h = size + 3
    n = max(len(text), lines or 0)
    band = _MARGIN + n * line_h + 2 + line_h + _MARGIN     # caption lines, then the scale-bar row
    out = Image.new("RGB", (w, h + band), (255, 255, 255))
    out.paste(Image.fromarray(img), (0, 0))
    draw = ImageDraw.Draw(out)
    y = h + _MARGIN
    for line in text:
        draw.text((_MARGIN, y), line, fill=(0, 0, 0), font=font)
        y += line_h
    um, px = scale_bar(um_per_px, w)
    y = h + _MARGIN + n * line_h + 2
    bar_h = max(2, size // 4)
    draw.rectangle((_MARGIN, y + (line_h - bar_h) // 2, _MARGIN + px - 1, y + (line_h + bar_h) // 2 - 1),
                   fill=(0, 0, 0))
    draw.text((_MARGIN + px + 4, y), f"{um / 1000:g} mm" if um >= 1000 else f"{um:g} µm", fill=(0, 0, 0),
              font=font)
    return np.asarray(out)


def save_timelapse(path: str | Path, frames: list[np.ndarray], labels: list[str], *, um_per_px: float,
                   fps: float = 4.0) -> Path:
    """Animated GIF (Pillow) of the frames, each with its label wrapped to the frame's width and a scale bar
    (`um_per_px` micrometres per pixel); every frame has the same caption band."""
    from PIL import Image

    from ..io.atomic import atomic_path

    w = frames[0].shape[1]
    lines = max(len(caption_layout(lab, w)[1]) for lab in labels)
    pics = [Image.fromarray(annotate(f, lab, um_per_px, lines=lines)) for f, lab in zip(frames, labels, strict=True)]
    with atomic_path(path) as tmp:
        pics[0].save(tmp, format="GIF", save_all=True, append_images=pics[1:], duration=round(1000 / fps), loop=0)
    return Path(path)

