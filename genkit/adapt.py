"""One input adapter: any image or stream brought onto what a model reads.

Every command that gives images to a model (``gk-sample --at``, ``gk-complete``, ``gk-interp``,
``gk-eval``) passes them through :func:`adapt` with the model's :class:`InputSpec`:

- **size**: the model's training data were made by a centre crop (``prepare="crop"``, the
  Pokemon crops: 40x40 sprites -> centre 20x20) or by scaling the shorter side and a centre crop
  (``prepare="resize"``); an image of another size goes the same way;
- **palette**: colours are mapped onto the model's palette by nearest colour (CIEDE2000, as
  gk-quantize does), whatever palette or RGB they came in;
- **grey models**: grey levels, with the training data's polarity (MNIST: light ink on dark,
  so dark ink on a light page is inverted).

It says once what it did, through ``note`` (one line per kind of change, e.g. ``025MS.png:
40x40 -> centre 20x20; 84 colours mapped onto the model's 167``). Only input that is not an
image is refused, by the readers before it gets here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .io import Stream


@dataclass(frozen=True)
class InputSpec:
    """What a model reads: (height, width) images on ``palette``; ``grey``: the palette is grey
    levels and the ink is ``light_on_dark`` (MNIST) or not. ``resize`` and ``crop`` are what
    its training images had (gk-quantize's, recorded in the checkpoint); without a record,
    ``prepare`` says how other sizes are brought to (height, width): "crop" (a centre crop, as
    the Pokemon crops were cut from the sprites) or "resize" (the shorter side scaled, then a
    centre crop)."""

    height: int
    width: int
    palette: np.ndarray = field(repr=False)
    grey: bool = False
    light_on_dark: bool = True
    prepare: str = "resize"
    resize: int | tuple[int, int] | None = None
    crop: tuple[int, int] | None = None


def adapt(stream: Stream, spec: InputSpec, *, note: Callable[[str], None] | None = None) -> Stream:
    """``stream`` on the model's size and palette (see the module's docstring)."""
    said: list[str] = []
    stream = _to_size(stream, spec, said)
    stream = _grey(stream, spec, said) if spec.grey else _to_palette(stream, spec, said)
    if note and said:
        note(f"{_who(stream)}: {'; '.join(said)}")
    return stream


def _who(stream: Stream) -> str:
    names = stream.names
    if names is None or len(names) == 0:
        return f"{len(stream)} image{'s' if len(stream) != 1 else ''}"
    return str(names[0]) if len(names) == 1 else f"{names[0]} and {len(names) - 1} more"


def _to_size(stream: Stream, spec: InputSpec, said: list[str]) -> Stream:
    from .transforms import center_crop, resize

    H, W = stream.size
    h, w = spec.height, spec.width
    if (H, W) == (h, w):
        return stream
    if spec.resize is not None or spec.crop is not None:  # as the training images were made
        images = stream.rgb()
        if spec.resize is not None:
            images = np.stack([resize(img, spec.resize) for img in images])
        crop = (spec.crop, spec.crop) if isinstance(spec.crop, int) else tuple(spec.crop) if spec.crop is not None else None
        if crop is not None and images.shape[1] >= crop[0] and images.shape[2] >= crop[1]:
            images = np.stack([center_crop(img, crop) for img in images])
        if images.shape[1:3] == (h, w):
            size = "shorter side " + str(spec.resize) if isinstance(spec.resize, int) else \
                (f"{spec.resize[1]}x{spec.resize[0]}" if spec.resize is not None else "")
            said.append(f"{W}x{H} -> " + ", ".join(p for p in (size and f"resized ({size})",
                                                                 crop and f"centre {w}x{h}") if p))
            return _with(stream, images=images)
    if spec.prepare == "crop" and H >= h and W >= w:
        said.append(f"{W}x{H} -> centre {w}x{h}")
        if stream.is_palette:  # palette indices are cropped as they are
            top, left = (H - h) // 2, (W - w) // 2
            return _with(stream, indices=stream.indices[:, top : top + h, left : left + w])
        return _with(stream, images=np.stack([center_crop(img, (h, w)) for img in stream.rgb()]))
    scale = max(h / H, w / W)
    size = (max(h, round(H * scale)), max(w, round(W * scale)))
    said.append(f"{W}x{H} -> scaled to {size[1]}x{size[0]}" + (f", centre {w}x{h}" if size != (h, w) else ""))
    images = [center_crop(resize(img, size), (h, w)) for img in stream.rgb()]
    return _with(stream, images=np.stack(images))


def _to_palette(stream: Stream, spec: InputSpec, said: list[str]) -> Stream:
    from .quantize import map_to_palette, unique_colors

    palette = np.asarray(spec.palette, np.uint8)
    if stream.is_palette and np.array_equal(stream.palette, palette):
        return stream
    rgb = stream.rgb()
    colours = len(stream.palette) if stream.is_palette else len(unique_colors(rgb)[0])
    said.append(f"{colours} colour{'s' if colours != 1 else ''} mapped onto the model's {len(palette)}")
    return _with(stream, indices=map_to_palette(rgb, palette), palette=palette)


def _grey(stream: Stream, spec: InputSpec, said: list[str]) -> Stream:
    palette = np.asarray(spec.palette, np.uint8)
    if stream.is_palette and np.array_equal(stream.palette, palette):
        return stream
    level = stream.rgb().astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    border = np.concatenate([level[:, 0], level[:, -1], level[:, :, 0], level[:, :, -1]], axis=1)
    light_page = np.median(border, axis=1) > 127.5
    flip = light_page if spec.light_on_dark else ~light_page
    if flip.any():
        level[flip] = 255.0 - level[flip]
        ink = "light ink on dark" if spec.light_on_dark else "dark ink on light"
        said.append(f"{int(flip.sum())} of {len(flip)} inverted to the model's {ink}" if len(flip) > 1
                    else f"inverted to the model's {ink}")
    if len(palette) != 256:
        said.append(f"grey levels mapped onto the model's {len(palette)}")
    index = np.abs(level[..., None] - palette[None, None, None, :, 0].astype(np.float32)).argmin(-1)
    return _with(stream, indices=index.astype(np.uint8), palette=palette)


def preparation(meta: dict) -> dict | None:
    """What a stream's images went through to reach their size (gk-quantize's ``resize`` and
    ``crop``, or a data set's crop), as a checkpoint records it; None if nothing is known."""
    prep = {key: meta.get(key) for key in ("resize", "crop") if meta.get(key) is not None}
    return prep or None


def _with(stream: Stream, *, indices=None, images=None, palette=None) -> Stream:
    if indices is not None and palette is None:
        palette = stream.palette
    return Stream(indices=indices, images=images, palette=palette,
                  names=stream.names, labels=stream.labels, meta=dict(stream.meta))
