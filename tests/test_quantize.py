"""Colour science and the k-means quantizer (genkit.color, genkit.quantize)."""

import numpy as np
import pytest

from genkit import color, quantize
from genkit.errors import GenkitError
from genkit.io import Stream

# Pairs and expected values from Sharma, Wu & Dalal (2005), the CIEDE2000 test data.
SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((50.0, 2.5, 0.0), (50.0, 3.2592, 0.3350), 1.0),
]


def test_ciede2000_matches_published_pairs():
    a = np.array([p[0] for p in SHARMA])
    b = np.array([p[1] for p in SHARMA])
    want = np.array([p[2] for p in SHARMA])
    assert np.allclose(color.ciede2000(a, b), want, atol=1e-4)
    assert np.allclose(color.ciede2000(b, a), want, atol=1e-4)  # symmetric
    single = color.ciede2000(a, b, np.float32)  # the fitting's precision
    assert single.dtype == np.float32 and np.allclose(single, want, atol=1e-3)


def test_lab_of_known_colours_and_round_trip(rng):
    lab = color.srgb_to_lab(np.array([[255, 255, 255], [0, 0, 0], [255, 0, 0]]))
    assert np.allclose(lab[0], [100, 0, 0], atol=0.01) and np.allclose(lab[1], 0, atol=1e-6)
    assert np.allclose(lab[2], [53.24, 80.09, 67.20], atol=0.02)
    rgb = rng.integers(0, 256, (500, 3)).astype(np.uint8)
    assert np.array_equal(color.lab_to_srgb(color.srgb_to_lab(rgb)), rgb)


def blobs(rng, k=6, n=4000):
    centres = rng.integers(30, 225, (k, 3))
    pix = centres[rng.integers(0, k, n)] + rng.normal(0, 6, (n, 3))
    return np.clip(pix, 0, 255).astype(np.uint8).reshape(1, 40, n // 40, 3)


def test_fit_palette_beats_a_random_palette_and_is_seeded(rng):
    img = blobs(rng)
    pal = quantize.fit_palette(img, 6, seed=3)
    assert pal.shape == (6, 3) and pal.dtype == np.uint8
    err = quantize.delta_e(img, pal[quantize.map_to_palette(img, pal)]).mean()
    rand = rng.integers(0, 256, (6, 3)).astype(np.uint8)
    err_rand = quantize.delta_e(img, rand[quantize.map_to_palette(img, rand)]).mean()
    assert err < 0.5 * err_rand
    assert np.array_equal(pal, quantize.fit_palette(img, 6, seed=3))
    assert not np.array_equal(quantize.fit_palette(img, 12, seed=1), quantize.fit_palette(img, 12, seed=2))


def test_palette_is_ordered_by_use_with_background_first(rng):
    img = np.full((1, 20, 20, 3), 255, np.uint8)
    img[0, :5, :5] = [200, 10, 10]
    img[0, 5:7, :3] = [10, 10, 200]
    pal = quantize.fit_palette(img, 2)
    assert pal[0].tolist() == [255, 255, 255]


def test_few_colours_are_kept_exactly():
    img = np.array([[[[1, 2, 3], [4, 5, 6]], [[1, 2, 3], [7, 8, 9]]]], dtype=np.uint8)
    pal = quantize.fit_palette(img, 167)
    assert sorted(map(tuple, pal.tolist())) == [(1, 2, 3), (4, 5, 6), (7, 8, 9)]
    q = quantize.quantize(Stream(images=img))
    assert np.array_equal(q.rgb(), img)


def test_map_to_palette_picks_the_nearest_colour():
    pal = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0]], dtype=np.uint8)
    img = np.array([[[10, 10, 10], [240, 250, 245], [200, 30, 20]]], dtype=np.uint8)
    assert quantize.map_to_palette(img, pal).tolist() == [[0, 1, 2]]


@pytest.mark.parametrize("k", [0, 257])
def test_colour_count_is_checked(k):
    with pytest.raises(GenkitError, match="between 1 and 256"):
        quantize.fit_palette(np.zeros((1, 2, 2, 3), np.uint8) + np.arange(4).reshape(1, 2, 2, 1).astype(np.uint8), k)


def test_quantize_sources_crops_and_shares_one_palette(sprites):
    out = quantize.quantize_sources([str(p) for p in sprites], n_colors=16, crop=(20, 20))
    assert out.indices.shape == (len(sprites), 20, 20) and len(out.palette) == 16
    assert out.meta["crop"] == [20, 20] and out.meta["palette"] == "fitted-16"
    assert out.names.tolist() == [p.name for p in sprites]


def test_quantize_sources_refuses_colors_and_palette_together(sprites):
    with pytest.raises(GenkitError, match="not both"):
        quantize.quantize_sources([str(sprites[0])], n_colors=4, palette="bw")


def test_ciede2000_opposite_hues_and_grey_follow_the_angle_form():
    # Values of the textbook (angle) form: opposite hues take the smaller hue + 90 as mean hue.
    a = np.array([[50.0, 5.0, 0.0], [50.0, 0.0, 0.0], [50.0, 0.0, 5.0]])
    b = np.array([[50.0, -5.0, 0.0], [50.0, 3.0, 0.0], [50.0, 0.0, -5.0]])
    want = color.ciede2000(a, b)
    assert np.allclose(want[:2], [14.0097918, 4.0862002], atol=1e-6)
    assert np.allclose(color.ciede2000(b, a), want, atol=1e-9)


def test_map_to_palette_skips_only_runners_up_that_would_lose(rng):
    # The rule: CIEDE2000 decides among the RERANK nearest by Lab distance; far runners-up are skipped.
    pal = rng.integers(0, 256, (40, 3)).astype(np.uint8)
    img = rng.integers(0, 256, (1, 50, 40, 3)).astype(np.uint8)
    lab, pal_lab = color.srgb_to_lab(img).reshape(-1, 3), color.srgb_to_lab(pal)
    near = np.argsort(((lab[:, None] - pal_lab) ** 2).sum(-1), axis=1)[:, : quantize.RERANK]
    want = near[np.arange(len(lab)), color.ciede2000(lab[:, None], pal_lab[near]).argmin(1)]
    assert (quantize.map_to_palette(img, pal).reshape(-1) == want).mean() > 0.995


def test_fast_paths_match_the_plain_ones(rng, monkeypatch):
    """The sort-based unique colours and the 2^24 lookup table give np.unique's answer; the fit
    in two threads (halves of the rows) gives the one-thread palette and indices exactly."""
    rgb = np.concatenate([blobs(rng, k=12, n=4000), rng.integers(0, 256, (1, 40, 100, 3)).astype(np.uint8)], axis=2)
    colors, counts, inverse = quantize.unique_colors(rgb)
    keys = quantize._color_keys(rgb)
    uniq, fast_counts = quantize._unique_keys(keys)
    assert np.array_equal(quantize._key_colors(uniq), colors) and np.array_equal(fast_counts, counts)
    values = (np.arange(len(uniq)) % 251).astype(np.uint8)
    assert np.array_equal(quantize._lookup(uniq, values, keys), values[inverse])
    monkeypatch.setattr(quantize, "PARALLEL_ROWS", 16)
    fits = []
    for threads in (1, 2):
        monkeypatch.setattr(quantize, "THREADS", threads)
        fits.append(quantize._fit(colors, counts, 24, seed=1))
    assert np.array_equal(fits[0][0], fits[1][0]) and np.array_equal(fits[0][1], fits[1][1])
    assert np.array_equal(quantize.quantize(Stream(images=rgb), n_colors=24, seed=1).indices.reshape(-1),
                          fits[1][1][inverse])


def test_a_failure_in_the_second_thread_is_raised_in_the_caller(monkeypatch):
    monkeypatch.setattr(quantize, "PARALLEL_ROWS", 2)
    monkeypatch.setattr(quantize, "THREADS", 2)

    def fn(x):
        if x[0] >= 5:
            raise ValueError("second half")
        return (x * 2,)

    with pytest.raises(ValueError, match="second half"):
        quantize._in_halves(fn, np.arange(10))
    assert np.array_equal(quantize._in_halves(lambda x: (x * 2,), np.arange(10))[0], np.arange(10) * 2)
