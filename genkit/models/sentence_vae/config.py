"""Settings of the ``sentence-vae`` family (``gk-train sentence-vae --set KEY=VALUE``); no TensorFlow import.

``latent=0`` removes the code: no encoder, no KL, the decoder alone is a plain LSTM language
model (the benchmark's baseline, the same code path otherwise).
"""

from dataclasses import dataclass
from typing import ClassVar

from ...errors import GenkitError
from ..settings import Settings

MODEL_CLASS = "SentenceVAE"


@dataclass
class SentenceVAEConfig(Settings):
    latent: int = 16  # size of the code z; 0 = a plain LSTM language model (no encoder, no KL)
    embed: int = 256  # word (or character) embedding size, shared by encoder and decoder
    hidden: int = 256  # LSTM units, encoder and decoder
    unit: str = "auto"  # word, char, or auto: char when most lines are Chinese (or the data set says)
    vocab: int = 20000  # at most this many tokens (4 specials included): the most frequent of the fit split
    min_count: int = 1  # tokens seen fewer times in the fit split become <unk>
    max_length: int = 100  # tokens per sentence (with <eos>) when training and decoding (at most the fit split's longest)
    word_dropout: float = 0.0  # decoder input words replaced by <unk> with this probability, training only
    dropout: float = 0.0  # dropout on embeddings and decoder outputs, training only
    tie: bool = True  # the output layer shares the embedding matrix (a projection if hidden != embed)
    z_input: bool = True  # feed z to the decoder at every step, as well as into its initial state
    bidirectional: bool = False  # the encoder also reads the line backwards (its first words are fresh in that state)
    kl_anneal: str = "logistic"  # KL weight by training step: logistic, linear or none (always 1)
    kl_k: float = 0.0025  # logistic: slope, weight = 1 / (1 + exp(-kl_k * (step - kl_x0)))
    kl_x0: int = 2500  # logistic: the step where the weight is 1/2
    kl_steps: int = 10000  # linear: weight = min(1, step / kl_steps)
    sampled: int = 0  # train with a sampled softmax over this many words per step (0: the full softmax); never at validation
    kl_floor: float = 0.0  # free bits: each sentence's KL counts as at least this many nats in the training loss (0: off)
    kl_floor_token: float = 0.0  # free bits by length: each sentence's KL counts as at least this many nats a token (with <eos>), if more than kl_floor
    bow: float = 0.0  # weight of a bag-of-words loss on the code (Zhao et al. 2017): z alone predicts the sentence's words (0: off)
    clipnorm: float = 0.0  # scale each step's gradients down to at most this global norm (0: off)

    DATA_KIND: ClassVar[str] = "text"  # sentences (genkit.text), not images
    TRAINING_ONLY: ClassVar[tuple[str, ...]] = ("kl_floor", "kl_floor_token", "word_dropout", "dropout", "kl_anneal",
                                                "kl_k", "kl_x0", "kl_steps", "sampled", "clipnorm")
    LIMITS: ClassVar[dict] = {"embed": (1, None), "hidden": (1, None), "max_length": (1, None), "kl_steps": (1, None),
                              "vocab": (1, None), "min_count": (1, None), "latent": (0, None), "sampled": (0, None),
                              "word_dropout": (0.0, 1.0), "dropout": (0.0, 1.0), "kl_floor": (0.0, None),
                              "kl_floor_token": (0.0, None),
                              "bow": (0.0, None), "clipnorm": (0.0, None)}
    CHOICES: ClassVar[dict] = {"unit": ("auto", "word", "char"), "kl_anneal": ("logistic", "linear", "none")}

    def check(self) -> None:
        if not self.kl_k > 0:
            raise GenkitError(f"kl_k must be positive, got {self.kl_k}")
