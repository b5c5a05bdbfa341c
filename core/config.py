"""What decides a trained model or an experiment: plain frozen dataclasses, no TensorFlow.

Pages validate settings and name cache entries with this module alone, so opening the
Train or Regularization page does not import Keras (about 12 s cold on 2 cores).
The hash of a config's fields names its cache entry (``config_key``).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, replace

from core.data.registry import DATASETS, INPUT_SHAPES  # the data sets' one list (the registry loads them)
from core.nets import layers as stack
from core.nets.layers import PRESETS, shown

# "custom" is the visitor's own layer list (``TrainConfig.layers``, see ``core.nets.layers``).
# "quick_cnn" is the narrow CNN a class can train many times (seconds, not minutes).
CLASSIFIERS = ("dense_64_64", "dense_500_300", "quick_cnn", "cnn", "custom")
AUTOENCODERS = ("denoising_autoencoder", "conv_denoiser", "vae", "cvae")
KINDS = CLASSIFIERS + AUTOENCODERS
OPTIMIZERS = ("sgd", "adam")
LR_SCHEDULES = ("constant", "cosine")
# "mixed_bfloat16": Keras mixed precision, layers compute in bfloat16 with float32
# weights (Kalamkar et al., "A study of bfloat16 for deep learning training", 2019);
# about 1.4x faster for the CNN on this lab's AVX-512 BF16 CPU (README.md, "Fast training").
PRECISIONS = ("float32", "mixed_bfloat16")
# Fields added after the cache was built: left out of the hash while at these defaults,
# so every entry built before them keeps its key (and its folder name).
HASH_OPTIONAL = {"dataset": "mnist", "layers": (), "precision": "float32", "label_smoothing": 0.0}
# A "quick look" trains on the first 10,000 of the 55,000 training images: a class's
# comparisons in a fifth of the time, labelled as such wherever its results appear.
QUICK_LOOK_SIZE = 10_000

# Inclusive ranges of the numeric fields: ``TrainConfig.validate`` checks them and the
# Train page's widgets take their limits from here, so the two cannot disagree.
BOUNDS = {
    "epochs": (1, 200),
    "batch_size": (16, 1024),
    "learning_rate": (1e-5, 1.0),
    "momentum": (0.0, 0.99),
    "l2": (0.0, 1e-2),
    "noise_level": (0.0, 1.0),
    "latent_dim": (1, 16),
    "seed": (0, 10_000),
    "train_size": (100, 55_000),
    "label_smoothing": (0.0, 0.5),
}
# How validate's sentences name the settings a visitor types into a number field on the
# Train page; the others keep the names the CLI and JSON use (the page offers them only as
# choices inside BOUNDS).
FIELD_WORDS = {"epochs": "the number of epochs", "momentum": "SGD momentum", "seed": "the seed",
               "latent_dim": "the size of a digit's code"}
# The choices the Train page offers, all inside BOUNDS.
BATCH_SIZES = (32, 64, 128, 256, 512)
LEARNING_RATES = (1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2, 0.5)
L2_CHOICES = (0.0, 1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3)


def config_key(payload) -> str:
    """12 hex digits of the sha256 of ``payload`` (a dataclass or a dict) as sorted JSON.

    The one hash that names every cache entry: models, sweeps and noise curves. A
    ``TrainConfig`` is hashed without the ``HASH_OPTIONAL`` fields that hold their
    defaults (``TrainConfig.hashed_fields``).
    """
    if hasattr(payload, "hashed_fields"):
        payload = payload.hashed_fields()
    elif hasattr(payload, "__dataclass_fields__"):
        payload = asdict(payload)
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]


def entry_name(kind: str, key: str) -> str:
    """The name of a store entry and of its queue job: ``<kind>-<key>`` ("sweep" for a
    sweep), e.g. "cnn-3f2a9c1b7d4e". The one place the name is spelled out."""
    return f"{kind}-{key}"


class EntryConfig:
    """What a frozen config dataclass needs to name its store entry ``<KIND>-<key>`` (the
    class's handwriting jobs: ``core.classset.finetune``, ``core.classset.symbols``):
    ``KIND`` a class attribute, not a field, so it stays out of the hash."""

    KIND = ""

    def key(self) -> str:
        """12 hex digits of the config's fields (``config_key``)."""
        return config_key(self)

    @property
    def entry(self) -> str:
        """The name of its store entry and queue job, ``<KIND>-<key>``."""
        return entry_name(self.KIND, self.key())

    @classmethod
    def from_fields(cls, fields: dict):
        """The config from its fields as JSON or a job's arguments hold them (lists as tuples)."""
        return cls(**{name: tuple(v) if isinstance(v, list) else v for name, v in fields.items()})


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a trained model; its hash names the cache entry.

    Attributes:
        kind: one of ``KINDS``.
        epochs: passes over the training images (55,000 unless ``train_size``).
        batch_size: images per gradient step.
        optimizer: "sgd" or "adam".
        learning_rate: the (peak) learning rate.
        momentum: SGD momentum (ignored by adam).
        lr_schedule: "constant" or "cosine" (linear warm-up over the first 5% of
            steps, then cosine decay to 0; Loshchilov and Hutter, SGDR, 2017).
        l2: L2 weight-decay factor on the hidden kernels (dense_500_300 only): the
            loss gains ``l2 * sum(w ** 2)``.
        augment: classifiers only: train on randomly shifted, rotated, scaled,
            slanted, thinned and thickened digits (``core.data.augment.distort``), drawn
            afresh for every batch; off MNIST, on randomly mirrored and shifted images
            (``core.data.augment.mirror_and_shift``).
        noise_level: salt-and-pepper level of the training inputs. For
            denoising_autoencoder one level, drawn once per run; for conv_denoiser the
            highest level: every image of every batch gets a level drawn uniformly
            from [0, noise_level] and fresh noise.
        latent_dim: size of the latent code (vae and cvae).
        seed: seeds Python, NumPy, TensorFlow and the noise; same seed, same model.
        train_size: train on the first N of the 55,000 training images (tests use a
            few hundred); None means all.
        dataset: "mnist", "fashion_mnist" (classifiers) or "cifar10" (custom only:
            the named models take 28x28 grey images); see ``core.data.registry``.
        layers: kind "custom" only: the visitor's layer list (``core.nets.layers``), e.g.
            (("dense", 64, "relu"), ("dropout", 0.35)); the output layer is added.
        precision: "float32", or, for classifiers and ``conv_denoiser``,
            "mixed_bfloat16" (layers compute in bfloat16, weights
            stay float32; the stored model is float32, and its test metrics are measured
            in float32).
        label_smoothing: classifiers only: the training targets put ``1 - s + s/10`` on
            the true class and ``s/10`` on each other (Szegedy et al., "Rethinking the
            Inception architecture", 2016); the reported losses stay plain cross-entropy
            on the test set, and the training curves show the smoothed loss.
    """

    kind: str
    epochs: int
    batch_size: int = 128
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.0
    lr_schedule: str = "constant"
    l2: float = 0.0
    augment: bool = False
    noise_level: float = 0.0
    latent_dim: int = 2
    seed: int = 0
    train_size: int | None = None
    dataset: str = "mnist"
    layers: tuple = ()
    precision: str = "float32"
    label_smoothing: float = 0.0

    @classmethod
    def from_fields(cls, fields: dict) -> "TrainConfig":
        """A config from its fields as JSON gives them back (``metrics.json``, a job):
        lists become tuples; entries written before a field existed get its default.

        Raises:
            TypeError: for an unknown field.
        """
        fields = dict(fields)
        if "layers" in fields:
            fields["layers"] = stack.normalize(fields["layers"] or ())
            # The checked form (64.0 -> 64, dropout 0 -> 0.0), so one network has one key
            # however its JSON spelled the numbers; an invalid list is kept for validate().
            try:
                fields["layers"] = stack.check(fields["layers"], INPUT_SHAPES.get(fields.get("dataset", "mnist"),
                                                                                  (28, 28, 1)))
            except stack.StackError:
                pass
        return cls(**fields)

    def hashed_fields(self) -> dict:
        """The fields the cache key is the hash of: all but ``HASH_OPTIONAL`` ones at their
        defaults."""
        fields = asdict(self)
        for name, default in HASH_OPTIONAL.items():
            if fields[name] == default:
                del fields[name]
        return fields

    def key(self) -> str:
        """12 hex digits naming the cache entry (``config_key``)."""
        return config_key(self)

    @property
    def entry(self) -> str:
        """The name of this run's store entry and queue job: ``<kind>-<key>``."""
        return entry_name(self.kind, self.key())

    def validate(self) -> None:
        """Raise ValueError with one readable sentence per field out of range.

        Raises:
            ValueError: the problems joined by "; ", each naming its field (a number field
                of the Train page in the page's words, ``FIELD_WORDS``), the range and the
                value, e.g. "the number of epochs must be a whole number from 1 to 200, not
                1,000".
        """
        problems = []
        if self.kind not in KINDS:
            problems.append(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            problems.append(f"lr_schedule must be 'constant' or 'cosine', got {self.lr_schedule!r}")
        if self.precision not in PRECISIONS:
            problems.append(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.augment and self.kind not in CLASSIFIERS:
            problems.append(f"augment applies to classifiers only, not {self.kind}")
        if self.precision != "float32" and self.kind not in (*CLASSIFIERS, "conv_denoiser"):
            # Their losses and sampling layers were written for float32 and not tried otherwise.
            problems.append(f"{self.kind} trains in float32 only, not {self.precision}")
        if self.label_smoothing and self.kind not in CLASSIFIERS:
            problems.append(f"label_smoothing applies to classifiers only, not {self.kind}")
        if self.dataset not in DATASETS:
            problems.append(f"dataset must be one of {', '.join(DATASETS)}, got {self.dataset!r}")
        elif self.dataset != "mnist" and self.kind not in CLASSIFIERS:
            problems.append(f"{self.kind} trains on MNIST only")
        elif self.dataset == "cifar10" and self.kind != "custom":
            problems.append(f"{self.kind} takes 28x28 grey images; CIFAR-10 trains your own network (custom)")
        if (self.kind == "custom") != bool(self.layers):
            problems.append("layers go with kind custom, and custom needs layers")
        elif self.layers:
            try:
                stack.check(self.layers, INPUT_SHAPES.get(self.dataset, (28, 28, 1)))
            except stack.StackError as exc:
                problems.append(str(exc).rstrip("."))
        for name, (low, high) in BOUNDS.items():
            value = getattr(self, name)
            if name == "train_size" and value is None:
                continue
            whole = isinstance(low, int)  # the fields with whole-number bounds count things
            if (not isinstance(value, (int, float)) or math.isnan(value) or not low <= value <= high
                    or whole and not float(value).is_integer()):
                # e.g. "the number of epochs must be a whole number from 1 to 200, not 1,000"
                problems.append(f"{FIELD_WORDS.get(name, name)} must be {'a whole number ' if whole else ''}"
                                f"from {shown(low)} to {shown(high)}, not {shown(value)}")
        if problems:
            raise ValueError("; ".join(problems))


# The default of each kind. README.md, "How each recipe was chosen", says which choices
# were made on the 5,000 validation digits and which, in earlier versions, on test
# accuracy. dense_500_300's recipe is the sweeps' base; its l2 is the factor the plain
# sweep chose on validation, so its entry is one of the runs the sweep keeps. Its 20
# epochs stay: sweeps of 10 epochs, as good on validation, fell under the 500-300 target
# on the plain digits at the chosen factor (README.md, "How each recipe was chosen", which also gives
# how the CNNs' recipes were chosen).
DEFAULTS = {
    "dense_64_64": TrainConfig("dense_64_64", epochs=10, batch_size=64, learning_rate=3e-3,
                               lr_schedule="cosine"),
    "dense_500_300": TrainConfig("dense_500_300", epochs=20, batch_size=256, learning_rate=2e-3,
                                 lr_schedule="cosine", l2=1e-6),
    "quick_cnn": TrainConfig("quick_cnn", epochs=4, batch_size=256, learning_rate=1e-2, lr_schedule="cosine",
                             precision="mixed_bfloat16"),
    "cnn": TrainConfig("cnn", epochs=16, learning_rate=2e-3, lr_schedule="cosine", augment=True,
                       precision="mixed_bfloat16", label_smoothing=0.1),
    "denoising_autoencoder": TrainConfig("denoising_autoencoder", epochs=30, noise_level=0.4),
    # float32: trained in bfloat16 it was faster, but the CNN read its outputs at noise 0.7
    # under the 85% target (README.md, "How each recipe was chosen").
    "conv_denoiser": TrainConfig("conv_denoiser", epochs=11, learning_rate=2e-3, lr_schedule="cosine",
                                 noise_level=0.8),
    "vae": TrainConfig("vae", epochs=30, latent_dim=2),
    "cvae": TrainConfig("cvae", epochs=20, latent_dim=4),
    # The Train page's starting point for your own network: the course's 64-64, trained
    # like the dense_64_64 default.
    "custom": TrainConfig("custom", epochs=10, batch_size=64, learning_rate=3e-3, lr_schedule="cosine",
                          layers=(("dense", 64, "relu"), ("dense", 64, "relu"))),
}
# The same networks on a harder data set (Xiao et al., 2017): the default recipes, the
# CNN's digit distortions replaced by random mirrors and shifts
# (core.data.augment.mirror_and_shift). Chosen on the 5,000 validation images among candidates
# that train within 4 minutes here (the CNN's recipe, bfloat16): mirrored and shifted,
# with label smoothing 0.1, 24 epochs, the best of them on validation (README.md, "How
# each recipe was chosen", gives each candidate's accuracy).
FASHION_CNN_EPOCHS = 24
FASHION = (replace(DEFAULTS["cnn"], dataset="fashion_mnist", augment=True, epochs=FASHION_CNN_EPOCHS),
           replace(DEFAULTS["dense_64_64"], dataset="fashion_mnist"))
# The course's dropout question on your own network's layers: 500-300 with and without
# dropout 0.35 after each hidden layer, trained like the dense_500_300 default without
# weight decay, so the gap between training and validation accuracy is dropout's alone.
_DROPOUT_RECIPE = dict(epochs=20, batch_size=256, learning_rate=2e-3, lr_schedule="cosine")
DROPOUT_PAIR = (TrainConfig("custom", layers=(("dense", 500, "relu"), ("dense", 300, "relu")), **_DROPOUT_RECIPE),
                TrainConfig("custom", layers=(("dense", 500, "relu"), ("dropout", 0.35), ("dense", 300, "relu"),
                                              ("dropout", 0.35)), **_DROPOUT_RECIPE))

# Your own network's presets (core.nets.layers.PRESETS) that are not shipped otherwise (the
# dropout pair holds the two 500-300 ones), each with the Train page's starting recipe:
# the 64-64 on every training digit, the two convolutional ones as quick looks. They show
# at once on the Train page, and the time estimates of presets are checked against them
# (tests/test_timing.py).
PRESET_RUNS = (DEFAULTS["custom"],
               *(replace(DEFAULTS["custom"], layers=PRESETS[name], train_size=QUICK_LOOK_SIZE)
                 for name in PRESETS if name.startswith(("The lab's CNN", "CIFAR lab"))))

# The kinds with a recipe of their own (``--all`` trains them); "custom" has a layer list instead.
NAMED_KINDS = tuple(kind for kind in KINDS if kind != "custom")
# The CNNs' default recipes are trained with these seeds; every one is kept in the cache,
# so their targets hold for each seed and not for one lucky run.
SEEDS = {"cnn": (0, 1, 2), "quick_cnn": (0, 1, 2)}


def default_config(kind: str, **overrides) -> TrainConfig:
    """The default config of ``kind`` with ``overrides`` applied.

    Raises:
        ValueError: for an unknown kind or an out-of-range field.
    """
    if kind not in DEFAULTS:
        raise ValueError(f"unknown kind {kind!r}; known: {', '.join(DEFAULTS)}")
    config = replace(DEFAULTS[kind], **overrides)
    config.validate()
    return config


def seeded_configs(kind: str) -> list[TrainConfig]:
    """The default recipe of ``kind`` at each of its ``SEEDS`` (just the default for a kind
    trained at one seed).

    Raises:
        ValueError: for an unknown kind.
    """
    base = default_config(kind)
    return [replace(base, seed=seed) for seed in SEEDS.get(kind, (base.seed,))]


# A page's address carries these fields (``query_fields``); kind and data set choose the
# starting config the others are read against.
QUERY_FIELDS = tuple(name for name in TrainConfig.__dataclass_fields__ if name not in ("kind", "dataset"))


def query_fields(config: TrainConfig, start: TrainConfig) -> dict[str, str]:
    """The fields of ``config`` that differ from ``start``, as text for a page's address
    (its query string): words as they are, numbers, switches and the layer list as compact
    JSON. ``from_query`` reads them back."""
    fields = {}
    for name in QUERY_FIELDS:
        value = getattr(config, name)
        if value != getattr(start, name):
            fields[name] = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return fields


def _query_value(name: str, text: str):
    """One field's value from its text in an address; ValueError if it has the wrong type
    (``validate`` checks ranges afterwards)."""
    kind = TrainConfig.__dataclass_fields__[name].type  # the annotation as text: "int", "int | None", ...
    if kind == "str":
        return text
    try:
        value = json.loads(text)
    except RecursionError:  # "[[[[..." thousands deep
        raise ValueError(f"{name} is nested too deeply") from None
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "float" and number and math.isfinite(value):
        return float(value)
    # A whole number typed as 3.0 would name another cache entry than 3: only 3 is read.
    if (kind in ("int", "int | None") and type(value) is int or kind == "int | None" and value is None
            or kind == "bool" and isinstance(value, bool) or kind == "tuple" and isinstance(value, list)):
        return value
    raise ValueError(f"{name} cannot be {text!r}")


def from_query(start: TrainConfig, params: dict, check=None) -> tuple[TrainConfig, list[str]]:
    """``start`` with the fields an address names (as ``query_fields`` writes them) put in,
    and the names of those left at ``start``'s value because their text could not be read,
    ``TrainConfig.validate`` refused them, or ``check(config)`` (the page's own choices)
    raised ValueError. Other names in ``params`` (a page's other parameters) are ignored."""
    fields, refused = asdict(start), []
    for name, text in params.items():
        if name not in QUERY_FIELDS:
            continue
        try:
            candidate = TrainConfig.from_fields({**fields, name: _query_value(name, text)})
            candidate.validate()
            if check is not None:
                check(candidate)
        except (ValueError, TypeError):
            # TypeError: a layer list of the wrong shape ([1, 2]) does not even normalize.
            refused.append(name)
            continue
        fields = asdict(candidate)
    return TrainConfig.from_fields(fields), refused


# The course's five weight-decay factors, log-spaced from 1e-6 to 1e-3, after the
# l2 = 0 control.
SWEEP_FACTORS = (0.0,) + tuple(float(f"{10 ** (-6 + 0.75 * i):.3g}") for i in range(5))


@dataclass(frozen=True)
class SweepConfig:
    """A weight-decay sweep of dense_500_300: ``replicates`` seeds at each L2 factor.

    Replicate r of every factor uses seed ``seed + r``; the other fields of every run
    are the default dense_500_300 recipe's, with ``augment`` and, when given,
    ``epochs`` and ``train_size`` (the tests' tiny sweeps) replaced.
    """

    augment: bool = False
    l2_factors: tuple = SWEEP_FACTORS
    replicates: int = 3
    epochs: int | None = None
    seed: int = 0
    train_size: int | None = None

    @property
    def name(self) -> str:
        """"distorted" or "plain": which digits the sweep trains on."""
        return "distorted" if self.augment else "plain"

    def base(self) -> TrainConfig:
        """The recipe every run shares (l2 and seed set per run)."""
        overrides = {"augment": self.augment, "train_size": self.train_size}
        if self.epochs:
            overrides["epochs"] = self.epochs
        return default_config("dense_500_300", **overrides, l2=0.0, seed=0)

    def key(self) -> str:
        """12 hex digits naming the sweep's cache entry: the sweep and its base recipe."""
        return config_key({"sweep": asdict(self), "base": self.base().hashed_fields()})

    @property
    def entry(self) -> str:
        """The name of the sweep's store entry and summary job: ``sweep-<key>``."""
        return entry_name("sweep", self.key())

    def runs(self) -> list[TrainConfig]:
        """The ``TrainConfig`` of every run, factor-major."""
        return [replace(self.base(), l2=float(f), seed=self.seed + r)
                for f in self.l2_factors for r in range(self.replicates)]


SWEEPS = (SweepConfig(augment=False), SweepConfig(augment=True))

NOISE_LEVELS = tuple(round(0.1 * i, 1) for i in range(11))
DENOISERS = ("denoising_autoencoder", "conv_denoiser")


def noise_curve_key(classifier: TrainConfig, denoisers, levels=NOISE_LEVELS, seed: int = 0) -> str:
    """12 hex digits naming a noise curve: the models' keys, the levels and the seed."""
    return config_key({"classifier": classifier.key(), "denoisers": [d.key() for d in denoisers],
                       "levels": list(levels), "seed": seed})
