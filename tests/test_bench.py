"""The benchmark's table logic and timing (its measurements run in `python -m core bench`)."""

import numpy as np
import pytest

from core import bench
from core.bench import Row, canvas_images, markdown, timings_ms
from core.drawing.preprocess import to_mnist
from core.targets import TARGETS, Target


def test_rows_pass_or_miss_in_the_right_direction():
    assert Row("acc", 0.99, "%", Target(0.98, "%")).passed is True
    assert Row("acc", 0.97, "%", Target(0.98, "%")).passed is False
    assert Row("latency", 5.0, "ms", Target(10.0, "ms", higher_is_better=False)).passed is True
    assert Row("latency", 12.0, "ms", Target(10.0, "ms", higher_is_better=False)).passed is False
    assert Row("time to 99%", 3.0, "min").passed is None


def test_recorded_rows_are_never_marked():
    row = Row("training time", 5.0, "min", TARGETS["cnn_training_minutes"], recorded="cnn-x/metrics.json")
    assert row.passed is None
    assert Row("training time", 9.0, "min", TARGETS["cnn_training_minutes"], recorded="x").passed is None


def test_markdown_shows_targets_misses_medians_and_the_machine():
    rows = [Row("cnn", 0.9961, "%", Target(0.996, "%", course="99.2%")),
            Row("p95", 12.0, "ms", Target(10.0, "ms", higher_is_better=False), median=8.0),
            Row("rebuild", 50.0, "min", TARGETS["rebuild_minutes"], recorded="rebuild.json, AMD EPYC, 2 cores")]
    text = markdown(rows, {"date": "2026-11-21", "cpu": "AMD EPYC", "cores": 2, "gpus": [],
                           "tensorflow": "2.21.0", "keras": "3.15.1"})
    assert "| cnn | 99.61% |  | ≥ 99.60% | 99.2% | pass |" in text
    assert "| p95 | 12.0 ms | 8.0 ms | ≤ 10.0 ms |  | **miss** |" in text
    limit = TARGETS["rebuild_minutes"].value
    assert f"| rebuild | 50.0 min |  | ≤ {limit:.1f} min |  | recorded (rebuild.json, AMD EPYC, 2 cores) |" in text
    assert "2026-11-21 on AMD EPYC, 2 cores, no GPU found by TensorFlow" in text


def test_timings_are_median_and_p95_of_each_call(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(bench.time, "perf_counter", lambda: clock[0])

    def work(ms):
        clock[0] += ms / 1000

    durations = list(range(1, 101))  # 1..100 ms
    median, p95 = timings_ms(work, durations, warmup=5)
    assert median == pytest.approx(50.5) and p95 == pytest.approx(np.percentile(durations, 95))
    assert p95 == pytest.approx(95.05)
    with pytest.raises(ValueError):
        timings_ms(work, [])


def test_canvas_images_look_like_the_draw_page_canvas(test_set):
    x = test_set[0][:2]
    images = canvas_images(x)
    assert images[0].shape == (280, 280, 4) and images[0].dtype == np.uint8
    # Back through the Draw page's preprocessing: close to the original digit.
    assert np.abs(to_mnist(images[0]) - x[0]).mean() < 0.1


def test_encode_image_is_a_jpeg():
    data = bench.encode_image(np.linspace(0, 1, 84 * 84, dtype=np.float32).reshape(84, 84))
    assert data[:3] == b"\xff\xd8\xff"


def test_a_yes_no_row_and_the_training_speed_table():
    assert Row("same weights", True, "yes/no").shown(True) == "yes" and Row("x", 0, "yes/no").shown(False) == "no"
    table = [{"name": "cnn seed 0", "training_seconds": 150.0, "epoch_seconds": 9.1, "images_per_second": 6044.0,
              "gflops": 120.0, "roofline": 0.8, "seconds_to_99": 21.3, "same_weights": True,
              "precision": "mixed_bfloat16", "matmul_gflops": 150.0}]
    text = bench.speed_markdown(table)
    assert "float32 matmul rate, NumPy: 150 GFLOP/s" in text
    assert "| cnn seed 0 (bfloat16) | 150.0 s | 9.10 s | 6,044 | 120.0 | 80.0% | 21.3 s | yes |" in text
    assert bench.speed_markdown([]) == ""


def test_without_training_the_time_rows_are_as_recorded():
    rows = bench.training_rows([])
    assert rows and all(row.recorded and row.passed is None for row in rows)
    assert any(row.what.startswith("quick_cnn seed 0, training time") for row in rows)
    assert any("time to 99.0% validation accuracy" in row.what for row in rows)


def test_the_machines_matmul_rate_is_measured():
    from core.training.speed import matmul_gflops

    assert 1 < matmul_gflops(size=256, repeats=2) < 100_000


def test_the_class_rows_measure_saving_reading_and_the_symbols_head(monkeypatch, tmp_path):
    from core.classset import db

    monkeypatch.setenv(db.DATABASE_ENV_VAR, f"sqlite:///{tmp_path / 'mine.sqlite'}")
    rows = bench.class_rows(digits=30, students=3, per_symbol=20)
    by_target = {row.target: row for row in rows if row.target is not None}
    assert set(by_target) == {TARGETS["class_save_ms"], TARGETS["class_eval_s"], TARGETS["symbols_head_s"]}
    assert all(row.value is not None and row.value > 0 and not row.recorded for row in rows)
    assert by_target[TARGETS["class_save_ms"]].median <= by_target[TARGETS["class_save_ms"]].value
    # The benchmark's own database came and went: the one in use before is in use again.
    assert db.database_url() == f"sqlite:///{tmp_path / 'mine.sqlite'}"


def test_the_fool_rows_time_a_picture_and_count_the_transfer(test_set):
    from core.config import default_config
    from core.store import cache

    cnn, dense = (cache.load(default_config(kind)).model for kind in ("cnn", "dense_64_64"))
    timed, epsilon, transfer = bench.fool_rows(cnn, dense, test_set[0], test_set[1], count=6)
    assert timed.target is TARGETS["fool_ms"] and 0 < timed.median <= timed.value
    assert 0 < epsilon.value <= 0.3 and 0 <= transfer.value <= 1
