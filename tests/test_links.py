"""Links that reopen a view (core.present.links): every page's link round-trips from its
state to its address and back, a tampered value keeps its default with its name refused,
``check_link`` validates any link without Streamlit; and each page, opened in AppTest with
a link, shows that view, writes it back as it changes, and says a tampered link's problem
in one sentence, never a traceback."""

import re

import pytest
from streamlit.testing.v1 import AppTest

from core.analysis import compare
from core.config import DROPOUT_PAIR, FASHION, default_config
from core.paths import ROOT
from core.present.links import (DEFAULT_CNN, LESSON_NAME, LINKS, MAX_TEXT, PRESET_KEYS, check_link, decode_train, encode_train,
                                page_path, refusal_sentence)

from addresses import address, infos, open_page

FUZZ = ["", "nan", "NaN", "1e999", "-1", "[[[[", "x" * 10_000, "0x10", " 1", "2.5", "None", "true", "∞", "%00"]
# A view of each page away from its defaults, as the page would write it.
VIEWS = {
    "denoising": {"noise": 0.55, "digits": 3},
    "latent": {"z1": 1.25, "z2": -0.8, "from": 123, "to": 4567, "digit": 8},
    "inside": {"model": FASHION[0].entry, "index": 123, "method": "pgd"},
    "mistakes": {"model": default_config("dense_64_64").entry, "data": "class", "true": 4, "read": 9},
    "compare": {"preset": "dropout"},
    "lessons": {"lesson": "03-convolutions", "step": 4},
}


def test_the_pages_are_app_pys_pages():
    # Every st.Page of app.py has a link, under the URL path Streamlit gives it (the file's name; the
    # default page is "/"), and no link names a page app.py lacks.
    files = re.findall(r'st\.Page\("pages/(\w+)\.py"(.*?)\)', (ROOT / "app.py").read_text())
    paths = {"" if "default=True" in rest else name for name, rest in files}
    assert paths == set(LINKS)
    assert PRESET_KEYS == tuple(p.key for p in compare.PRESETS)
    assert DEFAULT_CNN == f"cnn-{default_config('cnn').key()}"


@pytest.mark.parametrize("path", sorted(VIEWS))
def test_a_view_goes_into_an_address_and_comes_back(path):
    link = LINKS[path]
    view = VIEWS[path]
    params = link.encode(view)
    assert all(isinstance(v, str) for v in params.values())
    state, refused = link.decode({**params, "mode": "class"})
    assert refused == []
    assert {name: state[name] for name in view} == view
    # The defaults write nothing: a default page's address stays short.
    assert link.encode(link.defaults()) == {}
    assert link.decode({}) == (link.defaults(), [])


def test_each_kind_of_value_round_trips():
    assert LINKS["denoising"].encode({"noise": 0.55, "digits": 0}) == {"noise": "0.55"}
    assert LINKS["denoising"].encode({"noise": 0.0}) == {"noise": "0.00"}
    assert LINKS["denoising"].decode({"noise": "0.00"})[0]["noise"] == 0.0
    assert LINKS["latent"].encode({"z1": -0.001, "z2": 2.0}) == {"z1": "0.00", "z2": "2.00"}
    state = LINKS["latent"].decode({"z1": "-0.00", "z2": "2"})[0]
    assert (state["z1"], state["z2"]) == (0.0, 2.0) and str(state["z1"]) == "0.0"
    runs = (default_config("dense_64_64").entry, DEFAULT_CNN)
    params = LINKS["compare"].encode({"preset": None, "runs": runs})
    assert params == {"runs": ",".join(runs)}
    assert LINKS["compare"].decode(params)[0]["runs"] == runs
    assert LINKS["inside"].encode({"index": 0}) == {"index": "0"}  # a test picture, not the drawing
    # Several values of one name (?index=1&index=2): the last, as st.query_params reads it.
    assert LINKS["inside"].decode({"index": ["1", "2"]})[0]["index"] == 2
    with pytest.raises(KeyError):
        LINKS["inside"].encode({"epochs": 3})


@pytest.mark.parametrize("path, name", [(path, f.name) for path, link in LINKS.items() for f in link.fields])
def test_a_tampered_value_keeps_its_default_and_is_named(path, name):
    link = LINKS[path]
    for text in FUZZ:
        if (path, name) == ("lessons", "lesson") and LESSON_NAME.fullmatch(text):
            continue  # "nan" is a well-formed lesson name: whether it exists is the page's (tests/test_lessons.py)
        state, refused = link.decode({name: text})
        assert refused == [name], (name, text[:20])
        assert state == link.defaults()


@pytest.mark.parametrize("path, params, refused", [
    ("denoising", {"noise": "0.123", "digits": "1000"}, ["noise", "digits"]),
    ("denoising", {"noise": "1.05", "digits": "2"}, ["noise"]),
    ("latent", {"z1": "1,2", "z2": "1", "from": "10000", "digit": "10"}, ["z1", "z2", "from", "digit"]),
    ("latent", {"z1": "11", "z2": "0"}, ["z1", "z2"]),  # z2 alone is no point
    ("latent", {"z2": "0.5"}, ["z2"]),
    ("inside", {"model": "cnn-123", "index": "12", "method": "FGSM"}, ["model", "method"]),
    ("inside", {"model": "dense_64_64-" + "a" * 12}, ["model"]),  # not a network with a convolution
    ("mistakes", {"model": "vae-" + "a" * 12, "true": "3"}, ["model", "true"]),  # a cell needs true and read
    ("mistakes", {"data": "train", "true": "3", "read": "10"}, ["data", "true", "read"]),
    ("compare", {"preset": "dropout", "runs": DEFAULT_CNN}, ["runs"]),  # one or the other
    ("compare", {"runs": ",".join([DEFAULT_CNN] * 2)}, ["runs"]),
    ("compare", {"runs": ",".join(f"cnn-{i:012x}" for i in range(9))}, ["runs"]),
])
def test_values_refused_together_or_out_of_range(path, params, refused):
    state, names = LINKS[path].decode(params)
    assert names == refused
    assert all(state[name] == LINKS[path].field(name).default for name in refused)


def test_the_sentence_names_the_refused_fields():
    link = LINKS["denoising"]
    _, refused = link.decode({"noise": "nan", "digits": "-1"})
    assert refusal_sentence(link.words(refused)) == ("This page's address named settings it cannot use (noise level, "
                                                     "digits), so those keep their defaults.")


def test_the_train_page_delegates_to_its_config():
    config, refused, whole = decode_train({"kind": "dense_500_300", "epochs": "3", "seed": "abc", "mode": "class"},
                                          ["mnist"])
    assert (config.kind, config.epochs, config.seed, refused, whole) == ("dense_500_300", 3, 0, ["seed"], False)
    assert decode_train(encode_train(config), ["mnist"]) == (config, [], False)
    config, refused, whole = decode_train({"dataset": "cifar100", "kind": "cnn"}, ["mnist"])
    assert (config.dataset, config.kind, refused, whole) == ("mnist", "quick_cnn", ["dataset", "kind"], True)


def test_check_link_takes_urls_paths_and_page_names():
    assert page_path("http://10.0.0.5:8501/inside?index=123&mode=class") == ("inside", {"index": "123",
                                                                                      "mode": "class"})
    assert page_path("/?mode=class") == ("", {"mode": "class"})
    assert page_path("mistakes?true=1&read=7") == ("mistakes", {"true": "1", "read": "7"})


@pytest.mark.parametrize("link", [
    "/", "/?mode=class", "/inside?index=123", "/inside?index=123&mode=class&method=pgd",
    "http://localhost:8501/denoising?noise=0.55&digits=3", "/latent?z1=1.25&z2=-0.80&from=3&to=4&digit=0",
    f"/mistakes?model={default_config('dense_64_64').entry}&true=4&read=9", "/mistakes?data=class",
    "/compare?preset=dropout", f"/compare?runs={DROPOUT_PAIR[0].entry},{DROPOUT_PAIR[1].entry}",
    "/train?dataset=mnist&kind=cnn&epochs=3", "/draw", "/class_models", "/teacher",
])
def test_check_link_passes_good_links(link):
    assert check_link(link) == []


@pytest.mark.parametrize("link, problem", [
    ("/nope?index=1", "/nope is not a page of the lab"),
    ("/inside/extra", "/inside/extra is not a page of the lab"),
    ("/inside?index=10000", "/inside: test picture (index) must be a whole number from 0 to 9999."),
    ("/inside?idx=3", "The Inside the CNN page has no setting named 'idx'."),
    ("/draw?index=3", "The Draw page has no setting named 'index'."),
    ("/denoising?noise=nan", "/denoising: noise level (noise) must be a number from 0 to 1 in steps of 0.05."),
    ("/denoising?mode=projector", "/denoising: mode can only be class (projector mode), not 'projector'."),
    ("/mistakes?true=3", "/mistakes: true class (true) must be given with true and read both (a cell of the matrix)."),
    (f"/mistakes?model=cnn-{'0' * 12}", f"/mistakes: no stored model is named cnn-{'0' * 12}."),
    (f"/compare?runs={DEFAULT_CNN},cnn-{'0' * 12}", f"/compare: no stored model is named cnn-{'0' * 12}."),
    ("/train?kind=cnn&epochs=9999", "/train: the Train page cannot use epochs."),
    ("/train?kind=nonsense", "/train: the Train page cannot use model, so it would open with its defaults."),
    ("/train?kind=custom&layers=" + "[[" * 5000, "/train: the Train page cannot use layers."),
    ("/latent?z2=1&z1=" + "1" * (MAX_TEXT + 1), f"/latent: map point (z1) must be at most {MAX_TEXT} characters."),
    ("/latent?z2=1", "/latent: map point (z2) must be given with z1 and z2 both (a point of the map)."),
])
def test_check_link_names_each_problem_in_a_sentence(link, problem):
    problems = check_link(link)
    assert any(p.startswith(problem) for p in problems), problems
    assert all(p.endswith(".") and "\n" not in p for p in problems)


def test_check_link_never_raises():
    for path in [*LINKS, "nope"]:
        for text in FUZZ:
            check_link(f"/{path}?index={text}&model={text}&noise={text}&runs={text}&epochs={text}&z1={text}")
    assert check_link(f"/inside?model=cnn-{'0' * 12}", stores=()) == []  # existence not checked


# ---------------------------------------------------------------------------------------
# The pages in AppTest: a link opens its view, the view writes its link, a tampered link says so

def refusals(at) -> list[str]:
    return [i for i in infos(at) if i.startswith("This page's address named settings it cannot use")]


def image_captions(at) -> list[str]:
    return [image.caption for element in at.get("image") for image in element.proto.imgs]


def test_inside_opens_on_the_linked_test_picture(test_set):
    at = open_page("inside", {"index": "123", "mode": "class", "method": "pgd"})
    assert not refusals(at)
    assert at.segmented_control(key="inside-source").value == "A test digit"
    assert at.number_input(key="inside-index").value == 123
    assert at.segmented_control(key="fool-method").value == "PGD"
    assert f"Test digit 123, labelled {test_set[1][123]}" in image_captions(at)
    assert address(at) == {"index": "123", "mode": "class", "method": "pgd"}
    # The view changes, the address follows; a drawing has no index.
    at.number_input(key="inside-index").set_value(7).run()
    assert address(at)["index"] == "7"
    at.segmented_control(key="inside-source").set_value("Draw here").run()
    assert address(at) == {"mode": "class", "method": "pgd"}


def test_inside_opens_the_linked_network_on_its_own_test_images():
    from core.data.registry import class_names, load

    labels = load("fashion_mnist").splits()[2][1]
    at = open_page("inside", {"model": FASHION[0].entry, "index": "5"})
    assert not refusals(at)
    assert at.selectbox(key="inside-model").value.entry == FASHION[0].entry
    assert f"Test image 5, labelled {class_names('fashion_mnist')[labels[5]]}" in image_captions(at)
    assert address(at) == {"model": FASHION[0].entry, "index": "5"}


def test_inside_refuses_a_tampered_link_in_one_sentence():
    at = open_page("inside", {"index": "99999", "model": f"cnn-{'0' * 12}", "method": "pgd"})
    assert refusals(at) == [refusal_sentence("network, test picture")]
    assert at.segmented_control(key="inside-source").value == "Draw here"
    assert address(at) == {"method": "pgd"}  # kept for the picture to come
    at.run()  # said once
    assert not refusals(at)


def test_mistakes_opens_on_the_linked_classifier_and_cell():
    entry = default_config("dense_64_64").entry
    # A cell on the diagonal: never the page's default cell (its most frequent mistake).
    at = open_page("mistakes", {"model": entry, "true": "2", "read": "2"})
    assert not refusals(at)
    assert at.selectbox(key="mistakes-classifier").value == "Dense 64-64"
    assert (at.selectbox(key=f"true-{entry}").value, at.selectbox(key=f"read-{entry}").value) == (2, 2)
    assert any(h.value.startswith("True 2, read right: ") for h in at.subheader)
    assert address(at) == {"model": entry, "true": "2", "read": "2"}
    # Another cell goes into the address; the default classifier and cell leave it empty.
    at.selectbox(key=f"read-{entry}").set_value(7).run()
    assert address(at)["read"] == "7"
    again = open_page("mistakes")
    assert address(again) == {}


@pytest.mark.parametrize("params, words", [({"true": "4", "read": "x"}, "true class, read as"),
                                           ({"model": f"cnn-{'0' * 12}", "data": "everyone"}, "classifier, which digits")])
def test_mistakes_refuses_a_tampered_link_in_one_sentence(params, words):
    at = open_page("mistakes", params)
    assert refusals(at) == [refusal_sentence(words)]
    assert at.selectbox(key="mistakes-classifier").value == "CNN, seed 0"
    assert address(at) == {}


def test_compare_opens_a_linked_preset_or_runs():
    at = open_page("compare", {"preset": "dropout"})
    assert not refusals(at)
    assert at.session_state["compare-preset"] == "dropout"
    assert address(at) == {"preset": "dropout"}
    runs = f"{DROPOUT_PAIR[1].entry},{DEFAULT_CNN}"
    at = open_page("compare", {"runs": runs, "mode": "class"})
    labels = {r.entry: r.label for r in reversed(compare.comparable_runs())}
    assert at.multiselect(key="compare-runs").value == [labels[DROPOUT_PAIR[1].entry], labels[DEFAULT_CNN]]
    assert address(at) == {"runs": runs, "mode": "class"}
    # The default comparison leaves the address empty.
    at.button(key="preset-plain_distorted").click().run()
    assert address(at) == {"mode": "class"}


def test_compare_refuses_runs_it_does_not_have():
    at = open_page("compare", {"runs": f"{DEFAULT_CNN},cnn-{'0' * 12}"})
    assert refusals(at) == [refusal_sentence("runs")]
    assert at.session_state["compare-preset"] == "plain_distorted"
    assert address(at) == {}


def test_denoising_opens_at_the_linked_level_and_digits():
    at = open_page("denoising", {"noise": "0.55", "digits": "2", "mode": "class"})
    assert not refusals(at)
    assert at.session_state["digit_batch"] == 2
    data = component_data(at, "noise_slider")
    assert data["levels"][data["start"]] == pytest.approx(0.55)
    assert data["token"].startswith("2-")  # the third set of digits
    assert address(at) == {"noise": "0.55", "digits": "2", "mode": "class"}


def test_denoising_refuses_a_tampered_link_in_one_sentence():
    at = open_page("denoising", {"noise": "1e999", "digits": "-1"})
    assert refusals(at) == [refusal_sentence("noise level, digits")]
    data = component_data(at, "noise_slider")
    assert data["levels"][data["start"]] == pytest.approx(0.4)
    assert address(at) == {}


def test_latent_opens_on_the_linked_point_digits_and_class():
    at = open_page("latent", {"z1": "1.25", "z2": "-0.80", "from": "123", "to": "4567", "digit": "8"})
    assert not refusals(at)
    assert at.number_input(key="From-index").value == 123 and at.number_input(key="To-index").value == 4567
    assert at.session_state["cvae-digit"] == 8
    views = {d["mode"]: d for d in all_component_data(at, "latent_explorer")}
    assert views["map"]["start"] == [1.25, -0.8]
    assert (views["morph"]["from"], views["morph"]["to"]) == (123, 4567)
    assert views["samples"]["digit"] == 8
    assert address(at) == {"z1": "1.25", "z2": "-0.80", "from": "123", "to": "4567", "digit": "8"}
    # Without a link: the default view, an empty address.
    assert address(open_page("latent")) == {}


def test_latent_refuses_a_point_off_the_map():
    at = open_page("latent", {"z1": "0.5", "z2": "9.5", "digit": "3"})
    assert refusals(at) == [refusal_sentence("map point")]
    views = {d["mode"]: d for d in all_component_data(at, "latent_explorer")}
    assert views["map"]["start"] != [0.5, 9.5]  # the map's own start: no point of a link
    assert address(at) == {}


def all_component_data(at, name: str) -> list[dict]:
    """The data our components (pages/components/) were given in the page's last run."""
    import json

    found = []
    for element in at.get("bidi_component"):
        proto = element.proto
        if name in proto.component_name:
            found.append(json.loads(proto.json) if proto.json else None)
    return found


def component_data(at, name: str) -> dict:
    found = all_component_data(at, name)
    assert len(found) == 1, found
    return found[0]


def test_every_page_has_the_copy_link_button():
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.run()
    assert not at.exception
    assert [d for d in at.get("bidi_component") if "copy_link" in d.proto.component_name]


def test_app_reads_a_page_link_on_arrival_only():
    # app.py runs the page: the link is read when the page is arrived at, not on its own reruns
    # (its view is the page's then), and again when a later link brings the session back to it.
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.query_params["digits"] = "1"
    at.switch_page("pages/denoising.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["digit_batch"] == 1
    at.query_params["digits"] = "2"
    at.run()
    assert at.session_state["digit_batch"] == 1 and address(at) == {"digits": "1"}
    at.switch_page("pages/draw.py").run()
    at.query_params["digits"] = "2"
    at.switch_page("pages/denoising.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["digit_batch"] == 2 and address(at) == {"digits": "2"}
