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

CLASSIFIERS = ("dense_64_64", "dense_500_300", "cnn")
AUTOENCODERS = ("denoising_autoencoder", "conv_denoiser", "vae", "cvae")
KINDS = CLASSIFIERS + AUTOENCODERS
OPTIMIZERS = ("sgd", "adam")
LR_SCHEDULES = ("constant", "cosine")

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
}
# The choices the Train page offers, all inside BOUNDS.
BATCH_SIZES = (32, 64, 128, 256, 512)
LEARNING_RATES = (1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2, 0.5)
L2_CHOICES = (0.0, 1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3)


def config_key(payload) -> str:
    """12 hex digits of the sha256 of ``payload`` (a dataclass or a dict) as sorted JSON.

    The one hash that names every cache entry: models, sweeps and noise curves.
    """
    if hasattr(payload, "__dataclass_fields__"):
        payload = asdict(payload)
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]


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
            slanted, thinned and thickened digits (``core.augment``), drawn afresh
            for every batch.
        noise_level: salt-and-pepper level of the training inputs. For
            denoising_autoencoder one level, drawn once per run; for conv_denoiser the
            highest level: every image of every batch gets a level drawn uniformly
            from [0, noise_level] and fresh noise.
        latent_dim: size of the latent code (vae and cvae).
        seed: seeds Python, NumPy, TensorFlow and the noise; same seed, same model.
        train_size: train on the first N of the 55,000 training images (tests use a
            few hundred); None means all.
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

    def key(self) -> str:
        """12 hex digits naming the cache entry (``config_key``)."""
        return config_key(self)

    def validate(self) -> None:
        """Raise ValueError with one readable sentence per field out of range."""
        problems = []
        if self.kind not in KINDS:
            problems.append(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            problems.append(f"lr_schedule must be 'constant' or 'cosine', got {self.lr_schedule!r}")
        if self.augment and self.kind not in CLASSIFIERS:
            problems.append(f"augment applies to classifiers only, not {self.kind}")
        for name, (low, high) in BOUNDS.items():
            value = getattr(self, name)
            if name == "train_size" and value is None:
                continue
            if not isinstance(value, (int, float)) or math.isnan(value) or not low <= value <= high:
                problems.append(f"{name} must be in [{low:g}, {high:g}], got {value!r}")
        if problems:
            raise ValueError("; ".join(problems))


# The default of each kind. README.md, "How each recipe was chosen", says which choices
# were made on the 5,000 validation digits and which, in earlier versions, on test
# accuracy. dense_500_300's recipe is the sweeps' base; its l2 is the factor the plain
# sweep chose on validation, so its entry is one of the runs the sweep keeps.
DEFAULTS = {
    "dense_64_64": TrainConfig("dense_64_64", epochs=10, batch_size=64, learning_rate=3e-3,
                               lr_schedule="cosine"),
    "dense_500_300": TrainConfig("dense_500_300", epochs=20, batch_size=256, learning_rate=2e-3,
                                 lr_schedule="cosine", l2=1.78e-4),
    "cnn": TrainConfig("cnn", epochs=16, learning_rate=2e-3, lr_schedule="cosine", augment=True),
    "denoising_autoencoder": TrainConfig("denoising_autoencoder", epochs=30, noise_level=0.4),
    "conv_denoiser": TrainConfig("conv_denoiser", epochs=11, learning_rate=2e-3, lr_schedule="cosine",
                                 noise_level=0.8),
    "vae": TrainConfig("vae", epochs=30, latent_dim=2),
    "cvae": TrainConfig("cvae", epochs=20, latent_dim=4),
}
# The default CNN recipe is trained with these seeds; every one is kept in the cache.
CNN_SEEDS = (0, 1, 2)


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


def cnn_configs() -> list[TrainConfig]:
    """The default CNN recipe at each of ``CNN_SEEDS``."""
    return [default_config("cnn", seed=seed) for seed in CNN_SEEDS]


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
        return config_key({"sweep": asdict(self), "base": asdict(self.base())})

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
