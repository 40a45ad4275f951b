"""`python manage.py verify_raw_files`: the name issue 16 uses for `verify_blobs` (the same
command: every stored raw file re-hashed against its SHA-256, on either storage backend)."""
from labtrack.operations.management.commands.verify_blobs import Command as VerifyBlobs


class Command(VerifyBlobs):
    pass
