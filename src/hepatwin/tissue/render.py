"""Histology-like pictures: Sirius-red (collagen red on pale yellow parenchyma) and H&E.

Colours are flat approximations of stained sections; each lattice site becomes `scale` x `scale`
pixels, with a nucleus dot per cell when `scale` >= 3.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import kernels as kn
from .geometry import BILE_DUCT, CV_LUMEN, HEP_ARTERY, PORTAL_VEIN, Geometry

_PALE = np.array([243, 229, 178], np.float32)      # picric-acid yellow parenchyma
_RED = np.array([176, 18, 42], np.float32)          # Sirius red on collagen
_LUMEN = np.array([250, 248, 245], np.float32)
_EOSIN = np.array([222, 122, 168], np.float32)      # hepatocyte cytoplasm
_EOSIN_PALE = np.array([240, 170, 200], np.float32)
_FIBROUS = np.array([250, 218, 228], np.float32)    # collagen in H&E: pale, glassy pink
_HEMA = np.array([88, 40, 120], np.float32)         # nuclei
_RBC = np.array([214, 70, 80], np.float32)


def _upscale(img: np.ndarray, scale: int) -> np.ndarray:
    return np.repeat(np.repeat(img, scale, axis=0), scale, axis=1) if scale > 1 else img


def _texture(shape, seed: int = 0, amp: float = 6.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, amp, shape).astype(np.float32)[..., None]


def sirius_red(geom: Geometry, collagen_total: np.ndarray, c_sat: float, *, scale: int = 1,
               seed: int = 0) -> np.ndarray:
    """RGB uint8 image: red intensity grows with local collagen."""
    a = np.clip(collagen_total / c_sat, 0.0, 1.0)[..., None] ** 0.8
    img = _PALE * (1 - a) + _RED * a
    lumen = np.isin(geom.structure, (CV_LUMEN, PORTAL_VEIN, HEP_ARTERY, BILE_DUCT))
    img[lumen] = _LUMEN
    img = _upscale(img, scale)
    img = img + _texture(img.shape[:2], seed, 5.0)
    return np.clip(img, 0, 255).astype(np.uint8)


def hematoxylin_eosin(geom: Geometry, cell: np.ndarray, collagen_total: np.ndarray, c_sat: float, *,
                      scale: int = 3, seed: int = 0) -> np.ndarray:
    """RGB uint8 H&E-like image: pink cytoplasm, purple nuclei, pale pink fibrous septa, white lumens."""
    hep = cell & 3
    mac = (cell >> 4) & 3
    hsc = (cell >> 2) & 3
    a = np.clip(collagen_total / c_sat, 0.0, 1.0)[..., None]
    base = np.where((hep == kn.HEP_INJURED)[..., None], _EOSIN_PALE, _EOSIN)
    base = np.where((hep == kn.HEP_EMPTY)[..., None], _LUMEN * 0.97, base)
    img = base * (1 - a) + _FIBROUS * a
    lumen = np.isin(geom.structure, (CV_LUMEN, PORTAL_VEIN, HEP_ARTERY, BILE_DUCT))
    img[lumen] = _LUMEN
    img[geom.structure == BILE_DUCT] = _EOSIN * 0.85
    img = _upscale(img, scale)
    if scale >= 3:
        c = scale // 2
        nuc = np.zeros(hep.shape, bool)
        nuc |= (hep == kn.HEP_HEALTHY) | (hep == kn.HEP_DIVIDING) | (hep == kn.HEP_INJURED)
        dark = (mac != kn.MAC_NONE) | (hsc == kn.HSC_A) | (collagen_total > 0.5 * c_sat)
        ys, xs = np.nonzero(nuc | dark)
        w = np.where(dark[ys, xs], 1.0, 0.8)[:, None]
        img[ys * scale + c, xs * scale + c] = _HEMA * w + img[ys * scale + c, xs * scale + c] * (1 - w)
        rbc = np.isin(geom.structure, (PORTAL_VEIN, CV_LUMEN))
        rng = np.random.default_rng(seed)
        ys, xs = np.nonzero(rbc & (rng.random(hep.shape) < 0.25))
        img[ys * scale + c, xs * scale + c] = _RBC
    img = img + _texture(img.shape[:2], seed + 1, 4.0)
    return np.clip(img, 0, 255).astype(np.uint8)


def save_png(path: str | Path, img: np.ndarray) -> Path:
    """Write an RGB array as PNG atomically."""
    from PIL import Image

    from ..io.atomic import atomic_path

    with atomic_path(path) as tmp:
        Image.fromarray(img).save(tmp, format="PNG")
    return Path(path)


def save_timelapse(path: str | Path, frames: list[np.ndarray], labels: list[str], *, fps: float = 4.0) -> Path:
    """Animated GIF (matplotlib's PillowWriter: no extra dependency) of frames with a day label."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.animation import PillowWriter

    from ..io.atomic import atomic_path

    h, w = frames[0].shape[:2]
    dpi = 100
    fig = plt.figure(figsize=(w / dpi, h / dpi + 0.3), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, h / (h + 30)))
    ax.axis("off")
    im = ax.imshow(frames[0], interpolation="nearest")
    txt = fig.text(0.01, 0.995, labels[0], va="top", ha="left", fontsize=9)
    writer = PillowWriter(fps=fps)
    with atomic_path(path) as tmp:
        gif = tmp.with_suffix(".gif")
        with writer.saving(fig, str(gif), dpi):
            for f, lab in zip(frames, labels, strict=True):
                im.set_data(f)
                txt.set_text(lab)
                writer.grab_frame()
        gif.replace(tmp)
    plt.close(fig)
    return Path(path)
