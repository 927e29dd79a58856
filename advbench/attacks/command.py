"""``advbench generate-attacks`` (placeholder until the attacks issue lands)."""

from advbench.errors import AdvbenchError


def _handler(args) -> int:
    raise AdvbenchError("generate-attacks is not implemented yet")


def register(sub) -> None:
    parser = sub.add_parser("generate-attacks", help="train the victim and build the adversarial HDF5 dataset")
    parser.set_defaults(handler=_handler)
