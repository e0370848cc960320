"""``bt.settings``: the default organism and whether parents are saved too."""

from __future__ import annotations

from typing import Any


def organism_record(name: str) -> Any:
    """The Organism called ``name`` (or with that scientific name); saved if new.

    Example:
        >>> organism_record("human").name
        'human'
    """
    from lamin_sa.bionty.models import Organism

    found = Organism.filter(name=name).one_or_none()
    if found is None:
        found = Organism.filter(scientific_name=name).one_or_none()
    if found is None:
        found = Organism(name=name).save()
    return found


class BiontySettings:
    """Settings of the bionty module (``bt.settings``).

    Attributes:
        auto_save_parents: Saving a record also saves and links the parents it
            carries (default True).
    """

    def __init__(self) -> None:
        self._organism: Any = None
        self.auto_save_parents: bool = True

    @property
    def organism(self) -> Any:
        """The default Organism of Gene, Protein and CellMarker records (or None).

        Set a name (``"human"``) or an Organism record; a new name is saved as an
        Organism of the connected instance.

        Example:
            >>> bt.settings.organism = "human"
        """
        return self._organism

    @organism.setter
    def organism(self, value: Any) -> None:
        if isinstance(value, str):
            value = organism_record(value)
        self._organism = value

    def __repr__(self) -> str:
        name = getattr(self._organism, "name", None)
        return (
            f"BiontySettings(organism={name!r}, "
            f"auto_save_parents={self.auto_save_parents})"
        )


settings = BiontySettings()

__all__ = ["BiontySettings", "organism_record", "settings"]
