"""Object storage for recordings and evidence, behind one interface (filesystem or S3-compatible).

Used by media-ingest (segments), its processing worker (normalised media, thumbnails, playlists)
and anomaly (incident evidence thumbnails).
"""

from proctor_storage.store import (
    FilesystemStore,
    ObjectMissing,
    SealMismatch,
    SegmentStore,
    StorageError,
    StorageFull,
    StorageSettings,
    open_store,
)

__all__ = ["FilesystemStore", "ObjectMissing", "SealMismatch", "SegmentStore", "StorageError", "StorageFull",
           "StorageSettings", "open_store"]
