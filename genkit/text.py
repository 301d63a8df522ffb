"""Text for the sentence models: one sentence a line, read, split and cut into tokens.

:class:`Sentences` is the text counterpart of :class:`genkit.io.Stream`: texts with optional
names, ``len()``, ``select()`` and a ``describe()`` for the training log, so that the one
training loop (genkit.train) and the one split rule (genkit.splits) take it as they take
images. Named data sets name their lines ``train-N`` / ``valid-N`` / ``test-N``; text read
from files or stdin has no names and splits on position (i % 10 == 0 test, == 5 val).

Tokens are **words** (English) or **characters** (Chinese poem lines). :func:`tokenize` splits
words on spaces and splits punctuation and English clitics off, as the Penn Treebank and the
sonnet corpus are written (``summer's day?`` -> ``summer 's day ?``); :func:`detokenize`
undoes it, so that ``detokenize(tokenize(s), unit) == s`` for ordinary text with single spaces.
This module imports no TensorFlow.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from pathlib import Path

import numpy as np

from .errors import GenkitError
from .io import write_file_atomic

UNITS = ("word", "char")
#: the special tokens, in their fixed ids: padding, unknown word, start and end of a sentence
PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)

_CLITICS = ("n't", "'s", "'re", "'ve", "'ll", "'d", "'m")
_OPENING = set("([{“‘¿¡«`$")
_CLOSING = set(".,;:!?)]}”’»…%")
_PUNCT = _OPENING | _CLOSING | set("'\"")
#: the curly apostrophe, which the sonnet corpus writes as a token of its own (``hector ’ s``, ``thro ’ the``)
_APOSTROPHE = "’"
#: what follows ``’`` inside a word (``unnumber’d``, ``hector’s``, ``whoe’er``, ``is’t``)
_APOSTROPHE_TAILS = frozenset(("s", "d", "t", "er", "re", "ll", "ve", "m", "n", "st", "rt", "en"))
#: words that ``’`` opens (``’tis``, ``’twas``, ``’gainst``)
_ELIDED = frozenset(("tis", "twas", "twere", "twill", "twould", "gainst", "mid", "midst", "neath", "tween", "twixt", "em"))
#: punctuation followed by a dash, one token in the sonnet corpus (``death ,— all``)
_DASHED = re.compile(r"[,.;:!?]—$")
#: tokens that end a sentence: the next word takes a capital (detokenize's ``capitals``; not after
#: ``!`` and ``?``, which in verse and in speech, ``“fear!” they cry``, often go on in lower case)
_ENDS = frozenset((".",))


@dataclasses.dataclass
class Sentences:
    """Sentences, one string each, with optional names (``train-N``/``valid-N``/``test-N``)."""

    texts: list[str]
    names: np.ndarray | None = None
    meta: dict = dataclasses.field(default_factory=dict)

    noun = "sentences"  # what the training log calls the examples

    def __post_init__(self):
        self.texts = list(self.texts)
        if self.names is not None:
            self.names = np.asarray(self.names, dtype=str)
            if len(self.names) != len(self.texts):
                raise GenkitError(f"{len(self.names)} names for {len(self.texts)} sentences")

    def __len__(self) -> int:
        return len(self.texts)

    def select(self, which) -> "Sentences":
        """A subset: a boolean mask, an index array or a slice."""
        idx = np.arange(len(self))[which]
        names = None if self.names is None else self.names[idx]
        return Sentences([self.texts[i] for i in idx], names, dict(self.meta))

    def describe(self) -> tuple[str, dict]:
        """The training log's words for the data, and the fields metrics.json records."""
        if (self.meta.get("unit") or guess_unit(self.texts)) == "char":
            longest, what = max((len(tokenize(t, "char")) for t in self.texts), default=0), "characters"
        else:
            longest, what = max((len(t.split()) for t in self.texts), default=0), "space-separated words"
        return f"sentences (up to {longest} {what})", {"size": None, "colors": None}


def is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)


def guess_unit(texts) -> str:
    """char if most sampled lines hold CJK ideographs, else word."""
    sample = list(texts[:2000]) if not isinstance(texts, str) else [texts]
    chinese = sum(is_chinese(t) for t in sample)
    return "char" if sample and chinese * 2 > len(sample) else "word"


def _split_word(chunk: str, last: bool) -> list[str]:
    """One space-free chunk -> tokens: leading/trailing punctuation and clitics split off. A
    single trailing period stays on a word inside the sentence (``mr.``, ``u.s.``, as in the
    Penn Treebank); only the sentence's last one is split off."""
    head, tail = [], []
    while chunk and chunk[0] in _PUNCT and not _is_clitic(chunk):
        head.append(chunk[0])
        chunk = chunk[1:]
    if _DASHED.search(chunk) and len(chunk) > 2:
        return [*head, *_split_word(chunk[:-2], last), chunk[-2:]]
    while chunk and chunk[-1] in _PUNCT:
        if not last and not tail and chunk[-1] == "." and chunk[-2:] != ".." and len(chunk) > 1:
            break
        if chunk[-3:] == "...":
            tail.insert(0, "...")
            chunk = chunk[:-3]
            continue
        tail.insert(0, chunk[-1])
        chunk = chunk[:-1]
    if _APOSTROPHE in chunk.strip(_APOSTROPHE):  # hector’s -> hector ’ s, as the sonnets write it
        left, _, right = chunk.partition(_APOSTROPHE)
        return [*head, *_split_word(left, False), _APOSTROPHE, *_split_word(right, False), *tail]
    if chunk and not _is_clitic(chunk):
        low = chunk.lower().replace("’", "'")
        for clitic in _CLITICS:
            if low.endswith(clitic) and len(low) > len(clitic):
                cut = len(chunk) - len(clitic)
                return [*head, chunk[:cut], chunk[cut:], *tail]
    return [*head, *([chunk] if chunk else []), *tail]


def _is_clitic(chunk: str) -> bool:
    return chunk.lower().replace("’", "'") in _CLITICS


def tokenize(text: str, unit: str = "word", keep=None) -> list[str]:
    """A sentence -> its tokens: words and punctuation, or characters (spaces dropped). A
    space-separated chunk found in ``keep`` (a vocabulary), as written or lower-cased, stays
    whole (``u.s.`` at the end of a sentence, ``'80s``)."""
    if unit == "char":
        return [ch for ch in text if not ch.isspace()]
    if unit != "word":
        raise GenkitError(f"unit must be {' or '.join(UNITS)}, got {unit!r}")
    out: list[str] = []
    chunks = text.split()
    for i, chunk in enumerate(chunks):
        if keep is not None and (chunk in keep or chunk.lower() in keep):
            out.append(chunk)
        else:
            out += _split_word(chunk, i == len(chunks) - 1 or _opens_sentence(chunks[i + 1]))
    return out


def _opens_sentence(chunk: str) -> bool:
    """Whether a chunk's first letter (after opening punctuation) is a capital: a period before
    it ends a sentence (``wood. But``) rather than an abbreviation (``mr. smith``)."""
    word = chunk.lstrip("".join(_PUNCT))
    return bool(word) and word[0].isupper()


def tokens_of(text: str, unit: str, pretokenized: bool = False) -> list[str]:
    """The tokens of a line of training data: its space-separated tokens as they are for a
    corpus that comes tokenised (PTB, the sonnets: ``meta["pretokenized"]``), else tokenize's."""
    if pretokenized and unit == "word":
        return text.split()
    return tokenize(text, unit)


def detokenize(tokens: list[str], unit: str = "word", *, capitals: bool = False) -> str:
    """Tokens -> text, the inverse of :func:`tokenize`: characters joined; words joined by
    spaces, but none before closing punctuation (``, ; : . ! ? ) ” ’``, the corpus's ``,—``) and
    clitics (``beauty 's`` -> ``beauty's``, ``rang 'd`` -> ``rang'd``), none after opening
    punctuation (``( “ ‘``); straight double quotes open and close in turn. The curly ``’`` closes
    against the word before it (``ladies’``, ``thro’``) and joins a contraction's tail (``hector’s``,
    ``unnumber’d``, ``whoe’er``), except that it opens the word after it at the line's start,
    after opening punctuation or a dash, and before ``tis``, ``twas`` and the like (``’tis``).
    ``capitals``: a capital at the line's first letter, at the first after a ``.`` token, and
    for the word ``i``, as written English has them (for text stored lower-cased, as the sonnets
    and PTB are; :func:`tokenize` then splits a period off before a capital, ``wood. But``)."""
    if unit == "char":
        return "".join(tokens)
    tokens = list(tokens)
    if capitals:
        start = True  # the next word opens a sentence
        for i, tok in enumerate(tokens):
            if tok == "i":
                tokens[i] = "I"
            if start and any(c.isalpha() for c in tok):
                at = next(j for j, c in enumerate(tok) if c.isalpha())
                tokens[i] = tok[:at] + tok[at].upper() + tok[at + 1:]
                start = False
            elif tok in _ENDS:
                start = True
    text, glue, quotes = "", True, 0
    for i, tok in enumerate(tokens):
        after = tokens[i + 1].lower() if i + 1 < len(tokens) else None
        if tok == '"':
            opening = quotes % 2 == 0
            quotes += 1
        elif tok == _APOSTROPHE:
            opening = glue or after in _ELIDED or tokens[i - 1] in ("—", "--")
        else:
            opening = bool(tok) and all(c in _OPENING for c in tok)
        closing = not opening and (tok in ('"', _APOSTROPHE) or _is_clitic(tok) or bool(_DASHED.fullmatch(tok))
                                   or (bool(tok) and all(c in _CLOSING for c in tok)))
        if text and not glue and not closing:
            text += " "
        text += tok
        glue = opening or (tok == _APOSTROPHE and after in _APOSTROPHE_TAILS)
    return text


#: control characters (C0 but tab, DEL, C1) removed from every line read
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: longest line read as a sentence, in characters; longer ones are skipped (and counted)
MAX_LINE = 10_000
#: most bytes a .gz text file may hold once decompressed
MAX_TEXT_BYTES = 1 << 30


def read_sentences(sources: list[str], note=None) -> Sentences:
    """Sentences from files (``.gz`` too) or ``-`` (stdin), one a line; blank lines are skipped.
    Bytes that are not UTF-8 are refused with the file and line number. Lines over ``MAX_LINE``
    characters are skipped and control characters removed, each counted in one ``note`` line
    per source."""
    texts: list[str] = []
    for source in sources or ["-"]:
        if source == "-":
            data = sys.stdin.buffer.read()
        else:
            path = Path(source)
            if path.is_dir():
                raise GenkitError("is a folder; give text files, one sentence a line", source=source)
            try:
                data = path.read_bytes()
            except OSError as e:
                raise GenkitError(f"cannot read ({e.strerror or e})", source=source) from None
            if data[:2] == b"\x1f\x8b":
                data = _gunzip(data, source)
        texts += decode_lines(data, source, note=note)
    return Sentences(texts)


def _gunzip(data: bytes, source: str) -> bytes:
    import zlib

    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflate.decompress(data, MAX_TEXT_BYTES)
    except zlib.error as e:
        raise GenkitError(f"bad gzip data ({e})", source=source) from None
    if inflate.unconsumed_tail:
        raise GenkitError(f"decompresses to over {MAX_TEXT_BYTES >> 20} MiB of text", source=source)
    if not inflate.eof:
        raise GenkitError("bad gzip data (truncated)", source=source)
    return out


def decode_lines(data: bytes, source: str = "-", note=None) -> list[str]:
    """UTF-8 bytes -> non-blank lines, stripped (a leading BOM is dropped); control characters
    are removed and lines over ``MAX_LINE`` characters skipped, with one ``note`` saying how many."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:4096]:
        raise GenkitError("holds binary data, not text (one sentence a line)", source=source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise GenkitError(f"line {line} is not UTF-8 (byte 0x{data[e.start]:02x} at column {column})", source=source) from None
    lines, long, controlled = [], 0, 0
    for line in text.splitlines():
        if len(line) > MAX_LINE:
            long += 1
            continue
        clean = CONTROL.sub("", line)
        controlled += clean != line
        if clean.strip():
            lines.append(clean.strip())
    said = ([f"skipped {long} line{'s' if long > 1 else ''} over {MAX_LINE:,} characters"] if long else []) + \
        ([f"removed control characters from {controlled} line{'s' if controlled > 1 else ''}"] if controlled else [])
    if said and note:
        note(f"{source}: {'; '.join(said)}")
    return lines


# -- what the text commands write ---------------------------------------------------------------
#: the formats of a text command's output (-f), and the -o extensions that name them
TEXT_FORMATS = ("txt", "json")
TEXT_EXTENSIONS = {".txt": "txt", ".json": "json", ".jsonl": "json"}
#: -f values and -o extensions that name an image, refused for text
IMAGE_FORMATS = ("png", "npz")
IMAGE_EXTENSIONS = (".png", ".npz", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff")


@dataclasses.dataclass
class ScoredSentences(Sentences):
    """Decoded sentences with ``logp``: log p(text | z) in nats of each, under the model that
    decoded it from its code z (the log-probability of each decoded token, <eos> included,
    summed)."""

    logp: np.ndarray | None = None

    def __post_init__(self):
        super().__post_init__()
        if self.logp is not None:
            self.logp = np.asarray(self.logp, dtype=np.float64).reshape(-1)
            if len(self.logp) != len(self.texts):
                raise GenkitError(f"{len(self.logp)} log-probabilities for {len(self.texts)} sentences")

    def select(self, which) -> "ScoredSentences":
        idx = np.arange(len(self))[which]
        part = super().select(idx)
        return ScoredSentences(part.texts, part.names, part.meta, None if self.logp is None else self.logp[idx])


@dataclasses.dataclass(frozen=True)
class Line:
    """One line of a text command's output: its 0-based position, the text and its
    log-probability in nats (None where the text has none)."""

    step: int
    text: str
    logp: float | None = None

    def json(self) -> str:
        """``{"step": i, "text": "...", "logp": -12.34}`` on one line (UTF-8 as is)."""
        logp = None if self.logp is None else round(float(self.logp), 4)
        return json.dumps({"step": self.step, "text": self.text, "logp": logp}, ensure_ascii=False)


def lines_of(sentences: Sentences) -> list[Line]:
    """The output lines of sentences, in order, with their log-probabilities if they carry them."""
    logp = getattr(sentences, "logp", None)
    return [Line(i, text, None if logp is None else float(logp[i])) for i, text in enumerate(sentences.texts)]


def text_format(output: str | None, fmt: str | None) -> str:
    """The format of a text output: -f's value, else the one -o's extension names (.txt; .json
    or .jsonl), else txt. An image format (-f png|npz, or -o FILE.png without -f) is refused,
    so that a command can decide this before any work."""
    if fmt is None:
        ext = Path(output).suffix.lower() if output and output != "-" else ""
        if ext in IMAGE_EXTENSIONS:
            raise GenkitError("this model writes sentences, not images: give -o a .txt or .json file (or -f txt|json)",
                              source=output)
        return TEXT_EXTENSIONS.get(ext, "txt")
    fmt = fmt.lower()
    if fmt in IMAGE_FORMATS:
        raise GenkitError(f"this model writes sentences, not images: --format must be txt or json, got {fmt!r}")
    if fmt not in TEXT_FORMATS:
        raise GenkitError(f"--format must be txt or json for sentences, got {fmt!r}")
    return fmt


def format_lines(lines: list[Line], fmt: str) -> str:
    """txt: one text a line; json: one JSON object a line (Line.json)."""
    if fmt not in TEXT_FORMATS:
        raise GenkitError(f"--format must be txt or json for sentences, got {fmt!r}")
    return "".join((line.json() if fmt == "json" else line.text) + "\n" for line in lines)


def write_lines(lines: list[Line], output: str | None, fmt: str) -> None:
    """Lines to ``output`` (atomically: a temporary file, then a rename) or, for None or ``-``,
    to stdout, in ``fmt`` (txt or json, see format_lines)."""
    body = format_lines(lines, fmt)
    if output and output != "-":
        write_file_atomic(output, body.encode("utf-8"))
    else:
        sys.stdout.write(body)
        sys.stdout.flush()


__all__ = ["IMAGE_FORMATS", "Line", "ScoredSentences", "Sentences", "SPECIALS", "TEXT_FORMATS", "UNITS", "decode_lines",
           "detokenize", "format_lines", "guess_unit", "is_chinese", "lines_of", "read_sentences", "text_format",
           "tokenize", "tokens_of", "write_lines"]
