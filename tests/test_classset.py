"""The class's handwriting: samples saved, refused, counted, deleted and exported, on SQLite
and on a real PostgreSQL server; 30 students saving at once; every model on a set of
known MNIST test digits; the new-symbols head; fine-tuning through a real worker."""

import datetime
import io
import threading

import numpy as np
import pytest

from core.classset import db, evaluate, samples
from core.drawing.preprocess import to_mnist
from core.drawing.strokes import to_image
from core.queue import classroom

ONE = [[[0.5, 0.14], [0.5, 0.86]]]
SEVEN = [[[0.3, 0.2], [0.75, 0.2], [0.45, 0.85]]]


def add_images(images, labels, students):
    """Rows as ``samples.save`` writes them, from ready 28x28 images (known MNIST test
    digits), with no strokes: how a test builds a class set of known answers."""
    now = datetime.datetime.now(datetime.timezone.utc)
    with db.engine().begin() as conn:
        conn.execute(db.samples.insert(), [
            {"label": str(label), "student": student, "created": now, "strokes": [],
             "image": np.ascontiguousarray(image, "<f4").tobytes()}
            for image, label, student in zip(images, labels, students)])


def test_a_runs_store_that_cannot_hold_the_database_gets_one_sentence(queue_env, monkeypatch):
    monkeypatch.delenv(db.DATABASE_ENV_VAR, raising=False)
    db.dispose()
    queue_env.parent.mkdir(parents=True, exist_ok=True)
    queue_env.write_text("a file where the runs store should be")
    with pytest.raises(db.DatabaseUnavailable, match="cannot be created there"):
        samples.counts()
    db.dispose()


def test_the_sqlite_default_lives_in_the_runs_store(database, queue_env):
    if database == "sqlite":
        assert db.database_url() == f"sqlite:///{queue_env / db.SQLITE_NAME}"
        samples.save("Ada", "1", ONE)
        assert (queue_env / db.SQLITE_NAME).exists()


def test_a_sample_keeps_its_label_student_time_strokes_and_the_models_input(database):
    sample_id = samples.save("Ada", "7", SEVEN)
    data = samples.load()
    assert data.ids.tolist() == [sample_id]
    assert data.labels.tolist() == ["7"] and data.students.tolist() == ["Ada"]
    np.testing.assert_array_equal(data.images[0], to_mnist(to_image(SEVEN)))
    assert data.images.dtype == np.float32 and data.images.shape == (1, 28, 28)
    assert samples.strokes_of(sample_id) == SEVEN
    saved = datetime.datetime.fromisoformat(data.created[0])
    assert abs((datetime.datetime.now(datetime.timezone.utc) - saved).total_seconds()) < 60


@pytest.mark.parametrize("strokes, label, says", [
    ([[["x", 1]]], "1", "could not be read"),
    ({"strokes": 1}, "1", "could not be read"),
    ([], "4", "The pad is empty: draw a 4 first"),
    ([[[0.5, 0.5]]], "4", "only a dot"),
    (ONE, "12", "is not one of the class's classes"),
    (ONE, 3, "is not one of the class's classes"),
    (ONE, "+", "is not one of the class's classes"),
])
def test_bad_input_gets_one_sentence_and_is_not_saved(database, strokes, label, says):
    with pytest.raises(samples.SampleError, match=says) as refused:
        samples.save("Ada", label, strokes)
    assert str(refused.value).count(". ") == 0 and "Traceback" not in str(refused.value)
    assert len(samples.load()) == 0


def test_no_name_no_sample(database):
    with pytest.raises(samples.SampleError, match="Pick your name"):
        samples.save("", "1", ONE)
    assert samples.counts() == {}


def test_thirty_students_saving_at_once_lose_nothing(database):
    barrier, errors = threading.Barrier(30), []

    def student(i):
        try:
            barrier.wait()
            for label in "0123":
                samples.save(f"Student {i}", label, ONE)
        except Exception as exc:  # noqa: BLE001  any failure is the test's failure
            errors.append(exc)

    threads = [threading.Thread(target=student, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    data = samples.load()
    assert len(data) == 120 and len(set(data.ids.tolist())) == 120
    assert samples.students() == {f"Student {i}": 4 for i in range(30)}
    assert samples.counts() == {label: 30 for label in "0123"}


def test_the_pad_asks_for_the_digit_the_set_lacks(database):
    asked = []
    for _ in range(12):
        label = samples.next_label("Ada", samples.DIGITS)
        asked.append(label)
        samples.save("Ada", label, ONE)
    assert asked[:10] == list(samples.DIGITS) and asked[10:] == ["0", "1"]
    samples.save("Bo", "0", ONE)
    assert samples.next_label("Bo", samples.DIGITS) == "2"  # Bo lacks all but 0; 2-9 the class lacks most


def test_teacher_actions_are_checked_on_the_server(database, grant):
    first = samples.save("Ada", "1", ONE)
    samples.save("Ada", "7", SEVEN)
    samples.save("Bo", "1", ONE)
    for action in (lambda g: samples.delete(g, first), lambda g: samples.delete_student(g, "Ada"),
                   lambda g: samples.export(g), lambda g: samples.set_sharing(g, True),
                   lambda g: samples.remove_symbol(g, "+")):
        for forged in (None, "", "not-a-grant"):
            with pytest.raises(classroom.NotTeacher):
                action(forged)
    assert len(samples.load()) == 3 and not samples.sharing()
    assert samples.delete_own("Bo", first) is False  # not Bo's
    assert samples.delete(grant, first) is True
    assert samples.delete_student(grant, "Bo") == 1
    assert samples.load().labels.tolist() == ["7"]
    samples.set_sharing(grant, True)
    assert samples.sharing()
    samples.set_sharing(grant, False)
    assert not samples.sharing()


def test_students_see_their_own_drawings_unless_the_teacher_shares(database, grant):
    owners = np.array(["Ada", "Bo", "Ada"])
    assert samples.shown_to("Ada", False, owners).tolist() == [True, False, True]
    assert samples.shown_to(None, False, owners).tolist() == [False, False, False]
    assert samples.shown_to("Bo", True, owners).all()
    samples.set_sharing(grant, True)
    assert samples.shown_to("Bo", False, owners).all()


def test_the_export_reloads_to_the_same_arrays(database, grant):
    samples.add_symbol("Ada", "+")
    for student, label, strokes in (("Ada", "1", ONE), ("Bo", "7", SEVEN), ("Bo", "+", [[[0.2, 0.5], [0.8, 0.5]],
                                                                                     [[0.5, 0.2], [0.5, 0.8]]])):
        samples.save(student, label, strokes)
    data = samples.load()
    npz, text = samples.export(grant)
    with np.load(io.BytesIO(npz), allow_pickle=False) as back:
        np.testing.assert_array_equal(back["images"], data.images)
        assert back["images"].dtype == np.float32 and back["images"].shape == (3, 28, 28)
        assert back["classes"].tolist() == ["1", "7", "+"]
        assert back["classes"][back["labels"]].tolist() == ["1", "7", "+"]
        assert back["students"].tolist() == ["Ada", "Bo", "Bo"]
        assert back["ids"].tolist() == data.ids.tolist()
    rows = text.decode().splitlines()
    assert len(rows) == 4 and rows[0].startswith("id,student,label,created,pixel0,")
    pixels = np.array([int(v) for v in rows[2].split(",")[4:]], np.uint8).reshape(28, 28)
    np.testing.assert_array_equal(pixels, np.round(data.images[1] * 255).astype(np.uint8))


def test_symbols_are_the_class_s_own_classes(database, grant):
    assert samples.add_symbol("Ada", " + ") == "+"
    for name, says in (("+", "already has"), ("7", "1 to 3 letters or signs"), ("", "1 to 3"), ("<b>x</b>", "1 to 3")):
        with pytest.raises(samples.SampleError, match=says):
            samples.add_symbol("Bo", name)
    for name in "-x=ABCD":
        samples.add_symbol("Bo", name)
    with pytest.raises(samples.SampleError, match="the most it may have"):
        samples.add_symbol("Bo", "E")
    samples.save("Ada", "+", [[[0.2, 0.5], [0.8, 0.5]], [[0.5, 0.2], [0.5, 0.8]]])
    samples.save("Ada", "1", ONE)
    assert samples.remove_symbol(grant, "+") == 1
    assert "+" not in samples.symbol_names() and samples.counts() == {"1": 1}


def test_every_model_reads_known_mnist_test_digits_as_it_did(database, test_set):
    from core.analysis.mistakes import test_predictions
    from core.config import default_config
    from core.store import cache

    x, y = test_set[0][:400], test_set[1][:400]
    add_images(x, y, [f"S{i % 4}" for i in range(400)])
    data = samples.load().digits()
    np.testing.assert_array_equal(data.images, x)
    for kind in ("cnn", "dense_64_64"):
        model = cache.load(default_config(kind)).model
        known = float(np.mean(np.argmax(test_predictions(model, x), axis=1) == y))
        probs = evaluate.every_model({kind: model}, data.images, data.digit_labels())[kind]
        assert evaluate.accuracy(probs, data.digit_labels()) == pytest.approx(known, abs=1e-9)
        rows = evaluate.per_student(probs, data.digit_labels(), data.students)
        assert [r["student"] for r in rows] == ["S0", "S1", "S2", "S3"]
        assert sum(r["read right"] for r in rows) == round(known * 400)


def bar(rng, vertical: bool) -> list:
    """A slightly tilted bar of random length and place, as a student would draw it."""
    a, b, c, tilt = rng.uniform(0.1, 0.3), rng.uniform(0.7, 0.9), rng.uniform(0.3, 0.7), rng.uniform(-0.08, 0.08)
    return [[[c, a], [c + tilt, b]]] if vertical else [[[a, c], [b, c + tilt]]]


def test_the_new_symbols_head_learns_two_bars(database, rng):
    from core.classset import symbols
    from core.config import default_config
    from core.store import cache

    samples.add_symbol("Ada", "-")
    samples.add_symbol("Ada", "|")
    for i in range(symbols.MIN_PER_SYMBOL):
        samples.save(f"S{i % 3}", "-", bar(rng, False))
        samples.save(f"S{i % 3}", "|", bar(rng, True))
    samples.save("S0", "1", ONE)  # a digit: not part of the head's data
    with pytest.raises(ValueError, match="at least 2 symbols"):
        symbols.plan(samples.load(), ["-"])
    config, data = symbols.plan(samples.load(), samples.symbol_names())
    with np.load(io.BytesIO(data)) as arrays:
        assert len(arrays["images"]) == 2 * symbols.MIN_PER_SYMBOL
    images = samples.load(labels=("-", "|"))
    labels = (images.labels == "|").astype(np.int64)
    model, history, metrics = symbols.train(config, cache.load(default_config("cnn")).model, images.images, labels)
    assert metrics["held_out_accuracy"] == 1.0 and metrics["held_out_count"] == 8
    assert metrics["trainable_params"] == 1024 * 2 + 2  # only the new head learns
    assert len(history["val_accuracy"]) == config.epochs
    fresh = [to_mnist(to_image(bar(rng, v))) for v in (False, True, False, True)]
    assert np.argmax(np.asarray(model(np.array(fresh), training=False)), axis=1).tolist() == [0, 1, 0, 1]


def test_fine_tuning_runs_through_a_real_worker(database, worker, queue_env, test_set):
    from core.classset import finetune
    from core.queue import jobs

    x, y = test_set[0][:90], test_set[1][:90]
    add_images(x, y, [f"S{i % 3}" for i in range(90)])
    config, data = finetune.plan(samples.load())
    assert len(config.held_out) == 1
    config = finetune.FineTuneConfig(**{**config.__dict__, "mnist_mix": 200, "epochs": 1})
    job = classroom.submit_class_job("finetune", config, data, "Fine-tune", 60.0, "Ada")
    state = jobs.wait(job.id, timeout=300)
    assert state["state"] == "done", state["reason"]
    assert jobs.collect() == [config.entry]
    [run] = finetune.stored()
    assert run["student"] == "Ada" and run["config"]["held_out"] == list(config.held_out)
    assert run["held_out_digits"] == 30 and run["class_digits_fitted"] == 60 and run["mnist_digits_fitted"] == 200
    for side in ("before", "after"):
        assert 0.9 <= run[side]["held_out_accuracy"] <= 1 and 0.98 <= run[side]["mnist_test_accuracy"] <= 1
    assert len(run["history"]["val_accuracy"]) == 1


def test_the_class_models_and_mistakes_pages_read_the_class_s_digits(queue_env, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from core.drawing.templates import scripted

    monkeypatch.delenv(db.DATABASE_ENV_VAR, raising=False)
    db.dispose()
    rng = np.random.default_rng(0)
    for i in range(30):
        samples.save(("Ada", "Bo", "Cy")[i % 3], str(i % 10), scripted(str(i % 10), rng))
    at = AppTest.from_file("../app.py", default_timeout=180)
    at.run()
    at.switch_page("pages/class_models.py").run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert len(table) >= 20 and table["the class's digits"].between(0, 100).all()
    assert any("On **30** digits from **3** students" in m.value for m in at.markdown)
    assert any(b.label.startswith("Fine-tune on 20 digits, holding out") for b in at.button)
    assert any("needs at least 2 symbols" in i.value for i in at.info)
    at.session_state["mistakes-source"] = "The class's digits"
    at.switch_page("pages/mistakes.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("of the class's 30 digits right" in m.value for m in at.markdown)
    db.dispose()
