"""media-ingest: resumable, verifiable upload of every recording."""
