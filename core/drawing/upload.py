"""Read an uploaded image file safely: bounded memory, every common kind, plain errors.

An upload is untrusted: a 20 KB PNG can declare 13000x13000 pixels and a small text
chunk can inflate to megabytes. So the size is checked from the header before any pixel
is decoded, big images are reduced while (JPEG) or right after (others) decoding, and
every failure becomes one ``UploadError`` whose message is a single sentence for a
student, with no path, class name or object in it (the original stays as its cause,
for the server log).

Limits and where they come from:

- MAX_UPLOAD_BYTES, 5 MiB: ``server.maxUploadSize = 5`` in .streamlit/config.toml
  (Streamlit counts megabytes as 1024 * 1024 bytes); a phone photo is 2-4 MB.
- MAX_SIDE 10000 px and MAX_PIXELS 40 megapixels, checked from the header: above what
  phone cameras save by default (12-24 megapixels), far below Pillow's own bomb limit
  (89 megapixels only warns; 179 raises). A baseline JPEG that large costs little, as
  libjpeg scales it down while decoding; other kinds meet MAX_DECODE_BYTES first.
- MAX_DECODE_BYTES, 40 MiB: what Pillow may allocate at full resolution before the
  image is reduced, from the per-pixel costs below (peak resident memory measured on
  Pillow 12.3). With the reduced image and ``to_mnist`` on it, no upload grows the
  process by more than about 50 MB (tests/test_upload.py measures it: 42 MB for the
  largest allowed RGB PNG, 15 MB for a 4000x3000 JPEG photo): a class of 30 uploading
  at the same moment needs about 1.5 GB, what one training process takes (1.2-1.7 GB
  measured), not the 6.9 GB one 20 KB file took.
- TARGET_SIDE 1000 px: the longer side after reduction. The digit ends as 20x20 pixels,
  so even a digit a tenth of the photo's height keeps 5 source pixels per output pixel.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin

from core.drawing.preprocess import flatten_alpha

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_SIDE = 10_000
MAX_PIXELS = 40_000_000
MAX_DECODE_BYTES = 40 * 1024 * 1024
TARGET_SIDE = 1000

# The kinds the Draw page's uploader offers. Naming them stops Pillow from trying its
# other plugins on a renamed file (EPS would start Ghostscript, TIFF has many decoders).
FORMATS = ("PNG", "JPEG", "BMP", "WEBP")
_NAMES = {"PNG": "PNG", "JPEG": "JPEG", "BMP": "BMP", "WEBP": "WebP"}

# Bytes per full-resolution pixel before reduction, measured on 4000x3000 images: the
# decoded image (Pillow keeps "LA", "RGB" and "RGBA" at 4 bytes a pixel) plus the copy
# the reduction needs ("1" and "P" become "L" first, "LA" and "RGBA" are premultiplied,
# 16-bit images are resized in two passes). Other modes: 8, to be safe.
_BYTES_PER_PIXEL = {"1": 2, "L": 1, "P": 2, "LA": 8, "RGB": 4, "RGBA": 8, "CMYK": 4,
                    "I;16": 3, "I;16B": 3, "I;16L": 3, "I": 4, "F": 4}
# With a transparent colour (a tRNS chunk) the image becomes "LA" or "RGBA" first: a
# 4-byte copy, premultiplied for the reduction: 4 more.
_BYTES_PER_PIXEL_TRANSPARENT = {"1": 9, "L": 9, "P": 9, "RGB": 12}
# libwebp's animation decoder (Pillow's only WebP path) keeps two full RGBA canvases and
# Pillow copies the frame into bytes, then into the image: 15.7 bytes a pixel measured.
_WEBP_BYTES_PER_PIXEL = 17
# libjpeg's DCT coefficient: a 16-bit integer (JCOEF).
_COEFFICIENT_BYTES = 2
# Pillow keeps up to 64 MB of PNG text chunks by default (each up to 1 MB inflated):
# a 70 KB file could fill it. 4 MB is far above any real photo's metadata. This sets a
# module variable of Pillow's PNG plugin, the knob Pillow documents for it.
PngImagePlugin.MAX_TEXT_MEMORY = min(PngImagePlugin.MAX_TEXT_MEMORY, 4 * 1024 * 1024)

UNREADABLE = ("This file could not be read as an image: it may be damaged or not a PNG, "
              "JPEG, BMP or WebP file.")


class UploadError(ValueError):
    """An upload that cannot or must not be read; ``str()`` is one sentence to show."""


def read_image(data: bytes) -> np.ndarray:
    """Decode an uploaded PNG, JPEG, BMP or WebP file into a grayscale image.

    Args:
        data: the file's bytes, at most MAX_UPLOAD_BYTES.

    Returns:
        (H, W) float32 in [0, 1], 0 black, upright (EXIF orientation applied), the
        longer side at most TARGET_SIDE pixels (images larger than that are reduced by
        averaging whole blocks of pixels, so 500 < longer side <= 1000). Colour becomes
        ITU-R BT.601 luma; a transparent background is laid on paper of the opposite
        brightness to the ink (``preprocess.flatten_alpha``); 16-bit and float images
        are scaled by their own range (darkest 0, brightest 1; a flat one is all 0).
        Ready for ``preprocess.to_mnist``.

    Raises:
        UploadError: the file is empty, larger than MAX_UPLOAD_BYTES, not one of
            FORMATS, damaged or truncated, declares more than MAX_SIDE pixels a side or
            MAX_PIXELS in all, or would need more than MAX_DECODE_BYTES to decode. Its
            message is one sentence fit to show a student.
    """
    if not data:
        raise UploadError("This file is empty: choose a photo or a drawing of a digit.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"This file is {len(data) / 2**20:.1f} MB, over the "
                          f"{MAX_UPLOAD_BYTES // 2**20} MB limit: please upload a smaller one.")
    try:
        small = _open_reduced(data)
        return _gray(ImageOps.exif_transpose(small))
    except UploadError:
        raise
    except Image.DecompressionBombError as exc:
        raise UploadError(f"This image has far more than {MAX_PIXELS // 10**6} megapixels: "
                          "please upload a smaller one.") from exc
    # Pillow's plugins raise many types on malformed input (OSError, ValueError,
    # SyntaxError, EOFError, struct.error, IndexError, ...): all mean "not readable".
    except Exception as exc:
        raise UploadError(UNREADABLE) from exc


def _open_reduced(data: bytes) -> Image.Image:
    """Open, check the size and the decoding cost, then decode reduced. The full-size
    image (and WebP's decoder) is freed on return, before any further copy is made."""
    with Image.open(io.BytesIO(data), formats=FORMATS) as img:
        width, height = img.size  # from the header: nothing is decoded yet
        if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
            raise UploadError(f"This image is {width} x {height} pixels, over the limit of "
                              f"{MAX_SIDE} pixels a side and {MAX_PIXELS // 10**6} megapixels: "
                              "please upload a smaller one.")
        factor = math.ceil(max(width, height) / TARGET_SIDE)
        cost = 0
        if img.format == "JPEG":
            cost = _jpeg_coefficient_bytes(img, data)
            # libjpeg decodes straight to 1/2, 1/4 or 1/8 scale, and to gray: a big
            # photo never exists at full size.
            target = (math.ceil(width / factor), math.ceil(height / factor))
            img.draft("L" if img.mode in ("L", "RGB") else img.mode, target if factor > 1 else None)
        cost += _decode_bytes(img)
        if cost > MAX_DECODE_BYTES:
            limit = width * height * MAX_DECODE_BYTES / cost / 10**6
            advice = "shrink it" if img.format == "JPEG" else "shrink it or save it as a JPEG photo"
            raise UploadError(f"This {_NAMES.get(img.format, 'image')} file is {width} x {height} "
                              f"pixels, more than can be read safely in its kind of file (about "
                              f"{limit:.1f} megapixels): please {advice}.")
        return _shrink(img, math.ceil(max(img.size) / TARGET_SIDE))


def _jpeg_coefficient_bytes(img: Image.Image, data: bytes) -> int:
    """What libjpeg buffers for a progressive or multi-scan JPEG, whatever the draft
    scale: the whole image as DCT coefficients, one per pixel of each component. 0 for
    a single-scan JPEG, decoded a few rows at a time. Call before ``draft``."""
    # Pillow stops reading the header right after the first start-of-scan marker, and
    # entropy-coded data never holds 0xFFDA (a data 0xFF is written 0xFF00), so another
    # one starts a second scan (or an appended image, counted too, to be safe).
    if data.find(b"\xff\xda", img.fp.tell()) < 0:
        return 0
    samples = [h * v for _, h, v, _ in img.layer]
    return round(_COEFFICIENT_BYTES * img.size[0] * img.size[1] * sum(samples) / max(samples))


def _decode_bytes(img: Image.Image) -> int:
    """Bytes Pillow allocates at full (JPEG: draft) resolution to decode and reduce."""
    pixels = img.size[0] * img.size[1]
    if img.format == "WEBP":
        return _WEBP_BYTES_PER_PIXEL * pixels
    if _promotes_alpha(img):
        return _BYTES_PER_PIXEL_TRANSPARENT[img.mode] * pixels
    return _BYTES_PER_PIXEL.get(img.mode, 8) * pixels


def _promotes_alpha(img: Image.Image) -> bool:
    return img.mode in _BYTES_PER_PIXEL_TRANSPARENT and "transparency" in img.info


def _shrink(img: Image.Image, factor: int) -> Image.Image:
    """Decode and average factor x factor blocks; modes reduce() cannot take go first to
    ones it can ("1" and "P" to "L", a transparent colour to an alpha channel)."""
    if _promotes_alpha(img):
        img = img.convert("RGBA" if img.mode == "RGB" else "LA")
    elif img.mode in ("1", "P"):
        img = img.convert("L")
    elif img.mode.startswith("I;16"):
        # reduce() refuses 16-bit images; a box resize averages the same blocks.
        size = (math.ceil(img.size[0] / factor), math.ceil(img.size[1] / factor))
        return img.resize(size, Image.Resampling.BOX)
    elif img.mode not in ("L", "LA", "RGB", "RGBA", "CMYK", "I", "F"):
        img = img.convert("RGBA")
    return img.reduce(factor)


def _gray(img: Image.Image) -> np.ndarray:
    """Reduced image -> (H, W) float32 in [0, 1]."""
    if img.mode in ("I", "F") or img.mode.startswith("I;16"):
        # Scale by the actual range: an "L" conversion clips 16-bit values to white.
        values = np.nan_to_num(np.asarray(img, dtype=np.float32))
        low, high = float(values.min()), float(values.max())
        if high <= low:
            return np.zeros(values.shape, np.float32)
        return ((values - low) / (high - low)).astype(np.float32)
    luma = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    if img.mode in ("LA", "RGBA"):
        alpha = np.asarray(img.getchannel("A"), dtype=np.float32) / 255.0
        return flatten_alpha(luma, alpha).astype(np.float32)
    return luma
