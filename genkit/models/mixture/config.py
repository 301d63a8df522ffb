"""Settings of the ``mixture`` family (``gk-train mixture --set members=A,B,...``); no TensorFlow import."""

from dataclasses import dataclass

from ..settings import Settings

MODEL_CLASS = "Mixture"


@dataclass
class MixtureConfig(Settings):
    #: the trained pixel models it mixes, comma-separated: checkpoints, run folders or shipped names;
    #: read when the mixture is made (a saved mixture carries their networks and weights)
    members: str = ""

    @property
    def member_specs(self) -> list[str]:
        return [s.strip() for s in self.members.split(",") if s.strip()]
