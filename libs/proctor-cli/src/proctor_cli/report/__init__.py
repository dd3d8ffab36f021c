"""The review report of ``proctor report``: model (gathered data), gathering over gRPC, thumbnails,
HTML rendering and optional PDF."""
