"""The mixture family: a per-pixel average of trained pixel models' conditionals, weights learned on val."""

import json

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

import genkit.models as gm  # noqa: E402
from genkit.errors import GenkitError  # noqa: E402
from genkit.io import Stream  # noqa: E402
from genkit.models import compiled  # noqa: E402
from genkit.models.pixelcnn.model import PixelCNN  # noqa: E402
from genkit.models.pixelrnn.model import PixelRNN  # noqa: E402
from genkit.runs import RunConfig  # noqa: E402
from genkit.train import train  # noqa: E402

H, W, K = 5, 4, 4
PALETTE = np.array([[0, 0, 0], [200, 30, 30], [30, 200, 30], [250, 250, 250]], np.uint8)


def members(folder, *, palette=PALETTE, size=(H, W)) -> list[str]:
    """Two tiny untrained pixel models of different families, saved; their paths."""
    keras.utils.set_random_seed(3)
    cnn = PixelCNN(*size, palette, embed=4, channels=4, layers=2, head=8, dropout=0.0)
    rnn = PixelRNN(*size, palette, embed=4, hidden=8, layers=1)
    paths = []
    for name, m in (("cnn", cnn), ("rnn", rnn)):
        m.build_for_data()
        paths.append(str(gm.save(m, folder / f"{name}.keras", optimizer=False)))
    return paths


def mixture(paths, **kw):
    model = gm.get("mixture")(H, W, PALETTE, members=",".join(paths), **kw)
    model.build_for_data()
    return model


def images(n=6, seed=0):
    return np.random.default_rng(seed).integers(0, K, (n, H, W)).astype(np.int32)


def test_its_conditionals_are_the_weighted_average_of_the_members(tmp_path):
    paths = members(tmp_path)
    model = mixture(paths)
    model.mix_logits.assign([0.3, -0.4])
    w = np.exp([0.3, -0.4]) / np.exp([0.3, -0.4]).sum()
    x = images()
    probs = [tf.nn.softmax(gm.load(p).forward(x)).numpy() for p in paths]
    mixed = tf.nn.softmax(model.forward(x)).numpy()
    np.testing.assert_allclose(mixed, w[0] * probs[0] + w[1] * probs[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.weights_of_members, w, rtol=1e-6)
    # the likelihood is the product of the mixed conditionals
    nats = model.nll_nats(x)
    picked = np.take_along_axis(w[0] * probs[0] + w[1] * probs[1], x[..., None], -1)[..., 0]
    np.testing.assert_allclose(nats, -np.log(picked).sum((1, 2)), rtol=1e-5)


def test_cached_sampling_draws_what_the_whole_model_draws_and_completion_keeps_the_given(tmp_path):
    model = mixture(members(tmp_path))
    model.mix_logits.assign([1.0, -1.0])
    for temperature in (1.0, 0.0):
        cached = model.generate(3, seed=5, temperature=temperature)
        assert np.array_equal(cached, model.generate(3, seed=5, temperature=temperature, naive=True))
    known = images(2, seed=1)
    mask = np.zeros((H, W), bool)
    mask[:2] = True
    out = model.complete_stream(Stream(indices=known.astype(np.uint8), palette=PALETTE), mask=mask, k=2, seed=0)
    assert np.array_equal(out.indices[:, :2], np.repeat(known, 2, axis=0)[:, :2])


def test_training_learns_the_weights_on_val_only_and_the_members_stay_as_they_were(tmp_path):
    paths = members(tmp_path)
    # a member that knows the data: trained on it for a few epochs; the other stays untrained
    rng = np.random.default_rng(0)
    data = np.zeros((120, H, W), np.uint8)
    data[:, :, : W // 2] = 1
    data[:, :, W // 2 :] = 2
    flips = rng.random((120, H, W)) < 0.05
    data[flips] = 3
    stream = Stream(indices=data, palette=PALETTE, names=np.array([f"{i:03d}" for i in range(120)]))
    knows = train(stream, RunConfig(family="pixelcnn", epochs=4, batch_size=20, lr=0.02, model={
        "embed": 4, "channels": 4, "layers": 2, "head": 8, "dropout": 0.0}), tmp_path / "knows", progress=False)
    paths[0] = str(knows)
    before = [gm.load(p).get_weights() for p in paths]
    run = RunConfig(family="mixture", epochs=10, batch_size=20, lr=0.2, model={"members": ",".join(paths)})
    lines = []
    best = train(stream, run, tmp_path / "mix", progress=False, log=lines.append)
    model = gm.load(str(best))
    w = model.weights_of_members
    assert w[0] > 0.8, w  # the weight went to the member that knows the data
    for member, weights in zip(model.members, before):
        assert all(np.array_equal(a, b) for a, b in zip(member.get_weights(), weights))
    assert len(model.trainable_weights) == 1
    fit = json.loads((tmp_path / "mix" / "metrics.json").read_text())["train_images"]
    from genkit.splits import split_stream

    assert fit == len(split_stream(stream, "val"))  # the weights learned on the val split
    assert any("mixture: " in line and f"train {fit}," in line for line in lines)
    # its model card says so and lists the members with their weights (scripts/modelcard.py)
    note, rows = model.card_notes(json.loads((tmp_path / "mix" / "metrics.json").read_text()))
    assert note == f"; the members were trained on fit, the mixing weights on val ({fit})"
    assert rows == [f"| members | {paths[0]} (pixelcnn, {model.members[0].count_params():,} parameters): weight {w[0]:.3f}; "
                    f"{paths[1]} (pixelrnn, {model.members[1].count_params():,} parameters): weight {w[1]:.3f} |"]


def test_a_saved_mixture_loads_from_its_one_file_and_its_compiled_sampler_agrees(tmp_path, monkeypatch):
    monkeypatch.setenv("GENKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GENKIT_COMPILED", "1")
    paths = members(tmp_path)
    model = mixture(paths)
    model.mix_logits.assign([0.5, 0.1])
    path = gm.save(model, tmp_path / "mix.keras", optimizer=False)
    for p in paths:  # the members' files are not needed any more
        (tmp_path / p).unlink()
    back = gm.load(str(path))
    x = images()
    np.testing.assert_allclose(back.nll_nats(x), model.nll_nats(x), rtol=1e-6)
    assert back.get_config() == model.get_config()
    fast = gm.load_sampler(str(path))
    assert isinstance(fast, compiled.CompiledPixelModel) and fast.family == "mixture"
    assert np.array_equal(fast.generate(4, seed=2), model.generate(4, seed=2))


def test_bad_members_are_refused_in_one_line(tmp_path):
    paths = members(tmp_path)
    with pytest.raises(GenkitError, match="two or more trained pixel models"):
        mixture(paths[:1])
    with pytest.raises(GenkitError, match="two or more"):
        gm.get("mixture")(H, W, PALETTE)
    (tmp_path / "big").mkdir()
    other = members(tmp_path / "big", size=(H + 1, W))
    with pytest.raises(GenkitError, match="draws 4x6 images, the data is 4x5"):
        mixture([paths[0], other[1]])
    grey = np.array([[0] * 3, [90] * 3, [180] * 3, [255] * 3], np.uint8)
    (tmp_path / "grey").mkdir()
    with pytest.raises(GenkitError, match="another palette"):
        mixture([paths[0], members(tmp_path / "grey", palette=grey)[0]])
    with pytest.raises(GenkitError, match="no such model file"):
        mixture([paths[0], str(tmp_path / "missing.keras")])
