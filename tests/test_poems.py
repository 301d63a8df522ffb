"""Poem output as ordinary text: English detokenised (and tokenised back), Chinese in the script
the user typed (OpenCC), and the reconstruction figures of a character model."""

import numpy as np
import pytest

from genkit import chinese, datasets, models
from genkit.errors import GenkitError
from genkit.text import Sentences, detokenize, tokenize

POEM = ["白日依山盡", "黃河入海流", "欲窮千里目", "更上一層樓", "兩個黃鸝鳴翠柳", "一行白鷺上青天"]  # as the Tang corpus writes them


@pytest.mark.parametrize("stored, text", [
    ("shall i compare thee to a summer 's day ?", "Shall I compare thee to a summer's day?"),
    ("then still abiding in that ensign rang 'd", "Then still abiding in that ensign rang'd"),
    ("who call ‘ christ , christ , ’ there shall be many found", "Who call ‘christ, christ,’ there shall be many found"),
    ("“ pompeius fears ! ” they cry . “ he 's slow to act", "“Pompeius fears!” they cry. “He's slow to act"),
    ("grief , suffering , death ,— all touch us soon or late", "Grief, suffering, death,— all touch us soon or late"),
    ("with hector ’ s self shall equal honours claim", "With hector’s self shall equal honours claim"),
    ("sense is sense ere ’ tis mine or mine in me is", "Sense is sense ere ’tis mine or mine in me is"),
    ("and shook him thro ’ the north . ill doom is mine", "And shook him thro’ the north. Ill doom is mine"),
    ("( transparent thing ) it shows", "(Transparent thing) it shows"),
])
def test_stored_lines_read_as_english_and_tokenise_back(stored, text):
    assert detokenize(stored.split(), capitals=True) == text
    assert [t.lower() for t in tokenize(text)] == stored.split()


def test_nine_in_ten_sonnet_test_lines_and_more_tokenise_back():
    try:
        test = datasets.load("sonnets", split="test")
    except GenkitError as e:
        pytest.skip(f"no sonnet data: {e}")
    back = sum([t.lower() for t in tokenize(detokenize(line.split(), capitals=True))] == line.split() for line in test.texts)
    assert len(test) == 4690 and back / len(test) >= 0.99


def test_the_script_of_a_line():
    known = set("".join(POEM)) | {"床", "后"}
    assert chinese.script_of("白日依山尽", known) == chinese.SIMPLIFIED
    assert chinese.script_of("白日依山盡", known) == chinese.TRADITIONAL
    assert chinese.script_of("床前明月光", known) is None  # written alike (床 is the corpus's own)
    assert chinese.to_traditional("两个黄鹂鸣翠柳", known) == "兩個黃鸝鳴翠柳"
    assert chinese.to_traditional("白日依山盡", known) == "白日依山盡"
    assert chinese.to_simplified("白日依山盡") == "白日依山尽"
    assert "爲" in chinese.variants("為")


@pytest.fixture(scope="module")
def tang():
    model = models.get("sentence-vae").for_stream(Sentences(POEM * 5), latent=4, embed=16, hidden=16)
    model.build_for_data()
    return model


def test_a_line_typed_in_either_script_is_the_same_line(tang):
    assert tang.unit == "char"
    for simplified, traditional in (("白日依山尽", "白日依山盡"), ("两个黄鹂鸣翠柳", "兩個黃鸝鳴翠柳"), ("更上一层楼", "更上一層樓")):
        ids, unknown = tang.ids_of(simplified)
        assert (ids, unknown) == tang.ids_of(traditional) and 1 not in ids  # no <unk>
    ids, _ = tang.ids_of("黄河入海流", convert=False)  # as stored: 黄 is not the corpus's 黃
    assert ids[0] == 1


def test_interp_writes_the_script_that_was_typed(tang):
    typed = tang.interpolate("白日依山尽", "黃河入海流", 4)  # A simplified: simplified out
    stored = tang.interpolate("白日依山盡", "黃河入海流", 4)
    assert typed.texts == [chinese.to_simplified(t) for t in stored.texts]
    assert np.allclose(typed.logp, stored.logp)
    neither = "白日千里目"  # written alike in both scripts: B's decides
    assert tang.interpolate(neither, "黄河入海流", 3).texts == [chinese.to_simplified(t) for t in
                                                              tang.interpolate(neither, "黃河入海流", 3).texts]
    assert all(set(t) <= set(tang.vocabulary) for t in stored.texts)  # traditional: the vocabulary's own


def test_reconstruction_figures_per_line_length(tang):
    y = tang.sentences_ids(POEM)
    m = np.zeros((len(POEM), tang.latent), np.float32)
    rec = tang.reconstruction(y, m)
    assert set(rec) == {"exact_lines", "token_accuracy", "by_length"} and set(rec["by_length"]) == {"5", "7"}
    assert rec["by_length"]["5"]["lines"] == 4 and rec["by_length"]["7"]["lines"] == 2
    assert 0 <= rec["token_accuracy"] <= 1
    ev = tang.evaluate_stream(Sentences(POEM), k=2)
    ev["data"] = "poem.txt"  # gk-eval adds it
    assert ev["by_length"]["7"]["lines"] == 2 and "(5 chars " in ev.line()
