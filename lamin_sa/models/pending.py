"""The journal of artifact saves whose objects are not yet in place.

A save writes its objects under temporary keys, then commits the artifact rows
together with one row here per object, then moves the objects into place and
deletes these rows. A crash in between leaves the rows, so the next connect (or
``lamin-sa repair``) finishes the moves or rolls the save back; temporary objects
named here are never purged.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, Integer, String, Table

from lamin_sa.db.base import UTCDateTime, metadata, utcnow

pending_save = Table(
    "core_pendingsave",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("artifact_uid", String(20), nullable=False, index=True),
    Column("storage_root", String(255), nullable=False),
    Column("tmp_key", String(300), nullable=False),
    Column("final_key", String(300), nullable=False),
    # a replaced object under another key, deleted once the new one is in place
    Column("clear_key", String(300)),
    Column("is_dir", Boolean, nullable=False, default=False),
    Column("size", BigInteger),
    # a new row (rolled back by deleting it) or a replace() (by restoring these)
    Column("is_new", Boolean, nullable=False, default=True),
    Column("undo", JSON),
    # host:pid:start of the saving process, to tell crashed saves from live ones
    Column("owner", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
)
