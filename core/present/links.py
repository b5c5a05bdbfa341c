"""The links that reopen a page's view: which parameters each page keeps in its address
(its query string, ``/inside?index=123``), how a view's state becomes that text and back,
and ``check_link``, which says without Streamlit what is wrong with a link (for a lesson
file's links, say).

Each page with a view worth sharing has a ``Link`` in ``LINKS``: its parameters as
``Field`` s (name in the address, the words a sentence uses for it, the values it takes,
its default). ``Link.encode`` writes only the fields away from their defaults, so a
default page's address stays short; ``Link.decode`` reads an address back and names the
fields it refused (out of range, of the wrong type, an unknown choice, absurdly long),
which keep their defaults: a page then says so in one sentence (``refusal_sentence``),
never a traceback. The Train page's settings are a ``core.config.TrainConfig`` and are
read by ``decode_train`` (``core.config.from_query`` with the page's own choices).

The links, each parameter optional (its default when left out), ``mode=class`` (projector
mode) taken by every page beside them:

- ``/train?dataset=mnist&kind=cnn&epochs=3&layers=[...]``: the data set, the model and the
  settings away from that model's start (``core.config.query_fields``).
- ``/denoising?noise=0.55&digits=3``: the slider's noise level (0 to 1 in steps of 0.05;
  0.40) and which 8 test digits (the n-th set "Other digits" gives, 0 to 999; 0).
- ``/latent?z1=1.25&z2=-0.80&from=123&to=4567&digit=8``: a point of the 2-D map (both
  coordinates or neither, each within ±10 and on the map), the interpolation's two test
  digits by index (0 to 9999) and the conditional VAE's digit (0 to 9; 3).
- ``/inside?model=cnn-1547360b81ec&index=123&method=pgd``: the network (a stored entry with a
  convolution; the MNIST CNN), a test picture by index (0 to 9999; none: the drawing pad)
  and the method that fools it (fgsm or pgd; fgsm).
- ``/mistakes?model=dense_64_64-28f91602434d&data=class&true=4&read=9``: the classifier
  (a stored entry; the seed-0 CNN), which digits (test or class; test) and a cell of the
  confusion matrix (true class and answer, 0 to 9, both or neither; its most frequent mistake).
- ``/compare?preset=dropout`` or ``/compare?runs=<entry>,<entry>``: a ready-made comparison
  (plain_distorted) or 1 to 8 runs picked by hand, not both.
- ``/``, ``/regularization``, ``/draw``, ``/collect``, ``/class_models``, ``/teacher``: no
  parameters of their own.

Plain Python: no Streamlit, no TensorFlow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from core.config import (CLASSIFIERS, DEFAULTS, DENOISERS, FASHION, KINDS, QUERY_FIELDS, QUICK_LOOK_SIZE,
                         TrainConfig, default_config, from_query, query_fields)
from core.data import registry as datasets
from core.nets import layers

# A value longer than this is refused unread (a comparison's 8 runs take about 240 characters).
MAX_TEXT = 400
# The parameter every page takes: projector mode (pages/shared.py, projector_toggle).
MODE = "mode"


# ---------------------------------------------------------------------------------------
# Reading one value

def whole(low: int, high: int) -> Callable[[str], int]:
    """A reader of a whole number from ``low`` to ``high`` written plainly ("12"; not
    "12.0", "+12", "1e1" or " 12"); ValueError otherwise."""
    def read(text: str) -> int:
        if not re.fullmatch(r"-?[0-9]{1,9}", text) or not low <= int(text) <= high:
            raise ValueError(f"a whole number from {low} to {high}")
        return int(text)
    return read


def stepped(low: float, high: float, step: float) -> Callable[[str], float]:
    """A reader of a decimal number from ``low`` to ``high`` on multiples of ``step``
    ("0.55"), rounded to the step's two decimals; ValueError for anything else ("nan",
    "1e999", "0.123")."""
    def read(text: str) -> float:
        if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,6})?", text):
            raise ValueError(f"a number from {low:g} to {high:g} in steps of {step:g}")
        value = float(text)
        steps = value / step
        if not low <= value <= high or abs(steps - round(steps)) > 1e-6:
            raise ValueError(f"a number from {low:g} to {high:g} in steps of {step:g}")
        return round(round(steps) * step, 2)
    return read


def choice(options: tuple[str, ...]) -> Callable[[str], str]:
    """A reader of one of ``options``, spelt exactly; ValueError otherwise."""
    def read(text: str) -> str:
        if text not in options:
            raise ValueError("one of " + ", ".join(options))
        return text
    return read


def name_of(pattern: re.Pattern) -> Callable[[str], str]:
    """A reader of a name that matches ``pattern`` whole (a lesson's file name); ValueError otherwise."""
    def read(text: str) -> str:
        if not pattern.fullmatch(text):
            raise ValueError("a lesson's file name, without .yaml")
        return text
    return read


# A lesson file's name, without .yaml ("01-dense-64-64"): what its progress is kept under;
# and the most steps a lesson file may have (core.lessons.files reads both from here).
LESSON_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,79}")
MAX_LESSON_STEPS = 20

ENTRY = re.compile(r"([a-z0-9_]{1,40})-([0-9a-f]{12})")


def entry(kinds: tuple[str, ...]) -> Callable[[str], str]:
    """A reader of a store entry's name, ``<kind>-<12 hex digits>`` ("cnn-1547360b81ec"),
    of one of ``kinds``; ValueError otherwise. Whether the entry is stored is the page's
    (or ``check_link``'s) question."""
    def read(text: str) -> str:
        found = ENTRY.fullmatch(text)
        if not found or found.group(1) not in kinds:
            raise ValueError("a stored model's name, such as cnn-1547360b81ec")
        return text
    return read


def entries(kinds: tuple[str, ...], most: int) -> Callable[[str], tuple[str, ...]]:
    """A reader of 1 to ``most`` different entry names (``entry``) separated by commas;
    ValueError otherwise."""
    one = entry(kinds)

    def read(text: str) -> tuple[str, ...]:
        names = tuple(text.split(","))
        if not 1 <= len(names) <= most or len(set(names)) != len(names):
            raise ValueError(f"1 to {most} different stored models' names, separated by commas")
        return tuple(one(name) for name in names)
    return read


def coordinate(limit: float) -> Callable[[str], float]:
    """A reader of a decimal number from -``limit`` to ``limit`` ("-0.80"), rounded to two
    decimals; ValueError for anything else ("nan", "1e999", "1,5")."""
    def read(text: str) -> float:
        if not re.fullmatch(r"-?[0-9]{1,3}(\.[0-9]{1,6})?", text) or not abs(float(text)) <= limit:
            raise ValueError(f"a number from -{limit:g} to {limit:g}")
        return round(float(text), 2) + 0.0  # + 0.0: -0.0 reads as 0.0
    return read


def coordinate_text(value: float) -> str:
    """A coordinate as ``coordinate`` reads it: "-0.80"."""
    return f"{round(value, 2) + 0.0:.2f}"


# ---------------------------------------------------------------------------------------
# A page's parameters

@dataclass(frozen=True)
class Field:
    """One parameter of a page's address.

    Attributes:
        name: its name in the address ("index").
        word: what the page's sentence calls it ("test picture").
        read: text -> value; raises ValueError (saying what it takes) for text it refuses.
        write: value -> text that ``read`` reads back as the same value.
        default: the page's own value; ``encode`` leaves a field at it (or None) out.
    """

    name: str
    word: str
    read: Callable[[str], object]
    write: Callable[[object], str] = str
    default: object = None


@dataclass(frozen=True)
class Link:
    """The parameters of one page's address.

    Attributes:
        path: the page's URL path as app.py's ``st.Page`` gives it ("inside").
        title: the page's name in app.py's navigation.
        fields: its parameters (``Field``), none for a page whose view has no state to share.
        rules: (state, names given) -> {name: why} for values refused because of each
            other (a cell needs both its true class and its answer), applied after each
            field is read.
    """

    path: str
    title: str
    fields: tuple[Field, ...] = ()
    rules: Callable[[dict, set], dict[str, str]] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        """The field called ``name``; KeyError if the page has none."""
        return {f.name: f for f in self.fields}[name]

    def defaults(self) -> dict:
        """Every field at its default: the page opened without parameters."""
        return {f.name: f.default for f in self.fields}

    def encode(self, state: dict) -> dict[str, str]:
        """The address parameters of a view: ``state`` maps field names to values (a
        missing name is its default); fields at their default or None are left out, so a
        default view's address has none. Raises KeyError for a name the page lacks."""
        for name in state:
            self.field(name)
        return {f.name: f.write(state[f.name]) for f in self.fields
                if state.get(f.name) is not None and state[f.name] != f.default}

    def decode(self, params: dict) -> tuple[dict, list[str]]:
        """(state, refused): the view an address names, every field present (its default
        where the address has none or its value is refused), and the names of the refused
        ones in field order. ``params`` maps names to text (a list: its last value, as
        Streamlit's ``st.query_params`` reads it); other names (``mode``, another page's)
        are ignored. Never raises for any text."""
        state, refused, given = self.defaults(), [], set()
        for f in self.fields:
            if f.name not in params:
                continue
            text = params[f.name]
            if isinstance(text, (list, tuple)):
                text = text[-1] if text else ""
            try:
                if not isinstance(text, str) or len(text) > MAX_TEXT:
                    raise ValueError("too long")
                state[f.name] = f.read(text)
                given.add(f.name)
            except (ValueError, TypeError):
                refused.append(f.name)
        for name in self.rules(state, given) if self.rules else {}:
            state[name] = self.field(name).default
            refused.append(name)
        order = self.names
        return state, sorted(set(refused), key=order.index)

    def words(self, names) -> str:
        """The refused fields as the page's sentence names them, each once: "noise level, digits"."""
        return ", ".join(dict.fromkeys(self.field(name).word for name in names))

    def why(self, name: str, text: str) -> str:
        """What the field ``name`` takes, when ``text`` is refused, in words ("a whole
        number from 0 to 9999"); "" if it reads."""
        try:
            if len(text) > MAX_TEXT:
                return f"at most {MAX_TEXT} characters"
            self.field(name).read(text)
        except (ValueError, TypeError) as exc:
            return str(exc)
        return ""


def refusal_sentence(words: str, whole: bool = False) -> str:
    """The one sentence a page says when its address named values it cannot use (``words``,
    ``Link.words``): those keep their defaults, or, ``whole``, the page opens with its
    defaults (the Train page, when the data set or model itself is refused)."""
    return (f"This page's address named settings it cannot use ({words}), so "
            + ("the page opens with its defaults." if whole else "those keep their defaults."))


def _pair(first: str, second: str, what: str) -> Callable[[dict, set], dict[str, str]]:
    # Two fields that name one thing together (a cell of the matrix, a point of the map), or not at all.
    def rule(state: dict, given: set) -> dict[str, str]:
        if (first in given) != (second in given):
            return {name: f"given with {first} and {second} both ({what})" for name in (first, second)
                    if name in given}
        return {}
    return rule


def _preset_or_runs(state: dict, given: set) -> dict[str, str]:
    # A ready-made comparison or runs picked by hand, not both: the comparison wins.
    return {"runs": "left out when a ready-made comparison is named"} if {"preset", "runs"} <= given else {}


# The seed-0 MNIST CNN: the Inside and Mistakes pages' default network.
DEFAULT_CNN = default_config("cnn").entry
# The ready-made comparisons of the Compare runs page (core.analysis.compare.PRESETS).
PRESET_KEYS = ("dropout", "sgd_adam", "plain_distorted", "weight_decay", "mnist_fashion")
DEFAULT_PRESET = "plain_distorted"
# At most this many runs are compared at once (core.analysis.compare.MAX_RUNS).
MAX_RUNS = 8
# The Denoising page's slider: noise levels 0 to 1 in steps of 0.05, opening at 0.4; its
# "Other digits" sets (the first is 0) up to this many.
NOISE_STEP, NOISE_START, DIGIT_SETS = 0.05, 0.4, 1000
# A point (z1, z2) of the Latent space page's map: its codes lie within about ±4 (the page
# keeps a point within the map's own bounds).
POINT_LIMIT = 10.0
TEST_INDEX = whole(0, 9999)

LINKS = {link.path: link for link in (
    Link("", "Overview"),
    Link("train", "Train"),  # a TrainConfig: decode_train
    Link("regularization", "Regularization"),
    Link("denoising", "Denoising", (
        Field("noise", "noise level", stepped(0.0, 1.0, NOISE_STEP), lambda v: f"{v:.2f}", NOISE_START),
        Field("digits", "digits", whole(0, DIGIT_SETS - 1), default=0),
    )),
    Link("latent", "Latent space", (
        Field("z1", "map point", coordinate(POINT_LIMIT), coordinate_text),
        Field("z2", "map point", coordinate(POINT_LIMIT), coordinate_text),
        Field("from", "From digit", TEST_INDEX),
        Field("to", "To digit", TEST_INDEX),
        Field("digit", "conditional VAE's digit", whole(0, 9), default=3),
    ), _pair("z1", "z2", "a point of the map")),
    Link("draw", "Draw"),
    Link("collect", "Collect"),
    Link("class_models", "Class models"),
    Link("inside", "Inside the CNN", (
        Field("model", "network", entry(("cnn", "custom", "symbols")), default=DEFAULT_CNN),
        Field("index", "test picture", TEST_INDEX),
        Field("method", "method", choice(("fgsm", "pgd")), default="fgsm"),
    )),
    Link("mistakes", "Mistakes", (
        Field("model", "classifier", entry(CLASSIFIERS), default=DEFAULT_CNN),
        Field("data", "which digits", choice(("test", "class")), default="test"),
        Field("true", "true class", whole(0, 9)),
        Field("read", "read as", whole(0, 9)),
    ), _pair("true", "read", "a cell of the matrix")),
    Link("compare", "Compare runs", (
        Field("preset", "ready-made comparison", choice(PRESET_KEYS), default=DEFAULT_PRESET),
        Field("runs", "runs", entries(CLASSIFIERS, MAX_RUNS), ",".join),
    ), _preset_or_runs),
    Link("lessons", "Lessons", (
        # A lesson's file name without .yaml (core.lessons.files); whether it exists is the page's to say.
        Field("lesson", "lesson", name_of(LESSON_NAME)),
        Field("step", "step", whole(1, MAX_LESSON_STEPS)),
    )),
    Link("teacher", "Teacher"),  # only where the operator sets a teacher password
)}


# ---------------------------------------------------------------------------------------
# The Train page: its settings are a TrainConfig (core.config.query_fields / from_query)

# The Train page's address: the data set, the model and the config's fields.
TRAIN_ADDRESS = ("dataset", "kind", *QUERY_FIELDS)
# What a Train address field is called in the sentence that refuses it.
TRAIN_WORDS = {"dataset": "data set", "kind": "model", "train_size": "quick look", "precision": "bfloat16"}
# The model a class is offered first: it trains in seconds (README.md, "Fast training").
SUGGESTED = "quick_cnn"
# Your own network on CIFAR-10 starts from the CIFAR lab's blocks.
CIFAR_PRESET = next((name for name in layers.PRESETS if name.startswith("CIFAR")), None)


def train_datasets() -> list[str]:
    """The data sets the Train page offers: MNIST, Fashion-MNIST and CIFAR-10 where this
    server has a copy (``core.data.registry.available``)."""
    return [name for name in datasets.DATASETS if datasets.available(name)]


def models_for(dataset: str) -> tuple[str, ...]:
    """The models a data set trains: every kind on MNIST, the classifiers on Fashion-MNIST
    (28x28 grey images like MNIST), only your own network on CIFAR-10 (32x32 colour)."""
    if dataset == "mnist":
        return KINDS
    return ("custom",) if dataset == "cifar10" else CLASSIFIERS


def starting_config(dataset: str, kind: str) -> TrainConfig:
    """The settings a (data set, model) pair opens with: the shipped Fashion-MNIST recipe
    where there is one (so it shows at once), else the kind's default, off MNIST without
    the digit distortions (nor mirroring)."""
    shipped = next((c for c in FASHION if (c.dataset, c.kind) == (dataset, kind)), None)
    if shipped is not None:
        return shipped
    config = replace(DEFAULTS[kind], dataset=dataset, augment=DEFAULTS[kind].augment and dataset == "mnist")
    if kind == "custom" and dataset == "cifar10" and CIFAR_PRESET:
        config = replace(config, layers=layers.PRESETS[CIFAR_PRESET])
    return config


def offered_here(config: TrainConfig) -> None:
    """Raise ValueError for settings the Train page's widgets cannot show for ``config``'s
    model (an address can say anything): a field its model has no widget for away from
    its start, a training size other than all or the quick look, a noise level off its
    slider's 0.05 steps."""
    start = starting_config(config.dataset, config.kind)
    without = {"l2": config.kind != "dense_500_300", "noise_level": config.kind not in DENOISERS,
               "latent_dim": config.kind not in ("vae", "cvae"), "precision": config.kind not in CLASSIFIERS}
    if any(off and getattr(config, name) != getattr(start, name) for name, off in without.items()):
        raise ValueError("a setting this model has no widget for")
    if config.train_size not in (None, QUICK_LOOK_SIZE):
        raise ValueError("a training size other than all images or the quick look")
    steps = config.noise_level / 0.05
    if config.kind in DENOISERS and (abs(steps - round(steps)) > 1e-9
                                     or config.kind == "conv_denoiser" and config.noise_level < 0.05):
        raise ValueError("a noise level off the slider")


def encode_train(config: TrainConfig) -> dict[str, str]:
    """The Train page's address for ``config``: its data set, its model and the fields
    away from that pair's start (``starting_config``)."""
    return {"dataset": config.dataset, "kind": config.kind,
            **query_fields(config, starting_config(config.dataset, config.kind))}


def decode_train(params: dict, offered: list[str] | None = None) -> tuple[TrainConfig, list[str], bool]:
    """(config, refused, whole) for the Train page's address ``params`` (other names
    ignored): the settings it names on the data set's and model's start, the names of
    those refused (``core.config.from_query`` with ``offered_here``), and ``whole`` when
    the data set or model itself is refused, so the page opens with MNIST's quick CNN.
    ``offered``: the data sets offered (default ``train_datasets()``). Never raises for
    any text."""
    params = {name: value for name, value in params.items() if name in TRAIN_ADDRESS}
    offered = train_datasets() if offered is None else offered
    dataset = params.get("dataset", "mnist")
    models = models_for(dataset) if dataset in offered else ()
    kind = params.get("kind", SUGGESTED if SUGGESTED in models else models[0] if models else "")
    refused = [name for name, ok in (("dataset", models), ("kind", kind in models)) if not ok]
    if refused:
        return starting_config("mnist", SUGGESTED), refused, True
    config, fields = from_query(starting_config(dataset, kind), params, check=offered_here)
    return config, fields, False


def train_words(names) -> str:
    """Refused Train address fields as its sentence names them: "epochs, quick look"."""
    return ", ".join(TRAIN_WORDS.get(name, name.replace("_", " ")) for name in names)


# ---------------------------------------------------------------------------------------
# A whole link, checked without Streamlit

def page_path(link: str) -> tuple[str, dict[str, str]]:
    """(page path, parameters) of a link: a full URL ("http://host:8501/inside?index=1"),
    a path with its query ("/inside?index=1") or a page name ("inside?index=1"); the
    parameters one value each (the last, as Streamlit reads them)."""
    parts = urlsplit(link.strip())
    path = parts.path.strip("/")
    params = {name: values[-1] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
    return path, params


def _entry_fields(link: Link) -> list[str]:
    return [name for name in ("model", "runs") if name in link.names]


def check_link(link: str, stores: tuple[Path, ...] | None = None) -> list[str]:
    """What is wrong with a link to a page of the lab, one sentence per problem; [] when
    it opens an existing page (a path of app.py's navigation) with settings that page
    takes. Checks each parameter as the page reads it (``Link.decode``; the Train page's
    with ``decode_train``), names a parameter the page has no use for, and, where a
    parameter names stored models (``model``, ``runs``), that each is in one of
    ``stores`` (default: the shipped cache and this server's runs store; ``()`` skips
    that check). Never raises for any text."""
    from core.store import cache

    path, params = page_path(link)
    shown = "/" + path
    if path not in LINKS:
        pages = ", ".join("/" + p for p in LINKS)
        return [f"{shown} is not a page of the lab (its pages: {pages})."]
    page = LINKS[path]
    problems = []
    if MODE in params and params[MODE] != "class":
        problems.append(f"{shown}: mode can only be class (projector mode), not {params[MODE][:40]!r}.")
    names = TRAIN_ADDRESS if path == "train" else page.names
    for name in params:
        if name != MODE and name not in names:
            problems.append(f"The {page.title} page has no setting named {name[:40]!r}.")
    if path == "train":
        _, refused, whole_page = decode_train(params)
        if refused:
            problems.append(f"{shown}: the Train page cannot use {train_words(refused)}"
                            + (", so it would open with its defaults." if whole_page else "."))
        return problems
    state, refused = page.decode(params)
    together = page.rules(state, set(params) & set(page.names)) if page.rules else {}
    for name in refused:
        why = page.why(name, params[name]) or together.get(name, "given with the link's other settings")
        problems.append(f"{shown}: {page.field(name).word} ({name}) must be {why}.")
    roots = (cache.cache_dir(), cache.runs_dir()) if stores is None else stores
    for name in _entry_fields(page) if roots else ():
        value = state[name] if name not in refused and name in params else None
        for one in (value,) if isinstance(value, str) else value or ():
            if not any(cache.has_entry(Path(root), one) for root in roots):
                problems.append(f"{shown}: no stored model is named {one}.")
    return problems
