"""The one training path, used by the command line, the app's worker and the tests.

data -> model -> ``fit`` once -> evaluate. Each kind has a small data pipeline that
turns MNIST into batches for ``fit`` and a validation set; the 5,000 validation digits
are what every choice is made on, and the 10,000 test digits are touched once, after
training, for the report in ``metrics.json``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from core import machine as where
from core.config import CLASSIFIERS, TrainConfig
from core.data import augment, images, registry as datasets
from core.data.noise import salt_and_pepper
from core.nets import models

EVAL_BATCH = 1000  # images per step when validating and testing: one pass, few steps
# Training steps per call into TensorFlow: a small net spends more time between steps (in
# Python) than in them; 16 steps a call trained the dense 64-64 twice as fast, with the
# same weights (README.md, "Fast training").
STEPS_PER_EXECUTION = 16


@dataclass
class TrainResult:
    """What ``train`` returns: the Keras model, its per-epoch history and its metrics."""

    model: keras.Model
    history: dict
    metrics: dict


@dataclass
class Pipeline:
    """One kind's data: shuffled training batches, validation and test sets, and the loss.

    ``fit``: a ``tf.data.Dataset`` of (inputs, targets) batches, redrawn every epoch;
    ``validation`` and ``test``: datasets of ``EVAL_BATCH`` batches; ``size``: training
    examples per epoch.
    """

    fit: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset
    size: int
    loss: str
    metrics: tuple = ()


def library_versions() -> dict:
    """Versions of Python, NumPy, TensorFlow and Keras, recorded beside every artifact."""
    return {"python": platform.python_version(), "numpy": np.__version__,
            "tensorflow": tf.__version__, "keras": keras.__version__}


def machine() -> dict:
    """Where this runs: ``core.machine.machine()`` (CPU, cores, host, OS, Python) plus the
    GPUs TensorFlow finds and the library versions; recorded beside every artifact and
    printed by the benchmark."""
    gpus = [device.name for device in tf.config.list_physical_devices("GPU")]
    return {**where.machine(), "gpus": gpus, **library_versions()}


@contextlib.contextmanager
def precision(name: str):
    """Keras' global dtype policy set to ``name`` ("float32" or "mixed_bfloat16") inside
    the block, and restored after it (a worker trains one job after another).

    Raises:
        ValueError: for a policy name Keras does not know (raised on entering the block).
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def float32_copy(config: TrainConfig, model: keras.Model) -> keras.Model:
    """The same network and weights in float32: how a model trained in mixed precision is
    evaluated, stored and served (its weights are float32 already).

    Raises:
        ValueError: if ``model`` was not built from ``config`` (its weights do not fit).
    """
    with precision("float32"):
        copy = build(config)
    copy.set_weights(model.get_weights())
    return copy


# Keras names new layers from a process-wide counter that is not thread-safe: the web
# server's warm-up thread and a page building a model at the same moment once gave two
# layers of one Sequential the same name ("Name 'dense' is already the name of a layer").
_BUILDING = threading.Lock()


def build(config: TrainConfig) -> keras.Model:
    """The uncompiled model for ``config`` (see ``core.nets.models``), in Keras' current dtype
    policy (``precision``). One model is built at a time per process (``_BUILDING``)."""
    with _BUILDING:
        if config.kind == "dense_500_300":
            return models.dense_500_300(config.l2)
        if config.kind in ("vae", "cvae"):
            return getattr(models, config.kind)(config.latent_dim, seed=config.seed)
        if config.kind == "custom":
            return models.custom(config.layers, datasets.INPUT_SHAPES[config.dataset])
        return getattr(models, config.kind)()


def _steady(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """``dataset`` with tf.data's autotuning off.

    Why: with autotuning on (tf.data's default), a third to a half of the epochs after
    the first ran on one core instead of two (1.1 cores busy, the same CPU seconds,
    twice the wall time) on this lab's 2-core machine; with it off, none did in 23
    epochs. Keras makes a new iterator each epoch, and each starts autotuning afresh.
    The pipeline has nothing to tune (in-memory arrays, one map, a fixed prefetch).
    Measured by ``benchmarks/profile_training.py``; README.md, "Fast training".
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def _batches(inputs, targets, config: TrainConfig, transform=None) -> tf.data.Dataset:
    """Seeded, reshuffled batches of ``(transform(inputs, generator), targets)``: the whole
    set held in memory, each batch transformed as one tensor, the next two prepared while
    the model trains on this one."""
    size = len(targets)
    batches = (tf.data.Dataset.from_tensor_slices((inputs, targets))
               .shuffle(size, seed=config.seed).batch(config.batch_size))
    if transform is not None:
        generator = tf.random.Generator.from_seed(config.seed)
        batches = batches.map(lambda x, y: (transform(x, generator), y))
    return _steady(batches).prefetch(2)


def _fixed(inputs, targets) -> tf.data.Dataset:
    return _steady(tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(EVAL_BATCH))


def _classifier(config, fit, validation, test) -> Pipeline:
    # Digits get the affine and stroke distortions; clothes and photos random mirrors and shifts.
    distort = (augment.distort if config.dataset == "mnist" else augment.mirror_and_shift) if config.augment else None
    return Pipeline(_batches(*fit, config, distort), _fixed(*validation), _fixed(*test), len(fit[1]),
                    "sparse_categorical_crossentropy", ("accuracy",))


def _conv_denoiser(config, fit, validation, test) -> Pipeline:
    level = config.noise_level
    # Training inputs: a level per image, fresh noise every batch. Validation and test
    # inputs: the same spread of levels, drawn once from their own seed.
    generator = tf.random.Generator.from_seed(config.seed + 1)
    x_val, x_test = validation[0], test[0]
    return Pipeline(_batches(fit[0], fit[0], config, lambda x, g: augment.seasoned_batch(x, level, g)),
                    _fixed(augment.seasoned_batch(x_val, level, generator).numpy(), x_val),
                    _fixed(augment.seasoned_batch(x_test, level, generator).numpy(), x_test),
                    len(fit[0]), "binary_crossentropy")


def _cvae(config, fit, validation, test) -> Pipeline:
    (x, y), (x_val, y_val), (x_test, y_test) = fit, validation, test
    return Pipeline(_batches((x, y), x, config), _fixed((x_val, y_val), x_val), _fixed((x_test, y_test), x_test),
                    len(x), "binary_crossentropy")


def _autoencoder(config, fit, validation, test) -> Pipeline:
    # The dense denoiser sees seasoned inputs (the VAE level 0: clean ones) with clean
    # targets; the noise is drawn once per run from the config's seed.
    rng, level = np.random.default_rng(config.seed), config.noise_level
    x, x_val, x_test = fit[0], validation[0], test[0]
    return Pipeline(_batches(salt_and_pepper(x, level, rng), x, config),
                    _fixed(salt_and_pepper(x_val, level, rng), x_val),
                    _fixed(salt_and_pepper(x_test, level, rng), x_test), len(x), "binary_crossentropy")


PIPELINES = {**{kind: _classifier for kind in CLASSIFIERS}, "conv_denoiser": _conv_denoiser, "cvae": _cvae,
             "denoising_autoencoder": _autoencoder, "vae": _autoencoder}


def smoothed_crossentropy(smoothing: float) -> Callable:
    """A Keras loss: cross-entropy of integer labels (batch,) or (batch, 1), values 0-9,
    against softmax probabilities (batch, 10) float, smoothed by ``smoothing`` in [0, 1):
    the target puts ``1 - smoothing + smoothing / 10`` on the true class and
    ``smoothing / 10`` on each other (Szegedy et al., 2016). Returns a (batch,) float
    tensor of losses in nats. Keras' sparse cross-entropy has no smoothing."""
    def loss(labels, probabilities):
        one_hot = keras.ops.one_hot(keras.ops.cast(keras.ops.reshape(labels, (-1,)), "int32"), 10)
        return keras.losses.categorical_crossentropy(one_hot, probabilities, label_smoothing=smoothing)

    return loss


def _optimizer(config: TrainConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    rate = config.learning_rate
    if config.lr_schedule == "cosine":
        total = steps_per_epoch * config.epochs
        warmup = max(1, total // 20)
        # max(1, ...): a run of one step (one epoch of at most one batch) has nothing left to
        # decay, and Keras refuses decay_steps=0.
        rate = keras.optimizers.schedules.CosineDecay(
            0.0, decay_steps=max(1, total - warmup), warmup_target=config.learning_rate, warmup_steps=warmup)
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(rate, momentum=config.momentum)
    return keras.optimizers.Adam(rate)


class EpochClock(keras.callbacks.Callback):
    """Adds ``seconds`` since training began to each epoch's logs (validation included)."""

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs["seconds"] = time.perf_counter() - self.start


class EpochReporter(keras.callbacks.Callback):
    """Calls ``on_epoch(epoch, epochs, logs)`` after each epoch, epoch counted from 1."""

    def __init__(self, on_epoch: Callable[[int, int, dict], None], epochs: int):
        super().__init__()
        self.on_epoch, self.epochs = on_epoch, epochs

    def on_epoch_end(self, epoch, logs=None):
        self.on_epoch(epoch + 1, self.epochs, {k: float(v) for k, v in (logs or {}).items()})


class BatchProgress(keras.callbacks.Callback):
    """Calls ``on_progress(epochs_done)`` during training, at most once per ``every``
    seconds: ``epochs_done`` counts epochs as a float (1.5 = halfway through the second),
    so a page can move its progress bar before the first epoch ends."""

    def __init__(self, on_progress: Callable[[float], None], every: float = 1.0):
        super().__init__()
        self.on_progress, self.every, self.last, self.epoch = on_progress, every, 0.0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if now - self.last >= self.every and self.params.get("steps"):
            self.last = now
            self.on_progress(self.epoch + (batch + 1) / self.params["steps"])


class HistoryBackup(keras.callbacks.Callback):
    """Keeps the history of every epoch so far in ``<backup_dir>/history.json``, beside the
    weights that Keras' ``BackupAndRestore`` saves there, so that a run resumed from its
    last saved epoch returns the history of all its epochs, its ``seconds`` counting on
    from where the interrupted run stopped.

    Placed before ``BackupAndRestore``: an epoch's history is written before its weights,
    so the file always covers the epoch the weights resume from (a crash between the two
    writes leaves one epoch too many, which the next run cuts off).

    Attributes:
        history: {metric: [one float per epoch]}, every epoch of the run so far.
        resumed: the epochs (counted from 1) at which the run was resumed, oldest first.
    """

    def __init__(self, backup_dir: Path, on_resume: Callable[[int], None] | None = None):
        super().__init__()
        self.path, self.on_resume = Path(backup_dir) / "history.json", on_resume
        saved = json.loads(self.path.read_text()) if self.path.exists() else {}
        self.history, self.resumed = saved.get("history", {}), saved.get("resumed", [])
        self.first_epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.first_epoch is not None:
            return
        # The first epoch of this run: 0, or the epoch BackupAndRestore resumed at.
        self.first_epoch = epoch
        self.history = {name: values[:epoch] for name, values in self.history.items()}
        if epoch and any(len(values) < epoch for values in self.history.values()):
            raise RuntimeError(f"the checkpoint in {self.path.parent} has weights for epoch {epoch} "
                               "but not its history")
        if epoch:
            self.resumed.append(epoch + 1)
            if self.on_resume:
                self.on_resume(epoch + 1)

    @property
    def seconds_before(self) -> float:
        """Seconds of training before this run resumed (0.0 for a fresh run)."""
        if self.first_epoch is None:  # no epoch left to run: the checkpoint was of the last one
            return self.history.get("seconds", [0.0])[-1]
        return self.history["seconds"][self.first_epoch - 1] if self.first_epoch else 0.0

    def on_epoch_end(self, epoch, logs=None):
        logs["seconds"] = self.seconds_before + logs.get("seconds", 0.0)
        for name, value in logs.items():
            self.history.setdefault(name, []).append(float(value))
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"history": self.history, "resumed": self.resumed}))
        os.replace(tmp, self.path)  # atomic: a crash leaves the old file or the new one


def train(config: TrainConfig, on_epoch: Callable[[int, int, dict], None] | None = None,
          mnist: images.ImageSet | None = None,
          on_progress: Callable[[float], None] | None = None,
          backup_dir: Path | None = None, on_resume: Callable[[int], None] | None = None) -> TrainResult:
    """Train one model from scratch on its data set (MNIST unless ``config.dataset``);
    evaluate it once on the 10,000 test images.

    Args:
        config: the run; validated first.
        on_epoch: called after each epoch as ``on_epoch(epoch, epochs, logs)``, epoch
            counted from 1, ``logs`` the epoch's training and validation metrics.
        mnist: the loaded data set of ``config.dataset`` (``core.data.registry.load``), to
            skip reloading it; loaded when None.
        on_progress: called about once a second during training with the epochs done
            so far as a float (``BatchProgress``).
        backup_dir: a folder for the run's checkpoint: the weights, optimizer state and
            epoch after each epoch (Keras' ``BackupAndRestore``, two copies, so a crash
            while writing one leaves the other) and the history so far
            (``HistoryBackup``). A run that finds a checkpoint there resumes after its
            epoch instead of starting over. The folder is left in place: the caller
            removes it once the result is safe.
        on_resume: called once with the epoch (from 1) a resumed run starts at.

    Returns:
        TrainResult with ``history`` = {metric: [one float per epoch]}: loss and
        val_loss, for classifiers accuracy and val_accuracy, and ``seconds`` since
        training began (each epoch's validation pass included); no test metric. And
        ``metrics``: config, seed, data source and sha256, test_loss and (classifiers)
        test_accuracy measured once after training, param_count, training_seconds,
        library versions.

    Determinism: ``keras.utils.set_random_seed(seed)`` and TensorFlow op determinism,
    so the same config on the same machine, library versions and thread counts gives the
    same weights. A resumed run is not bit-identical to an uninterrupted one (its data
    order and augmentation restart from the seed); ``metrics["resumed_at_epochs"]`` says
    where it was resumed. A model trained in mixed precision is returned (and tested) as
    its float32 copy.

    Raises:
        ValueError: if the config is invalid.
        core.data.images.DataUnavailableError: if the data set cannot be loaded.
    """
    config.validate()
    mnist = mnist or datasets.load(config.dataset)
    fit, validation, test = mnist.splits()
    if config.train_size:
        fit = tuple(array[: config.train_size] for array in fit)
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    pipeline = PIPELINES[config.kind](config, fit, validation, test)
    with precision(config.precision):
        model = build(config)
    loss = smoothed_crossentropy(config.label_smoothing) if config.label_smoothing else pipeline.loss
    model.compile(optimizer=_optimizer(config, math.ceil(pipeline.size / config.batch_size)),
                  loss=loss, metrics=list(pipeline.metrics), steps_per_execution=STEPS_PER_EXECUTION)
    backup = HistoryBackup(backup_dir, on_resume) if backup_dir is not None else None
    # In order: the clock stamps an epoch's logs, the backup offsets them by the time before a
    # resume, saves the history, then BackupAndRestore the weights; the reporter sees the result.
    callbacks = ([EpochClock()]
                 + ([backup, keras.callbacks.BackupAndRestore(str(backup_dir), double_checkpoint=True,
                                                              delete_checkpoint=False)] if backup else [])
                 + ([EpochReporter(on_epoch, config.epochs)] if on_epoch else [])
                 + ([BatchProgress(on_progress)] if on_progress else []))
    start = time.perf_counter()
    history = model.fit(pipeline.fit, epochs=config.epochs, validation_data=pipeline.validation,
                        callbacks=callbacks, verbose=0, shuffle=False).history
    seconds = time.perf_counter() - start
    if backup is not None:
        history, seconds = backup.history, seconds + backup.seconds_before

    if config.precision != "float32":
        model = float32_copy(config, model)
    if config.precision != "float32" or config.label_smoothing:
        # Tested as it is stored and served: in float32, scored by plain cross-entropy.
        model.compile(loss=pipeline.loss, metrics=list(pipeline.metrics))
    # The test set, once, after every choice has been made.
    evaluation = model.evaluate(pipeline.test, verbose=0, return_dict=True)
    metrics = {
        "kind": config.kind, "key": config.key(), "config": asdict(config), "seed": config.seed,
        "dataset": config.dataset,
        "data_source": mnist.source, "data_sha256": mnist.sha256,
        "test_loss": float(evaluation["loss"]), "param_count": int(model.count_params()),
        "epochs": config.epochs, "training_seconds": round(seconds, 2), "versions": library_versions(),
        # Identical weights need the same thread counts too (0: TensorFlow's default, every core).
        "threads": {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                    "inter_op": tf.config.threading.get_inter_op_parallelism_threads()},
        "machine": machine(), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if "accuracy" in evaluation:
        metrics["test_accuracy"] = float(evaluation["accuracy"])
    if backup is not None and backup.resumed:
        metrics["resumed_at_epochs"] = list(backup.resumed)
    return TrainResult(model, {name: [float(v) for v in values] for name, values in history.items()}, metrics)
