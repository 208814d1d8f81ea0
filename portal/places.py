"""A *place* is where a membership or an invitation belongs: an authority or an
organisation. These helpers let the same code serve both."""

from __future__ import annotations

import uuid

from portal.extensions import db
from portal.models import Authority, Organisation

Place = Authority | Organisation


def place_ids(place: Place) -> dict[str, uuid.UUID | None]:
    """``authority_id`` and ``organisation_id`` as a row in that place would hold them."""
    if isinstance(place, Authority):
        return {"authority_id": place.id, "organisation_id": None}
    return {"authority_id": None, "organisation_id": place.id}


def place_name(place: Place) -> str:
    return place.display_name if isinstance(place, Authority) else place.name


def place_at(authority_id: uuid.UUID | None, organisation_id: uuid.UUID | None) -> Place:
    """The place a row with these two columns (exactly one set) belongs to."""
    place: Place | None = (
        db.session.get(Authority, authority_id)
        if authority_id is not None
        else db.session.get(Organisation, organisation_id)
    )
    if place is None:
        raise LookupError("row points at a place that does not exist")
    return place


def is_in(
    row_authority_id: uuid.UUID | None, row_organisation_id: uuid.UUID | None, place: Place
) -> bool:
    ids = place_ids(place)
    return (row_authority_id, row_organisation_id) == (ids["authority_id"], ids["organisation_id"])
