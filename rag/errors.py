"""Named domain errors.

Each message says what went wrong and how to fix it; entry points print `str(error)` as one line
instead of a traceback.
"""


class RagError(Exception):
    """Base class for every error a user can cause or fix."""


class SettingsError(RagError):
    """A setting is missing or has a bad value; the message names the variable."""


class InputError(RagError):
    """A file or record cannot be ingested; the message names the file and the reason."""


class NotADecisionError(InputError):
    """The text has no LGO case reference, so it cannot be cited."""


class EmbedderMismatchError(RagError):
    """The store was built by another embedder; mixing vectors would give meaningless search."""


class StoreError(RagError):
    """The Chroma store cannot be opened, reached or written."""


class ModelError(RagError):
    """The embedding model cannot be loaded."""
