"""The lab's targets: one table, read by the benchmark (which prints it) and by the
tests' accuracy floors, so the two cannot drift apart.

Accuracies are fractions of the 10,000 MNIST test digits (Fashion-MNIST's rows: of its
10,000 test images); times are on this lab's
2-core CPU machine. "course" quotes the course experiments the lab grew out of.
"""

from __future__ import annotations

from dataclasses import dataclass

# Hinton's result for 784-500-300-10 with weight decay on plain digits, from LeCun's
# MNIST table ("2-layer NN, 500+300 HU, softmax, cross entropy, weight decay").
HINTON_ACCURACY = 0.9847


@dataclass(frozen=True)
class Target:
    """A bound on one measurement: ``value`` in ``unit`` ("%" means a fraction in [0, 1])."""

    value: float
    unit: str
    higher_is_better: bool = True
    course: str = ""

    def met(self, measured: float) -> bool:
        """Whether ``measured`` (same unit) meets the target."""
        return measured >= self.value if self.higher_is_better else measured <= self.value


def shown(unit: str, value, space: str = " ") -> str:
    """A measurement as the benchmark table prints it: "%" as a percentage with two
    decimals (``value`` a fraction), "yes/no" as yes or no, any other unit as one decimal
    and the unit after ``space``; "" for None."""
    if value is None:
        return ""
    if unit == "yes/no":
        return "yes" if value else "no"
    return f"{100 * value:.2f}%" if unit == "%" else f"{value:.1f}{space}{unit}"


def target_text(higher_is_better: bool, unit: str, value, space: str = " ") -> str:
    """A target as the benchmark table prints it: "≥ 97.80%", "≤ 4.0 min" (``space`` also
    after the sign)."""
    return ("≥" if higher_is_better else "≤") + space + shown(unit, value, space)


TARGETS = {
    "dense_64_64": Target(0.978, "%", course="97.1–97.5%"),
    "dense_500_300_plain": Target(0.985, "%", course=f"best 98.33%; Hinton {HINTON_ACCURACY:.2%}"),
    "cnn_each": Target(0.996, "%", course="98.8–99.26%"),
    "cnn_mean": Target(0.9962, "%"),
    # Fast training: the lab's CNN in minutes, not ten; 99% validation accuracy
    # within half a minute; times are training seconds with every validation pass included.
    "cnn_training_minutes": Target(4.0, "min", higher_is_better=False),
    "cnn_seconds_to_99_val": Target(30.0, "s", higher_is_better=False),
    # The quick CNN a class trains many times: each seed past 99% in at most 20 s.
    "quick_cnn_each": Target(0.99, "%"),
    "quick_cnn_training_seconds": Target(20.0, "s", higher_is_better=False),
    # The Train page's estimate of a run's time, against the time recorded (a fraction).
    "estimate_error": Target(0.30, "%", higher_is_better=False),
    "conv_denoiser_0.0": Target(0.99, "%", course="95.4%"),
    "conv_denoiser_0.5": Target(0.96, "%", course="86.2%"),
    "conv_denoiser_0.7": Target(0.85, "%", course="51.4%"),
    "cvae_agreement": Target(0.98, "%"),
    "draw_ms": Target(50.0, "ms", higher_is_better=False),
    # Server side, the Denoising page's Other digits: all 21 noise levels of 8 new digits
    # (its slider then moves in the browser); a third of the 1.5 s the browser may take.
    "other_digits_ms": Target(500.0, "ms", higher_is_better=False),
    "rebuild_minutes": Target(45.0, "min", higher_is_better=False),
    # The same CNN on a harder data set, Fashion-MNIST (fractions of its 10,000 test
    # images), its recipe chosen on validation, trained within 4 minutes here.
    "fashion_cnn": Target(0.93, "%"),
    "fashion_cnn_training_minutes": Target(4.0, "min", higher_is_better=False),
    # Server side: a new drawing on the Inside page (feature maps, occlusion and
    # gradient maps, probabilities) and a click on a confusion-matrix cell.
    "inside_ms": Target(300.0, "ms", higher_is_better=False),
    "confusion_click_ms": Target(200.0, "ms", higher_is_better=False),
    # In Chromium (benchmarks/browser.py): what a teacher in front of a class waits for.
    "stroke_to_answer_ms": Target(500.0, "ms", higher_is_better=False),
    # Digits that follow the hand (benchmarks/browser.py, 1024x768): the time between frames
    # while the Denoising slider or the latent map is dragged, the messages a drag sends to
    # the server, and Other digits to the new frames shown.
    "drag_frame_ms": Target(33.0, "ms", higher_is_better=False),
    "drag_messages": Target(0, "messages", higher_is_better=False),
    "other_digits_s": Target(1.5, "s", higher_is_better=False),
    "first_page_s": Target(4.0, "s", higher_is_better=False),
    "first_visit_s": Target(4.0, "s", higher_is_better=False),
    # A class on one server (benchmarks/load.py: students speaking Streamlit's
    # protocol, think time 3-8 s, one training running, 2 cores): per step, new digits on
    # the Denoising page and the pad's answer at p95, every health check, no errors; the largest
    # class that meets all of them.
    # The Denoising page's server part: its slider moves in the browser, so what a student
    # waits for is Other digits (every noise level of 8 new digits in one payload).
    "class_other_digits_p95": Target(1.0, "s", higher_is_better=False),
    "class_stroke_p95": Target(0.5, "s", higher_is_better=False),
    "class_health_max": Target(1.0, "s", higher_is_better=False),
    "class_errors": Target(0, "errors", higher_is_better=False),
    "class_students": Target(30, "students"),
    # The same class in Chromium (benchmarks/classroom.py), where a few real browsers
    # cross-check the protocol-level numbers: each interaction's p95 includes the browser's
    # own rendering on the shared 2 cores, hence the looser bounds.
    "browser_class_slider_p95": Target(1500.0, "ms", higher_is_better=False),
    "browser_class_other_digits_p95": Target(1500.0, "ms", higher_is_better=False),
    "browser_class_stroke_p95": Target(1500.0, "ms", higher_is_better=False),
    "browser_class_health_max": Target(1000.0, "ms", higher_is_better=False),
    "browser_class_errors": Target(0, "errors", higher_is_better=False),
    "browser_class_rss_growth": Target(40.0, "MB per student", higher_is_better=False),
    # The class's handwriting (core.classset), on a scripted class (core.drawing.templates) in a
    # SQLite database: saving one drawing server side (strokes to the 28x28 input, one insert) at
    # p95; every shipped MNIST classifier reading 1,000 class digits from the database (the models
    # in memory, as the Class models page keeps them); a new-symbols head from loading the CNN
    # to its last epoch.
    "class_save_ms": Target(200.0, "ms", higher_is_better=False),
    "class_eval_s": Target(5.0, "s", higher_is_better=False),
    "symbols_head_s": Target(30.0, "s", higher_is_better=False),
    # Fooling the network (the Inside page): for one picture, server side, the smallest FGSM change
    # that flips the CNN's answer, the picture at that epsilon and the dense 64-64 net's answers.
    "fool_ms": Target(500.0, "ms", higher_is_better=False),
}
