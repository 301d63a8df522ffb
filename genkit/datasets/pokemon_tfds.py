"""A tensorflow-datasets builder, ``pokemon_sprites``, for the two forms of the Pokemon data.

Configs:

* ``sprites``: the original sprites, ``image`` uint8 (40, 40, 3) composited on white, ``name``
  (file name) and ``pokedex`` (int32); splits ``train`` (711) and ``test`` (81) by the project's
  fixed split (Pokedex number divisible by 10 -> test). Read from the manual folder only, since
  the upstream archive is a RAR file.
* ``course``: the course's 20x20 crops, ``indices`` uint8 (20, 20); one split, ``train`` (792),
  since the lines carry no names. The 167-colour palette is stored in ``info.metadata["palette"]``
  (also available from :func:`genkit.datasets.pokemon.load_course`). The two text files are taken
  from the manual folder when there, else downloaded; either way they are checked against
  ``checksums.tsv`` beside this module.

Parsing is :mod:`genkit.datasets.pokemon`'s. Importing this module imports TensorFlow::

    builder = PokemonSprites(config="sprites", data_dir="~/tensorflow_datasets")
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=FOLDER))
"""

from __future__ import annotations

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

from . import pokemon

HOMEPAGE = "https://github.com/SunnyHaze/PixelRNN-Pokemon-Creation"


class PokemonSprites(tfds.core.GeneratorBasedBuilder):
    """The Pokemon sprites of Hung-yi Lee's ML course, as sprites or as the course's crops."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = f"""
    Put the data in one folder and pass it as the manual folder:
    * `sprites` config: the 40x40 sprite PNGs, in the folder itself or in its `sprites/`
      sub-folder. {pokemon.SPRITES_HINT}.
    * `course` config (optional, it downloads them otherwise): `pixel_color.txt` and
      `colormap.txt` from {pokemon.BASE_URL}.
    """
    BUILDER_CONFIGS = [
        tfds.core.BuilderConfig(name="sprites", description="Original 40x40 RGB sprites, split by Pokedex number."),
        tfds.core.BuilderConfig(name="course", description="The course's 20x20 crops as indices into its 167 colours."),
    ]

    # tfds 4.9.10 works this out with `importlib_resources`, a package it only requires on
    # Python < 3.9 (ModuleNotFoundError otherwise). It is this file; checksums.tsv sits beside it.
    @tfds.core.utils.classproperty
    @classmethod
    def code_path(cls) -> epath.Path:
        return epath.Path(__file__)

    def _info(self) -> tfds.core.DatasetInfo:
        if self.builder_config.name == "sprites":
            features = {
                "image": tfds.features.Image(shape=(*pokemon.SPRITE_SIZE, 3), dtype=np.uint8),
                "name": tfds.features.Text(),
                "pokedex": np.int32,
            }
        else:
            features = {"indices": tfds.features.Tensor(shape=(pokemon.CROP, pokemon.CROP), dtype=np.uint8)}
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(features),
            homepage=HOMEPAGE,
            metadata=tfds.core.MetadataDict(),
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        if self.builder_config.name == "sprites":
            stream = pokemon.load_sprites(dl_manager.manual_dir)
            return {split: self._generate_examples(stream, split) for split in pokemon.SPLITS}
        # Files named in checksums.tsv are taken from the manual folder when present there.
        paths = dl_manager.download({name: pokemon.BASE_URL + name for name in pokemon.COURSE_FILES})
        stream = pokemon.read_course(paths["pixel_color.txt"], paths["colormap.txt"])
        self.info.metadata["palette"] = stream.palette.tolist()
        return {"train": self._generate_examples(stream)}

    def _generate_examples(self, stream, split: str = "train"):
        if self.builder_config.name == "course":
            for i, indices in enumerate(stream.indices):
                yield i, {"indices": indices}
            return
        for image, name in zip(stream.images, stream.names.tolist()):
            if pokemon.split_of(name) == split:
                yield name, {"image": image, "name": name, "pokedex": pokemon.pokedex_number(name)}


__all__ = ["PokemonSprites"]
