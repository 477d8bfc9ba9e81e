"""Files on disk: where they live (paths), atomic writes and locks, the credentials store."""
