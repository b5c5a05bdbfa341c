"""The glossary a first-year student reads: one plain sentence per term, and every term a
page explains is in it (``pages.shared.explain`` and ``core.present.glossary.tip`` raise KeyError
on a missing one, which only a visit to that page, with the right widgets, would show)."""

import ast
import re
from pathlib import Path

import pytest

from core.present.glossary import GLOSSARY, plain, tip
from core.vocabulary import MODEL_NAMES

PAGES = sorted((Path(__file__).resolve().parent.parent / "pages").glob("*.py"))


def terms_in(path: Path, function: str) -> list[tuple[int, object]]:
    """(line, term) for every argument of every call of ``function`` (bare or as an
    attribute, ``shared.explain``) in ``path``; a term that is not a string literal comes
    back as its source text."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name == function:
                for arg in node.args:
                    term = arg.value if isinstance(arg, ast.Constant) else ast.unparse(arg)
                    found.append((node.lineno, term))
    return found


@pytest.mark.parametrize("key", sorted(GLOSSARY))
def test_each_entry_is_one_plain_sentence(key):
    term = GLOSSARY[key]
    assert term.name.strip() and term.sentence.strip()
    sentence = term.sentence
    assert not re.match(r"[a-z]", sentence), f"{key}: starts in lower case"
    assert sentence.endswith("."), f"{key}: does not end with a full stop"
    # A second sentence starts after ". ", "? " or "! " with a capital letter.
    assert not re.search(r"[.?!] +[A-Z]", sentence[:-1]), f"{key}: more than one sentence"
    assert len(sentence.split()) <= 45, f"{key}: {len(sentence.split())} words, too long for one sentence"
    # Developer words have no place in a learner's sentence.
    assert not re.search(r"\bcore\.|\w+_\w+|sha256|\bNone\b", sentence), f"{key}: developer words"


@pytest.mark.parametrize("key", sorted(GLOSSARY))
def test_a_quoted_result_names_its_source(key):
    term = GLOSSARY[key]
    # A measured result such as 98.47% is someone's: say whose.
    if re.search(r"\d+\.\d+%", term.sentence):
        assert term.source, f"{key} quotes a result without a source"
    # explain() and tip() add the full stop after the source.
    assert not term.source.endswith("."), f"{key}: source ends with a full stop"


def test_methods_from_papers_name_them():
    for key, author in (("l2", "Krogh"), ("denoising_autoencoder", "Vincent"), ("vae", "Kingma"),
                        ("cvae", "Sohn"), ("hinton", "MNIST")):
        assert author in GLOSSARY[key].source, key


def test_tip_is_the_sentence_and_its_source():
    assert tip("epoch") == GLOSSARY["epoch"].sentence
    assert tip("vae").startswith(GLOSSARY["vae"].sentence) and tip("vae").endswith("Bayes.")


def test_plain_replaces_developer_words_only():
    assert plain("dense_500_300, l2 = 0 control, mean test accuracy of 3 replicates") == \
        "Dense 500-300, no weight decay, mean test accuracy of 3 seeds"
    assert plain("cvae: CNN seed 0 agrees") == "Conditional VAE: CNN seed 0 agrees"
    assert plain("vae and cnn") == f"{MODEL_NAMES['vae']} and {MODEL_NAMES['cnn']}"
    assert plain("The plain digits") == "The plain digits"


def test_pages_explain_terms_at_all():
    assert sum(len(terms_in(page, "explain")) for page in PAGES) >= 15, "the pages explain (almost) nothing"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_term_a_page_uses_is_in_the_glossary(page):
    for function in ("explain", "tip"):
        for line, term in terms_in(page, function):
            assert isinstance(term, str) and term in GLOSSARY, \
                f"{page.name}:{line}: {function}({term!r}) is not in the glossary"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_a_page_explains_each_term_once(page):
    # One "What is ...?" per term and page, where the term first appears, not at every mention.
    named = [term for _, term in terms_in(page, "explain")]
    assert len(named) == len(set(named)), f"{page.name} explains {sorted({t for t in named if named.count(t) > 1})} twice"


def test_every_glossary_term_is_shown_on_some_page():
    used = {term for page in PAGES for function in ("explain", "tip") for _, term in terms_in(page, function)}
    assert set(GLOSSARY) <= used, f"never shown: {sorted(set(GLOSSARY) - used)}"
