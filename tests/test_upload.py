"""Uploads on the Draw page: hostile files are refused in bounded memory with one plain
sentence, every common kind of image reads right, and a dot or a scribble gets its hint."""

import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from core.drawing.preprocess import NoInkError, ScribbleError, SpeckError, to_mnist
from core.drawing.upload import MAX_UPLOAD_BYTES, UploadError, read_image

ROOT = Path(__file__).resolve().parent.parent
MEMORY_LIMIT_MB = 50
# Pillow warns about the 169-megapixel file on opening it; refusing it is the point.
pytestmark = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")


def encode(img: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def after_ihdr(png: bytes, chunks: bytes) -> bytes:
    # 8-byte signature, then IHDR: 4 length + 4 type + 13 data + 4 CRC.
    return png[:33] + chunks + png[33:]


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


@pytest.fixture(scope="module")
def ink(mnist):
    """MNIST test digit 0 (a 7) as dark ink on white paper: (280, 280) uint8."""
    digit = Image.fromarray(mnist.x_test[0]).resize((280, 280), Image.BILINEAR)
    return 255 - np.asarray(digit)


@pytest.fixture(scope="module")
def photo_jpeg(ink):
    """A 4000x3000 JPEG photo: the digit, 1500 pixels tall, on grainy grey paper."""
    rng = np.random.default_rng(0)
    paper = Image.fromarray(rng.integers(190, 230, (300, 400), dtype=np.uint8)).resize((4000, 3000))
    digit = Image.fromarray(ink).resize((1500, 1500), Image.BILINEAR)
    paper.paste(digit, (1250, 750), Image.fromarray(255 - np.asarray(digit)))
    return encode(paper.convert("RGB"), "JPEG", quality=90)


@pytest.fixture(scope="module")
def hostile(ink):
    """Files an attacker or a broken phone could send, by name."""
    png, jpeg = encode(Image.fromarray(ink), "PNG"), encode(Image.fromarray(ink), "JPEG")
    bomb = encode(Image.new("1", (13000, 13000)), "PNG")
    assert len(bomb) < 30_000  # 169 megapixels in about 20 KB
    inflating = zlib.compress(bytes(20_000_000), 9)  # 20 MB of zeros in about 20 KB
    one_mb = zlib.compress(bytes(1_000_000), 9)
    return {
        "13000x13000 1-bit PNG": bomb,
        "PNG with a 20 MB zTXt chunk": after_ihdr(png, png_chunk(b"zTXt", b"Comment\0\0" + inflating)),
        "PNG with a 20 MB iCCP chunk": after_ihdr(png, png_chunk(b"iCCP", b"icc\0\0" + inflating)),
        "PNG with 100 zTXt chunks of 1 MB": after_ihdr(png, b"".join(
            png_chunk(b"zTXt", b"C%d\0\0" % i + one_mb) for i in range(100))),
        "10000x4000 progressive JPEG": encode(Image.new("L", (10000, 4000), 255), "JPEG", progressive=True),
        "6000x6000 WebP": encode(Image.new("RGB", (6000, 6000), "white"), "WEBP", lossless=True),
        "truncated PNG": png[: len(png) // 2],
        "truncated JPEG": jpeg[: len(jpeg) // 2],
        "random bytes": np.random.default_rng(0).bytes(20_000),
        "empty file": b"",
        "text file": b"This is not an image.\n" * 50,
        "file over the size limit": bytes(MAX_UPLOAD_BYTES + 1),
    }


HOSTILE = ["13000x13000 1-bit PNG", "PNG with a 20 MB zTXt chunk", "PNG with a 20 MB iCCP chunk",
           "PNG with 100 zTXt chunks of 1 MB", "10000x4000 progressive JPEG", "6000x6000 WebP",
           "truncated PNG", "truncated JPEG", "random bytes", "empty file", "text file",
           "file over the size limit"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_file_gives_one_plain_sentence(hostile, name):
    with pytest.raises(UploadError) as caught:
        read_image(hostile[name])
    message = str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert message.endswith(".") and ". " not in message and "\n" not in message, message
    for leak in ("<", ">", "/", "\\", "PIL", "Error", "Exception", "Traceback", "0x", "self."):
        assert leak not in message, message


def test_pillow_itself_fails_on_the_text_chunk(hostile):
    # The file is what the issue describes: Pillow's own open raises "too large".
    with pytest.raises(ValueError, match="Decompressed data too large"):
        Image.open(io.BytesIO(hostile["PNG with a 20 MB zTXt chunk"]))


def test_too_large_messages_name_the_size(hostile):
    with pytest.raises(UploadError, match="13000 x 13000 pixels.*10000 pixels a side"):
        read_image(hostile["13000x13000 1-bit PNG"])
    with pytest.raises(UploadError, match=r"5\.0 MB, over the 5 MB limit"):
        read_image(hostile["file over the size limit"])


# Peak memory of a fresh interpreter, from /proc/self/status VmHWM: the high-water mark of
# the process's own memory. (ru_maxrss would not do: Linux carries it over exec, so a
# child of this test process would report pytest's own peak.)
MEASURE = """
import sys
import numpy, PIL.Image, core.drawing.upload, core.drawing.preprocess
PIL.Image.init()

def high_water_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

data = open(sys.argv[1], "rb").read()
before = high_water_kib()
try:
    core.drawing.preprocess.to_mnist(core.drawing.upload.read_image(data))
    outcome = "read"
except ValueError as exc:
    outcome = type(exc).__name__
print(outcome, (high_water_kib() - before) / 1024)
"""


def peak_growth_mb(tmp_path: Path, data: bytes) -> tuple[str, float]:
    """Read ``data`` in a fresh interpreter: (outcome, peak memory growth in MiB)."""
    if not Path("/proc/self/status").exists():
        pytest.skip("needs Linux's /proc to measure peak memory")
    path = tmp_path / "upload"
    path.write_bytes(data)
    done = subprocess.run([sys.executable, "-c", MEASURE, str(path)], cwd=ROOT, capture_output=True,
                          text=True, check=True, timeout=120)
    outcome, growth = done.stdout.split()
    return outcome, float(growth)


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_file_memory_stays_bounded(hostile, tmp_path, name):
    outcome, growth = peak_growth_mb(tmp_path, hostile[name])
    print(f"\n{name}: {outcome}, peak memory growth {growth:.1f} MB")
    assert outcome == "UploadError"
    assert growth < MEMORY_LIMIT_MB


def near_limit_files(photo_jpeg):
    """The largest images of each costly kind that are still read (core.drawing.upload's limits)."""
    def page(width, height):
        paper = np.full((height, width), 255, np.uint8)
        paper[height // 4: 3 * height // 4, width // 2 - width // 30: width // 2 + width // 30] = 0
        return Image.fromarray(paper)

    yield "4000x3000 JPEG photo", photo_jpeg
    yield "4000x3000 progressive JPEG", encode(page(4000, 3000).convert("RGB"), "JPEG", progressive=True)
    yield "10000x4000 grayscale PNG", encode(page(10000, 4000), "PNG")
    yield "3600x2900 RGB PNG", encode(page(3600, 2900).convert("RGB"), "PNG")
    yield "2280x2280 RGBA PNG", encode(page(2280, 2280).convert("RGBA"), "PNG")
    yield "1570x1570 WebP", encode(page(1570, 1570).convert("RGB"), "WEBP", lossless=True)


def test_large_allowed_images_stay_bounded(photo_jpeg, tmp_path):
    for name, data in near_limit_files(photo_jpeg):
        outcome, growth = peak_growth_mb(tmp_path, data)
        print(f"\n{name}: {outcome}, peak memory growth {growth:.1f} MB")
        assert outcome == "read", name
        assert 5 < growth < MEMORY_LIMIT_MB, name  # more than 5: the probe does measure


def test_large_photo_is_reduced_while_decoding(photo_jpeg, ink):
    gray = read_image(photo_jpeg)
    assert gray.shape == (750, 1000) and gray.dtype == np.float32
    assert correlation(to_mnist(gray), to_mnist(ink)) > 0.9


@pytest.fixture(scope="module")
def kinds(ink):
    """The digit saved as every kind of file a student might upload, by name: (file, the
    mode Pillow opens it in)."""
    dark = Image.fromarray(ink)
    wide = ink.astype(np.uint16)
    cutout_alpha = Image.fromarray(255 - ink)  # opaque ink, transparent paper
    hidden_black = Image.new("L", dark.size, 0)  # the colour under the transparent paper
    palette = Image.fromarray((ink < 128).astype(np.uint8), "L").convert("P")
    palette.putpalette([0, 0, 0, 20, 20, 20])  # index 0: paper (transparent black), 1: ink
    return {
        "L PNG": (encode(dark, "PNG"), "L"),
        "1-bit PNG": (encode(dark.convert("1"), "PNG"), "1"),
        "16-bit PNG": (encode(Image.fromarray(wide * 257), "PNG"), "I;16"),
        "12-bit values in a 16-bit PNG": (encode(Image.fromarray(wide * 16), "PNG"), "I;16"),
        "palette PNG": (encode(dark.convert("RGB").convert("P"), "PNG"), "P"),
        "palette PNG, transparent paper": (encode(palette, "PNG", transparency=0), "P"),
        "LA PNG, transparent paper": (encode(Image.merge("LA", [hidden_black, cutout_alpha]), "PNG"), "LA"),
        "RGBA PNG, transparent paper": (
            encode(Image.merge("RGBA", [hidden_black] * 3 + [cutout_alpha]), "PNG"), "RGBA"),
        "RGB JPEG": (encode(dark.convert("RGB"), "JPEG", quality=90), "RGB"),
        "CMYK JPEG": (encode(dark.convert("CMYK"), "JPEG", quality=90), "CMYK"),
        "BMP": (encode(dark.convert("RGB"), "BMP"), "RGB"),
        "WebP": (encode(dark.convert("RGB"), "WEBP", quality=90), "RGB"),
    }


KINDS = ["L PNG", "1-bit PNG", "16-bit PNG", "12-bit values in a 16-bit PNG", "palette PNG",
         "palette PNG, transparent paper", "LA PNG, transparent paper", "RGBA PNG, transparent paper",
         "RGB JPEG", "CMYK JPEG", "BMP", "WebP"]


@pytest.mark.parametrize("name", KINDS)
def test_every_kind_reads_as_the_same_digit(kinds, ink, name):
    data, mode = kinds[name]
    assert Image.open(io.BytesIO(data)).mode == mode  # the file is the kind it says
    gray = read_image(data)
    assert gray.shape == (280, 280) and gray.dtype == np.float32
    assert 0.0 <= gray.min() and gray.max() <= 1.0
    assert correlation(to_mnist(gray), to_mnist(ink)) > 0.9


def test_exif_orientation_is_applied(ink):
    upright = encode(Image.fromarray(ink).convert("RGB"), "JPEG", quality=90)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display": stored turned the other way
    stored = Image.fromarray(ink).convert("RGB").transpose(Image.Transpose.ROTATE_90)
    turned = encode(stored, "JPEG", quality=90, exif=exif)
    reference = to_mnist(read_image(upright))
    assert correlation(to_mnist(read_image(turned)), reference) > 0.9
    assert correlation(to_mnist(np.asarray(stored)), reference) < 0.5  # the test can tell


def test_flat_16_bit_image_is_blank_not_an_error():
    flat = encode(Image.fromarray(np.full((64, 64), 40000, np.uint16)), "PNG")
    gray = read_image(flat)
    assert gray.max() == 0.0
    with pytest.raises(NoInkError):
        to_mnist(gray)


# The Draw page's canvas: 280x280, white 22-pixel pen on black.
def canvas(draw) -> np.ndarray:
    img = Image.new("L", (280, 280), 0)
    draw(ImageDraw.Draw(img))
    return np.asarray(img)


def stroke(points):
    def draw(pen):
        pen.line(points, fill=255, width=22, joint="curve")
        for x, y in points:
            pen.ellipse([x - 11, y - 11, x + 11, y + 11], fill=255)
    return draw


def test_a_tap_or_a_speck_gets_the_dot_hint():
    for dot in (canvas(stroke([(140, 140)])),             # one tap of the pen
                canvas(stroke([(130, 140), (150, 150)])),  # a tap with a little drag
                canvas(lambda pen: pen.ellipse([100, 100, 104, 104], fill=255))):  # a speck
        with pytest.raises(SpeckError, match="bigger digit"):
            to_mnist(dot)


def test_blank_is_not_a_dot():
    with pytest.raises(NoInkError) as caught:
        to_mnist(canvas(lambda pen: None))
    assert not isinstance(caught.value, SpeckError)


def test_small_thin_digit_in_a_big_photo_is_not_a_dot(ink):
    paper = np.full((750, 1000), 220, np.uint8)
    paper[300:400, 450:550] = np.asarray(Image.fromarray(ink).resize((100, 100), Image.BILINEAR))
    assert correlation(to_mnist(paper), to_mnist(ink)) > 0.9


def scribble(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return canvas(stroke([tuple(int(v) for v in rng.integers(-20, 300, 2)) for _ in range(40)]))


@pytest.mark.parametrize("name, image", [
    ("a filled block, 60% of the canvas", canvas(lambda pen: pen.rectangle([30, 30, 246, 246], fill=255))),
    ("a random scribble", scribble(0)),
    ("another random scribble", scribble(3)),
    ("a zigzag from edge to edge", canvas(stroke([(0 if i % 2 else 280, 20 * i) for i in range(15)]))),
])
def test_a_scribble_over_most_of_the_canvas_gets_its_hint(name, image):
    assert np.mean(image > 127) > 0.5, name  # the ink really covers most of the canvas
    with pytest.raises(ScribbleError, match="covers most"):
        to_mnist(image)


@pytest.mark.parametrize("name, image", [
    ("a big 0", canvas(lambda pen: pen.ellipse([11, 11, 269, 269], outline=255, width=22))),
    ("a big 8", canvas(lambda pen: (pen.ellipse([50, 5, 230, 140], outline=255, width=22),
                                    pen.ellipse([40, 135, 240, 275], outline=255, width=22)))),
    ("a 1 from edge to edge", canvas(stroke([(140, -10), (140, 290)]))),
    ("a 7 with its bar on the top edge", canvas(stroke([(0, 10), (275, 10), (120, 290)]))),
])
def test_thick_canvas_digits_are_not_scribbles_or_dots(name, image):
    assert to_mnist(image).max() > 0.9, name


def test_inkiest_mnist_digits_upscaled_are_not_scribbles_or_dots(mnist):
    x = mnist.x_test
    ink_share = (x >= 51).mean(axis=(1, 2))
    edge_share = np.concatenate([x[:, 0], x[:, -1], x[:, :, 0], x[:, :, -1]], axis=1).mean(axis=1)
    picked = set(np.argsort(-ink_share)[:60]) | set(np.argsort(-edge_share)[:30]) | set(range(30))
    for i in sorted(picked):
        digit = np.asarray(Image.fromarray(x[i]).resize((280, 280), Image.BILINEAR))
        assert to_mnist(digit).max() > 0.5, i
