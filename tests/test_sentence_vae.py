"""The sentence VAE (and its latent=0 language model) on tiny models: tokens, annealing, word
dropout, overfitting a few sentences, save/load, the commands' text paths and their errors."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from typer.testing import CliRunner

from cli import interp, sample, train as train_cli
from genkit import models
from genkit.errors import GenkitError
from genkit.models.sentence_vae.model import BOS_ID, UNK_ID, kl_weight
from genkit.text import Sentences, decode_lines, detokenize, tokenize

runner = CliRunner()
SENTENCES = ["the cat sat on the mat.", "a dog ran in the park.", "birds fly over the sea.", "we eat bread and cheese."]
SHOWN = [s[0].upper() + s[1:] for s in SENTENCES]  # as decoded: a lower-cased vocabulary is written with capitals
TINY = dict(latent=8, embed=32, hidden=64)


def tiny(texts=SENTENCES, **cfg):
    model = models.get("sentence-vae").for_stream(Sentences(texts * 10), **{**TINY, **cfg})
    model.build_for_data()
    return model


def test_tokenize_detokenize_round_trip():
    for text in ["Shall I compare thee to a summer's day?", "I don't know, she said.", 'He said "hello" (twice)...',
                 "mr. smith of the u.s. arrived nov. N", "It costs $5, or 10%."]:
        tokens = tokenize(text)
        assert detokenize(tokens) == text
        assert tokenize(detokenize(tokens)) == tokens
    assert tokenize("summer's day?") == ["summer", "'s", "day", "?"]
    assert tokenize("when in man 's sight") == ["when", "in", "man", "'s", "sight"]  # the sonnets' own tokens
    assert tokenize("秦川雄帝宅", "char") == list("秦川雄帝宅") and detokenize(list("秦川雄帝宅"), "char") == "秦川雄帝宅"
    assert tokenize(" 函谷 壯皇居 ", "char") == list("函谷壯皇居")


def test_non_utf8_is_reported_with_its_line():
    assert decode_lines(b"\xef\xbb\xbfone\n\n  two \n") == ["one", "two"]
    with pytest.raises(GenkitError, match=r"line 2 is not UTF-8 \(byte 0xff at column 3\)"):
        decode_lines(b"fine\nab\xffc\n", "x.txt")


def test_annealing_schedules():
    assert kl_weight(2500, "logistic", 0.0025, 2500, 0) == 0.5
    assert kl_weight(0, "logistic", 0.0025, 2500, 0) == pytest.approx(1 / (1 + math.exp(6.25)))
    assert kl_weight(10_000, "logistic", 0.0025, 2500, 0) > 0.9999
    assert [kl_weight(s, "linear", 0, 0, 1000) for s in (0, 250, 1000, 5000)] == [0.0, 0.25, 1.0, 1.0]
    assert kl_weight(7, "none", 0, 0, 0) == 1.0
    steps = np.array([0.0, 1000.0, 2500.0, 4000.0], np.float32)
    assert np.allclose(np.asarray(kl_weight(tf.constant(steps), "logistic", 0.0025, 2500, 0)),
                       [kl_weight(float(s), "logistic", 0.0025, 2500, 0) for s in steps])


def test_the_kl_weight_is_read_from_the_optimizer_step():
    model = tiny(kl_anneal="linear", kl_steps=100)
    model.compile_for_training(1e-3)
    model.build_optimizer_state()
    (y, dec, eps), _ = model.make_example((model.train_arrays(Sentences(SENTENCES[:1]))[0][0],), tf.constant([0, 0], tf.int64),
                                          training=False, flip=False)
    batch = (y[None], dec[None], eps[None])
    for step, weight in ((0, 0.0), (40, 0.4), (250, 1.0)):
        model.optimizer.iterations.assign(step)
        assert float(model(batch, training=True)[0, 2]) == pytest.approx(weight)
        assert float(model(batch, training=False)[0, 2]) == 1.0  # validation and evaluation: the true ELBO


def test_free_bits_floor_the_kl_term_of_the_training_loss():
    from genkit.models.sentence_vae.model import SentenceLoss

    out = np.array([[10.0, 0.5, 1.0, 5.0], [10.0, 6.0, 0.5, 5.0]], np.float32)  # rec, KL, weight, tokens
    assert float(SentenceLoss(0.0)(np.zeros(2), out)) == pytest.approx((10.5 + 13.0) / 2)
    assert float(SentenceLoss(2.0)(np.zeros(2), out)) == pytest.approx((12.0 + 13.0) / 2)  # 0.5 counts as 2
    # by length: 5 tokens at 1.5 nats a token floor the KL at 7.5 (6 counts as 7.5); kl_floor still holds
    out[1, 3] = 3.0
    assert float(SentenceLoss(0.0, kl_floor_token=1.5)(np.zeros(2), out)) == pytest.approx((17.5 + 13.0) / 2)
    assert float(SentenceLoss(2.0, kl_floor_token=0.5)(np.zeros(2), out)) == pytest.approx((12.5 + 13.0) / 2)


def test_word_dropout_drops_whole_words_in_training_only():
    long = "the cat sat on the mat and a dog ran in the park and birds fly over the sea."
    model = tiny(SENTENCES + [long], word_dropout=0.3)
    row = model.train_arrays(Sentences([long]))[0][0]
    n = int((row != 0).sum())
    assert n == 21 and UNK_ID not in row  # 20 tokens + <eos>
    clean, _ = model.make_example((row,), tf.constant([0, 0], tf.int64), training=False, flip=False)
    assert list(np.asarray(clean[1])[:n]) == [BOS_ID, *row[: n - 1]]

    def examples(training):
        keys = tf.data.Dataset.range(400).map(lambda i: tf.stack([tf.constant(3, tf.int64), i]))
        ds = keys.map(lambda key: model.make_example((tf.constant(row),), key, training=training, flip=False)[0])
        ys, decs, _ = next(iter(ds.batch(400)))
        return np.asarray(ys), np.asarray(decs)

    ys, decs = examples(training=True)
    assert np.all(ys == row)  # the targets are never touched
    assert np.all(decs[:, 0] == BOS_ID) and np.all(decs[:, n:] == 0)
    kept = decs[:, 1:n] == row[: n - 1]
    assert np.all(decs[:, 1:n][~kept] == UNK_ID)  # a word is kept whole or replaced whole
    assert abs((~kept).mean() - 0.3) < 0.02
    assert len({d.tobytes() for d in decs}) > 300  # a fresh draw per example
    _, decs = examples(training=False)  # validation examples: never
    assert np.all(decs == np.asarray(clean[1]))


@pytest.fixture(scope="module")
def overfit(tmp_path_factory):
    """A tiny VAE fitted to four sentences (a KL weight near 0: codes that tell them apart)."""
    from genkit.train import batches

    tf.keras.utils.set_random_seed(0)
    model = tiny(kl_anneal="linear", kl_steps=100_000)
    model.compile_for_training(1e-2)
    data = batches(model, model.train_arrays(Sentences(SENTENCES)), 4, shuffle=True, flip=False, seed=0)  # fresh noise each step
    model.fit(data, steps_per_epoch=120, epochs=1, verbose=0, shuffle=False)
    path = models.save(model, tmp_path_factory.mktemp("svae") / "tiny.keras", optimizer=False)
    return model, path


def test_greedy_decoding_of_each_code_gives_the_sentence_back(overfit):
    model, _ = overfit
    m, _ = model.encode_texts(SENTENCES)
    assert model.decode_codes(m) == SHOWN
    assert model.decode_codes(m, decode="beam") == SHOWN
    line = model.interpolate_text(SENTENCES[0], SENTENCES[3], 5)
    assert len(line) == 5 and line[0] == SHOWN[0] and line[-1] == SHOWN[3]


def test_each_decoded_sentence_carries_its_log_probability_given_its_code(overfit):
    model, _ = overfit
    m, _ = model.encode_texts(SENTENCES)
    ids = model.decode_ids(m)
    assert [model.text_of(row) for row in ids] == SHOWN
    assert all(list(row).count(3) == 1 for row in ids)  # each row ends at its one <eos>
    logp = model.score_ids(ids, m)
    assert np.allclose(logp, model.line_logp(SENTENCES, m), atol=1e-4) and np.all(logp < 0)
    assert np.all(logp > -5)  # overfitted: each sentence is near certain given its own code
    assert np.all(model.line_logp(SENTENCES[::-1], m) < logp)  # and unlikely given another's
    line = model.interpolate(SENTENCES[0], SENTENCES[3], 3)
    assert line.texts[0] == SHOWN[0] and line.logp[0] == pytest.approx(logp[0], abs=1e-4)
    drawn = model.sample_stream(5, seed=1, batch_size=2)
    assert len(drawn.texts) == len(drawn.logp) == 5 and np.all(np.isfinite(drawn.logp)) and np.all(drawn.logp < 0)
    assert drawn.texts == model.sample_text(5, seed=1, batch_size=2)


def test_the_decoder_goes_on_from_its_own_unk_and_the_line_gets_a_word(monkeypatch):
    """Where the decoder's choice is <unk>, the line gets its best word (not <unk>, not <eos>),
    and the decoder goes on from <unk>: fed the written word, it would be somewhere else."""
    from genkit.models.sentence_vae.model import EOS_ID

    model = tiny()
    cat, dog, sea = (model.token_id(w) for w in ("cat", "dog", "sea"))
    nexts = {BOS_ID: [(UNK_ID, 5.0), (EOS_ID, 4.0), (cat, 3.0)],  # <unk>, else <eos>, else "cat"
             UNK_ID: [(dog, 5.0)], cat: [(sea, 5.0)], dog: [(EOS_ID, 5.0)], sea: [(EOS_ID, 5.0)]}

    def step(tokens, z, h, c):
        logits = np.zeros((len(tokens), model.num_tokens), np.float32)
        for row, token in enumerate(np.asarray(tokens)):
            for word, value in nexts.get(int(token), [(EOS_ID, 5.0)]):
                logits[row, word] = value
        return tf.nn.log_softmax(tf.constant(logits)), h, c

    monkeypatch.setattr(model, "_step_fn", step)
    z = np.zeros((2, model.latent), np.float32)
    for decode in ("greedy", "beam"):
        assert model.decode_codes(z, decode=decode) == ["Cat dog"] * 2  # fed "cat" it would go on to "sea"
    rows = [list(row) for seed in range(20) for row in model.decode_ids(z, decode="sample", seed=seed)]
    assert all(UNK_ID not in row for row in rows)  # drawn: <unk> is never written
    assert any(row[1:3] == [dog, EOS_ID] and row[0] not in (UNK_ID, EOS_ID) for row in rows if len(row) > 2)


def test_vocabulary_and_outputs_survive_save_and_load(overfit):
    model, path = overfit
    back = models.load(str(path))
    assert back.vocabulary == model.vocabulary and back.unit == "word" and back.latent == 8
    assert back.vocabulary[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"] and "cat" in back.vocabulary
    assert back.interpolate_text(SENTENCES[1], SENTENCES[2], 4) == model.interpolate_text(SENTENCES[1], SENTENCES[2], 4)
    ev = back.evaluate_stream(Sentences(SENTENCES), k=4)
    assert ev["sentences"] == 4 and ev["tokens"] == sum(len(tokenize(s)) + 1 for s in SENTENCES)
    assert ev["nll_nats"] <= ev["nelbo_nats"] + 1e-6 and ev["ppl"] == pytest.approx(math.exp(4 * ev["nll_nats"] / ev["tokens"]))
    assert ev["exact_lines"] == 1.0 and ev["token_accuracy"] == 1.0  # overfitted: each code spells its sentence
    y = back.sentences_ids(SENTENCES)
    m, _ = back.encode_texts(SENTENCES)
    assert back.reconstruction(y, m[::-1])["exact_lines"] == 0.0 and "by_length" not in ev  # another's code: not its line


def test_language_model_has_no_code():
    lm = tiny(latent=0)
    assert not hasattr(lm, "enc_rnn")
    lines = lm.sample_text(3, seed=1)
    assert len(lines) == 3 and lines == lm.sample_text(3, seed=1)
    drawn = lm.sample_stream(3, seed=1)
    assert drawn.texts == lines and np.all(np.isfinite(drawn.logp)) and np.all(drawn.logp < 0)
    ev = lm.evaluate_stream(Sentences(SENTENCES), k=10)
    assert ev["kl_nats"] == 0.0 and ev["nll_nats"] == ev["nelbo_nats"]
    with pytest.raises(GenkitError, match="no code to interpolate"):
        lm.interpolate_text("a", "b", 3)


def test_train_loop_takes_text_and_logs_the_kl_weight(tmp_path):
    from genkit.train import RunConfig, train

    data = Sentences(SENTENCES * 5, meta={"unit": "word"})  # position split: 16 fit, 2 val, 2 test
    cfg = dict(TINY, latent=4, kl_anneal="linear", kl_steps=8, word_dropout=0.2)
    path = train(data, RunConfig(family="sentence-vae", epochs=2, batch_size=4, model=cfg), tmp_path / "run", progress=False)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["headline"] == "nelbo" and metrics["train_images"] == 16 and metrics["size"] is None
    weights = [r["train_kl_weight"] for r in metrics["epochs"]]  # 4 steps an epoch: steps 0-3, then 4-7
    assert weights == pytest.approx([0.1875, 0.6875])
    assert all(r["val_kl_weight"] == 1.0 for r in metrics["epochs"])
    assert models.load(str(path)).vocabulary[4:6] == [".", "the"]  # most frequent first, ties by token

    # a resumed run may change a setting of its loss (a larger KL budget), not one of its weights
    logged = []
    more = dict(cfg, kl_floor_token=2.0)
    train(data, RunConfig(family="sentence-vae", epochs=3, model=more), tmp_path / "run", resume=True, progress=False,
          log=logged.append)
    assert "resuming after epoch 2 (kl_floor_token 0.0 -> 2.0, epochs 2 -> 3 from here on)" in logged
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    assert state["model"]["kl_floor_token"] == 2.0 and state["best_from"] == 2
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["best_epoch"] == 3  # the only epoch trained on the new loss, whatever its val loss
    assert models.load(str(tmp_path / "run" / "model.keras")).config.kl_floor_token == 2.0
    with pytest.raises(GenkitError, match=r"keeps its model settings \(latent 4 -> 8 asked\)"):
        train(data, RunConfig(family="sentence-vae", epochs=4, model=dict(more, latent=8)), tmp_path / "run",
              resume=True, progress=False)


def test_init_starts_a_new_run_from_a_models_weights(tmp_path, monkeypatch):
    from genkit.train import RunConfig, train

    data = Sentences(SENTENCES * 5, meta={"unit": "word"})
    cfg = dict(TINY, latent=4, kl_floor=1.0)
    first = train(data, RunConfig(family="sentence-vae", epochs=1, batch_size=4, model=cfg), tmp_path / "a", progress=False)
    logged = []
    path = train(data, RunConfig(family="sentence-vae", epochs=1, batch_size=4, lr=1e-9, model={"kl_floor_token": 3.0}),
                 tmp_path / "b", init=str(first), progress=False, log=logged.append)
    assert f"starting from the weights of {first} (kl_floor_token 0.0 -> 3.0)" in logged
    start, tuned = models.load(str(first)), models.load(str(path))
    assert tuned.config.latent == 4 and tuned.config.kl_floor == 1.0 and tuned.config.kl_floor_token == 3.0
    for a, b in zip(start.get_weights(), tuned.get_weights()):  # lr 1e-9: the weights it started from
        np.testing.assert_allclose(a, b, atol=1e-6)
    config = json.loads((tmp_path / "b" / "config.json").read_text())
    assert config["init"] == str(first.resolve())
    # its model card counts the training of the model it started from (scripts/modelcard.py)
    from scripts.modelcard import started_from, training_time

    metrics = json.loads((tmp_path / "b" / "metrics.json").read_text())
    before = json.loads((tmp_path / "a" / "metrics.json").read_text())["train_time_s"] / 60
    assert started_from(metrics) == (str(first.resolve()), pytest.approx(before))
    assert started_from(metrics, 173.7)[1] == 173.7 and started_from({"run": {}}) is None
    (tmp_path / "runs").mkdir()  # a run folder kept elsewhere, behind a link in runs/: named by the link
    (tmp_path / "runs" / "first").symlink_to(first.parent)
    monkeypatch.chdir(tmp_path)
    assert started_from(metrics) == (str(Path("runs") / "first" / first.name), pytest.approx(before))
    row = training_time(dict(metrics, train_time_s=60.0), (str(first), 3.0))
    assert row.startswith("4.0 min (wall) on ") and row.endswith(f": 3.0 min for `{first}`, then 1.0 min from its weights (`--init`)")
    assert "after the training of" in training_time(metrics, (str(first), None))
    # a setting asked for at its default applies too (gk-train --set kl_floor=0: the CLI names what it was given)
    from genkit.models.settings import resolve_model_config

    named, logged = [], []
    asked = resolve_model_config("sentence-vae", overrides=["kl_floor=0"], named=named)
    assert named == ["kl_floor"] and asked["kl_floor"] == 0.0
    path = train(data, RunConfig(family="sentence-vae", epochs=1, batch_size=4, model=asked, given=tuple(named)),
                 tmp_path / "e", init=str(first), progress=False, log=logged.append)
    assert f"starting from the weights of {first} (kl_floor 1.0 -> 0.0)" in logged
    assert models.load(str(path)).config.kl_floor == 0.0
    # the softmax's estimate is the loss's, not the weights': a fine-tune may switch it
    path = train(data, RunConfig(family="sentence-vae", epochs=1, batch_size=4, model={"sampled": 4}),
                 tmp_path / "f", init=str(first), progress=False)
    assert models.load(str(path)).config.sampled == 4
    # a setting of the weights cannot change; nor the data (another vocabulary); nor the family
    with pytest.raises(GenkitError, match=r"a run started with --init keeps its model settings \(latent 4 -> 8 asked\)"):
        train(data, RunConfig(family="sentence-vae", epochs=1, model={"latent": 8}), tmp_path / "c", init=str(first),
              progress=False)
    other = Sentences(["one two three .", "four five six ."] * 10, meta={"unit": "word"})
    with pytest.raises(GenkitError, match="was trained on other data: its max_length, vocabulary differ from"):
        train(other, RunConfig(family="sentence-vae", epochs=1), tmp_path / "d", init=str(first), progress=False)
    with pytest.raises(GenkitError, match="--init starts a new run"):
        train(data, RunConfig(family="sentence-vae", epochs=2), tmp_path / "b", init=str(first), resume=True,
              progress=False)
    from genkit.train import _started_from

    with pytest.raises(GenkitError, match="holds a sentence-vae model, not vae: --init needs a model of the family"):
        _started_from(str(first), RunConfig(family="vae"), print)


# -- the commands ---------------------------------------------------------------------------
def one_line_error(result, *needles):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_interp_prints_one_sentence_a_line_and_warns_once(overfit):
    _, path = overfit
    out = runner.invoke(interp.app, [str(path), SENTENCES[0], SENTENCES[2], "--steps", "4"])
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines()[0] == SHOWN[0] and out.stdout.splitlines()[-1] == SHOWN[2]
    assert len(out.stdout.splitlines()) == 4
    odd = runner.invoke(interp.app, ["--model", str(path), "the zebra sat on the quagga .", SENTENCES[1], "-s", "3"])
    assert odd.exit_code == 0, odd.output
    warnings = [line for line in odd.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "zebra, quagga" in warnings[0] and warnings[0].startswith("gk-interp: ")
    assert len(odd.stdout.splitlines()) == 3


def test_sample_prints_sentences(overfit, tmp_path):
    _, path = overfit
    out = runner.invoke(sample.app, [str(path), "-n", "5", "--seed", "2"])
    assert out.exit_code == 0, out.output
    assert len(out.stdout.splitlines()) == 5
    again = runner.invoke(sample.app, [str(path), "-n", "5", "--seed", "2", "-o", str(tmp_path / "s.txt")])
    assert again.exit_code == 0 and (tmp_path / "s.txt").read_text() == out.stdout


def test_command_errors_are_one_line_and_exit_2(overfit, tmp_path):
    _, path = overfit
    one_line_error(runner.invoke(interp.app, [str(path), "  ", SENTENCES[0]]), "gk-interp: ", "sentence A is empty")
    one_line_error(runner.invoke(sample.app, [str(path), "--grid", "0,1"]), "gk-sample: ", "need a model with a code")
    bad = b"the cat sat\nthe dog \xff ran\n"
    one_line_error(runner.invoke(train_cli.app, ["sentence-vae", "-o", str(tmp_path / "r1")], input=bad),
                   "gk-train: -: line 2 is not UTF-8")
    one_line_error(runner.invoke(train_cli.app, ["sentence-vae", "--set", "kl_anneal=cosine", "-o", str(tmp_path / "r2")],
                                 input=b"a b\n" * 20), "kl_anneal must be")
    one_line_error(runner.invoke(train_cli.app, ["sentence-vae", "--kl-anneal", "cosine", "-o", str(tmp_path / "r2")],
                                 input=b"a b\n" * 20), "kl_anneal must be")
    one_line_error(runner.invoke(train_cli.app, ["sentence-vae", "--word-dropout", "1.5", "-o", str(tmp_path / "r2")],
                                 input=b"a b\n" * 20), "word_dropout must be in [0.0, 1.0)")
    one_line_error(runner.invoke(train_cli.app, ["vae", "--kl-anneal", "linear", "-o", str(tmp_path / "r2")],
                                 input=b"a b\n" * 20), "vae has no setting 'kl_anneal'")
    one_line_error(runner.invoke(train_cli.app, ["pixelcnn", "--dataset", "ptb", "-o", str(tmp_path / "r3")]),
                   "ptb is a data set of sentences")
    one_line_error(runner.invoke(train_cli.app, ["sentence-vae", "--dataset", "mnist", "-o", str(tmp_path / "r4")]),
                   "mnist is a data set of images")
    assert not any((tmp_path / r).exists() for r in ("r1", "r2", "r3", "r4"))


def test_batches_hold_sentences_of_like_length_and_every_sentence_once_an_epoch():
    from genkit.train import batches

    words = "a b c d e f g h i j k l m n o p q r s t u v w x y z".split()
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(words, size=int(rng.integers(1, 26)))) for _ in range(203)]
    model = tiny(texts)
    arrays = model.train_arrays(Sentences(texts))
    sizes = model.example_sizes(arrays)
    assert np.array_equal(sizes, [len(t.split()) + 1 for t in texts])

    def epochs(**kw):
        ds = batches(model, arrays, 8, shuffle=True, flip=False, seed=3, **kw).unbatch().batch(203)
        return [next(it)[0][0].numpy() for it in [iter(ds)] for _ in range(2)]

    first, second = epochs()
    key = lambda y: sorted(map(bytes, y))  # noqa: E731
    assert key(first) == key(second) == key(arrays[0])  # each epoch: every sentence once
    assert not np.array_equal(first, second)  # in another order
    lengths = (first != 0).sum(axis=1)
    spans = [np.ptp(lengths[i : i + 8]) for i in range(0, 200, 8)]
    assert max(spans) <= 3 and np.ptp(lengths) >= 20  # like with like, though lengths run 2..26
    assert not np.all(np.diff([lengths[i] for i in range(0, 200, 8)]) >= 0)  # batches in a random order
    again, _ = epochs()
    assert np.array_equal(first, again)  # stateless: the same order again
    resumed, _ = epochs(start_epoch=1)
    assert np.array_equal(resumed, second)  # and from where a resumed run starts
    val = next(iter(batches(model, arrays, 203, shuffle=False, flip=False, seed=3)))[0][0].numpy()
    assert np.all(np.diff((val != 0).sum(axis=1)) >= 0)  # validation: shortest first


def test_a_checkpoint_stored_as_float16_is_smaller_and_loads_as_float32(overfit, tmp_path):
    model, path = overfit
    half = models.save(model, tmp_path / "half.keras", optimizer=False, half=True)
    back = models.load(str(half))
    assert half.stat().st_size < 0.75 * path.stat().st_size
    for a, b in zip(model.get_weights(), back.get_weights()):
        assert b.dtype == a.dtype and np.allclose(a, b, rtol=1e-3, atol=1e-3)
    m, _ = back.encode_texts(SENTENCES)
    assert back.decode_codes(m) == SHOWN  # the same sentences back


def test_the_shorthand_options_set_the_model(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(train_cli.app, ["sentence-vae", "--kl-anneal", "linear", "--word-dropout", "0.3", "--latent", "2",
                                           "--set", "embed=8", "--set", "hidden=8", "--epochs", "1", "-q", "-o", str(out)],
                           input="\n".join(SENTENCES * 10).encode())
    assert result.exit_code == 0, result.output
    model = json.loads((out / "config.json").read_text())["model"]
    assert (model["kl_anneal"], model["word_dropout"], model["latent"]) == ("linear", 0.3, 2)


def test_the_model_refuses_settings_out_of_bounds_when_built_from_python():
    with pytest.raises(GenkitError, match=r"hidden must be at least 1, got 0"):
        tiny(hidden=0)
    with pytest.raises(GenkitError, match=r"dropout must be in \[0.0, 1.0\), got 1.0"):
        tiny(dropout=1.0)


def test_bag_of_words_loss_is_a_setting_off_by_default():
    from genkit.models.sentence_vae.model import SentenceLoss
    from genkit.train import batches

    assert tiny().bow_out is None and "bow" not in [w.path.split("/")[0] for w in tiny().weights]  # shipped models: as they were
    model = tiny(bow=0.5)
    model.compile_for_training(1e-2)
    (y, dec, eps), _ = model.make_example((model.train_arrays(Sentences(SENTENCES[:1]))[0][0],), tf.constant([0, 0], tf.int64),
                                          training=False, flip=False)
    out = model((y[None], dec[None], eps[None]), training=False)
    n_words = len(tokenize(SENTENCES[0]))
    assert out.shape[-1] == 5 and float(out[0, 4]) == pytest.approx(n_words * math.log(model.num_tokens - 2), rel=0.2)
    assert float(SentenceLoss(0.0, 0.5)(np.zeros(1), out)) == pytest.approx(float(SentenceLoss()(np.zeros(1), out[:, :4]))
                                                                           + 0.5 * float(out[0, 4]), rel=1e-5)
    before = model.bow_out.kernel.numpy().copy()
    data = batches(model, model.train_arrays(Sentences(SENTENCES)), 4, shuffle=True, flip=False, seed=0)
    history = model.fit(data, steps_per_epoch=3, epochs=1, verbose=0)
    assert not np.allclose(before, model.bow_out.kernel.numpy()) and "bow_nll" in history.history


def test_a_bidirectional_encoder_also_reads_each_line_backwards_and_padding_changes_nothing(tmp_path):
    assert tiny().enc_back is None  # off by default: shipped models as they were
    model = tiny(bidirectional=True)
    one = model.sentences_ids(SENTENCES[:1])
    h = model.embed(one)
    both = tf.concat([model.enc_rnn(h)[:, -1], model.enc_back(h[:, ::-1])[:, -1]], axis=-1)
    np.testing.assert_allclose(model.encode(one)[0], model.to_stats(both)[:, : model.latent], atol=1e-5)
    padded = model.sentences_ids([SENTENCES[0], SENTENCES[0] + " and more words here"])  # the first row padded
    np.testing.assert_allclose(model.encode(padded)[0][0], model.encode(one)[0][0], atol=1e-5)
    back = models.load(str(models.save(model, tmp_path / "bi.keras", optimizer=False)))
    assert back.config.bidirectional
    np.testing.assert_allclose(back.encode(padded)[0], model.encode(padded)[0], atol=1e-6)


def test_gradient_clipping_is_a_training_setting_off_by_default():
    from genkit.models.sentence_vae.config import SentenceVAEConfig

    assert "clipnorm" in SentenceVAEConfig.TRAINING_ONLY  # a resume may turn it on
    with pytest.raises(GenkitError, match=r"clipnorm must be at least 0.0, got -1.0"):
        tiny(clipnorm=-1.0)

    def first_momentum_norm(model):  # Adam's first moment after one step is 0.1 x the (clipped) gradient
        model.compile_for_training(1e-3)
        grads = [tf.fill(v.shape, 100.0) for v in model.trainable_variables]
        model.optimizer.apply_gradients(zip(grads, model.trainable_variables))
        moments = [v for v in model.optimizer.variables if "momentum" in v.path]
        assert len(moments) == len(grads)
        return math.sqrt(sum(float(tf.reduce_sum(tf.square(m))) for m in moments))

    assert first_momentum_norm(tiny()) > 1000.0  # off: the whole gradient (norm 100 x sqrt(weights))
    assert first_momentum_norm(tiny(clipnorm=2.0)) == pytest.approx(0.2, rel=1e-3)  # one norm over every gradient
