"""Exceptions with messages meant for the user: what went wrong and how to fix it."""


class HumamError(Exception):
    """Base class of every error humam reports to the user (the CLI prints it without a traceback)."""


class DataError(HumamError):
    """A raw input file is missing, corrupt or cannot be fetched."""


class OptionalDataMissing(DataError):
    """An optional raw input is not available; callers skip what depends on it."""


class ParameterError(HumamError):
    """A parameter or experiment file is invalid."""


class FileFormatError(HumamError, ValueError):
    """A file humam reads back (an earlier output, a run record) is missing, truncated, of another
    kind or of another format version. Also a ValueError, which :func:`humam.h5io.open_h5` raised
    for a wrong file type or version before, so callers that catch ValueError keep working."""


class OutputError(HumamError):
    """An output cannot be written: no space left, no permission, or its folder cannot be created."""
