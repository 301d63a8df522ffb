"""The capability contracts: who has what, the refusal that names them, and how each kind of
evaluation prints itself and fills a model card (from hand-made results, no model)."""

import json
from types import SimpleNamespace

import pytest

from genkit.errors import GenkitError
from genkit.models import capabilities as cap


@pytest.mark.parametrize(
    "capability, families",
    [
        (cap.Samples, "pixelrnn, pixelcnn, mixture, masked, vae, ae, cvae, gan, sentence-vae"),
        (cap.SweepsCode, "vae, ae, cvae"),
        (cap.Conditional, "cvae"),
        (cap.Completes, "pixelrnn, pixelcnn, mixture, masked"),
        (cap.Refines, "masked"),
        (cap.Interpolates, "vae, ae, cvae, gan, sentence-vae"),
        (cap.Evaluates, "pixelrnn, pixelcnn, mixture, masked, vae, ae, cvae, gan, classifier, sentence-vae"),
    ],
)
def test_require_refuses_in_one_line_naming_the_models_that_have_it(capability, families):
    assert ", ".join(cap.having(capability)) == families
    lacking = SimpleNamespace(family="nothing")
    with pytest.raises(GenkitError) as e:
        cap.require(lacking, capability, command="gk-x")
    assert str(e.value) == f"gk-x needs {capability.needs} ({families}), but this is a nothing model"


def test_require_passes_a_model_that_has_it():
    from genkit.models import get

    model = get("cvae").__new__(get("cvae"))  # an instance of the class, never built
    assert cap.require(model, cap.Conditional, command="gk-x") is model


METRICS = {"best_epoch": 2, "epochs": [
    {"epoch": 1, "train_loss": 3.0, "val_loss": 3.5, "train_bits_per_pixel": 5.15, "val_bits_per_pixel": 4.473,
     "train_accuracy": 0.9034, "val_accuracy": 0.9865, "train_nelbo": 120.04, "val_nelbo": 110.0,
     "train_fd_px": 30.0, "val_fd_px": 31.0, "val_d_real": 0.6, "val_d_fake": 0.4},
    {"epoch": 2, "train_loss": 2.0, "val_loss": 2.5, "train_bits_per_pixel": 4.23, "val_bits_per_pixel": 4.185,
     "train_accuracy": 0.9737, "val_accuracy": 0.9887, "train_nelbo": 100.0, "val_nelbo": 99.96,
     "train_fd_px": 20.0, "val_fd_px": 21.0, "val_d_real": 0.55, "val_d_fake": 0.45},
]}
MODEL = SimpleNamespace(family="x", likelihood="bernoulli", num_tokens=10002, unit="word")

CASES = [
    (cap.PixelNLL(model="pixelcnn", images=81, bits_per_pixel=2.36631, nats_per_image=656.07),
     "2.3663 bits/px  656.07 nats/image  81 images  pixelcnn  pokemon:test",
     ["| best epoch | 2 of 2 |", "| **test NLL** | **2.3663 bits/px** (656.1 nats/image) |", "| val NLL | 2.5246 bits/px |"],
     "Per epoch (bits/px): 1: 5.150/4.473, 2: 4.230/4.185 (train/val)", ""),
    (cap.ImageIWAE(model="vae", images=10000, k=100, nll_nats=89.684, nelbo_nats=95.05, kl_nats=23.61, rec_nats=71.45,
                   bits_per_pixel=0.16501, kl_per_dim=[0.0, 2.2612], active_units=16, latent=50),
     "NLL 89.68 nats/image (IWAE k=100)  -ELBO 95.05  KL 23.61  active units 16/50  0.1650 bits/px  10000 images  vae  pokemon:test",
     ["| best epoch | 2 of 2 (by validation loss) |",
      "| **test NLL** | **89.68 nats/image** (IWAE bound, k = 100; 0.1650 bits/px) |",
      "| test −ELBO | 95.05 nats/image (reconstruction 71.45 + KL 23.61) |",
      "| active units | 16 of 50 (Cov_x E_q[z_u] > 0.01) |",
      "| KL per code dimension | 0.00, 2.26 |"],
     "Per epoch (every 10th, and the best), −ELBO in nats/image (train/val): 1: 120.0/110.0, 2: 100.0/100.0",
     "decoder likelihood bernoulli; "),
    (cap.Reconstruction(model="ae", images=81, rec_nats=120.5, bits_per_pixel=0.43),
     "reconstruction 120.50 nats/image  0.4300 bits/px  81 images  ae (no likelihood: not a probabilistic model)  pokemon:test",
     ["| best epoch | 2 of 2 (by validation loss) |",
      "| test reconstruction | 120.50 nats/image (0.4300 bits/px; an AE has no likelihood) |"],
     "Per epoch (every 10th, and the best), −ELBO in nats/image (train/val): 1: 120.0/110.0, 2: 100.0/100.0",
     "decoder likelihood bernoulli; "),
    (cap.SentenceNLL(model="sentence-vae", sentences=3761, tokens=82430, latent=16, k=10, nll_nats=102.44, ppl=107.11,
                     nelbo_nats=102.85, kl_nats=4.09, rec_nats=98.76, ppl_elbo=108.0, active_units=4),
     "NLL 102.44 nats/sentence (IWAE k=10)  -ELBO 102.85  KL 4.09  perplexity 107.1  3761 sentences  sentence-vae  pokemon:test",
     ["| best epoch | 2 of 2 (by validation -ELBO, KL weight 1) |",
      "| **test NLL** | **102.44 nats/sentence** (IWAE bound, k = 10); perplexity 107.1 per token (82,430 tokens with one "
      "<eos> per sentence, 3,761 sentences) |",
      "| test -ELBO | 102.85 nats/sentence (reconstruction 98.76 + KL 4.09) |",
      "| active units | 4 of 16 (Cov_x E_q[z_u] > 0.01) |"],
     "Per epoch, -ELBO in nats/sentence, train/val (the train values are means over the epoch's batches, their "
     "reconstruction a sampled-softmax estimate when `sampled` > 0): 1: 120.0/110.0, 2: 100.0/100.0",
     "vocabulary 10,002 words (with <pad> <unk> <bos> <eos>); "),
    (cap.Realness(model="gan", images=10000, seed=0, samples=10000, frechet=19.3456, label_entropy=2.2521, max_entropy=2.302585,
                  histogram=[1054, 696], judge="checkpoints/mnist-classifier.keras"),
     "Fréchet distance 19.346 (judge features, 10000 samples vs 10000 images)  label entropy 2.252/2.303 nats  gan  pokemon:test",
     ["| best epoch | 2 of 2 (lowest val pixel Fréchet distance: val images vs the generator's images for fixed noise) |",
      "| **test realness** | **squared Fréchet distance 19.346** between 10,000 samples (seed 0) and the 10,000 test images, "
      "in the penultimate-layer features of `mnist-classifier.keras` |",
      "| samples' labels | entropy 2.252 of at most 2.303 nats; per class (judge's labels) 1054/696 |"],
     "Per epoch, pixel Fréchet distance (train/val) and D's mean output on val real/fake: 1: 30.00/31.00 (0.60/0.40), "
     "2: 20.00/21.00 (0.55/0.45)", ""),
    (cap.Accuracy(model="classifier", images=10000, accuracy=0.9871, error=0.0129, cross_entropy_nats=0.038192),
     "accuracy 0.9871  cross-entropy 0.0382 nats/image  10000 images  classifier  pokemon:test",
     ["| best epoch | 2 of 2 (by validation cross-entropy) |",
      "| **test accuracy** | **98.71%** (10,000 images; cross-entropy 0.0382 nats/image) |"],
     "Per epoch, accuracy (train/val): 1: 0.9034/0.9865, 2: 0.9737/0.9887", ""),
]


@pytest.mark.parametrize("result, line, rows, history, extra", CASES, ids=lambda v: type(v).__name__)
def test_each_evaluation_prints_its_line_and_json_and_fills_a_card(result, line, rows, history, extra):
    keys = dict(result)
    result["data"] = "pokemon:test"
    assert result.line() == line
    assert json.loads(result.to_json()) == {**keys, "data": "pokemon:test"}
    assert result.to_json() == json.dumps(dict(result), sort_keys=True)
    assert result["data"] == "pokemon:test" and isinstance(result, dict)  # still a dict: result["key"] works
    val = cap.PixelNLL(model="pixelcnn", images=79, bits_per_pixel=2.52459, nats_per_image=700.0)
    assert result.card_rows(METRICS, MODEL, lambda split: val) == (extra, rows, history)
    assert result.count == (3761 if isinstance(result, cap.SentenceNLL) else result["images"])


def test_a_conditional_model_s_card_says_the_likelihood_is_conditional():
    result = CASES[1][0]
    cvae = type("FakeCVAE", (cap.Conditional,), {"style_stream": None, "likelihood": "bernoulli"})()
    row = result.card_rows(METRICS, cvae, None)[1][1]
    assert row.endswith("0.1650 bits/px) — conditional on the label, −log p(x | y) |")


def test_a_sentence_card_says_free_bits_and_bag_of_words_pick_the_best_epoch():
    result = CASES[3][0]
    with_floor = SimpleNamespace(**vars(MODEL), config=SimpleNamespace(kl_floor=45.0, bow=0.0))
    both = SimpleNamespace(**vars(MODEL), config=SimpleNamespace(kl_floor=4.0, bow=0.5))
    assert result.card_rows(METRICS, with_floor, None)[1][0] == (
        "| best epoch | 2 of 2 (by validation loss: reconstruction + max(KL, 45)) |")
    assert result.card_rows(METRICS, both, None)[1][0] == (
        "| best epoch | 2 of 2 (by validation loss: reconstruction + max(KL, 4) + 0.5 x bag-of-words NLL) |")
    by_length = SimpleNamespace(**vars(MODEL), config=SimpleNamespace(kl_floor=45.0, kl_floor_token=8.5, bow=0.0))
    resumed = {**METRICS, "best_from": 1}  # a resume changed the loss after epoch 1
    assert result.card_rows(resumed, by_length, None)[1][0] == (
        "| best epoch | 2 of 2 (by validation loss: reconstruction + max(KL, 45, 8.5 x tokens), among epochs 2-2, "
        "those trained with this loss) |")


def test_a_language_model_s_line_says_exact():
    lm = cap.SentenceNLL(model="sentence-vae", sentences=2, tokens=9, latent=0, k=1, nll_nats=10.0, ppl=3.0,
                         nelbo_nats=10.0, kl_nats=0.0, rec_nats=10.0, ppl_elbo=3.0, data="-")
    assert lm.line().startswith("NLL 10.00 nats/sentence (exact)  -ELBO 10.00  KL 0.00  perplexity 3.0  2 sentences")
    assert not any("active units" in row for row in lm.card_rows(METRICS, MODEL, None)[1])
