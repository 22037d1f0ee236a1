"""Exceptions with messages meant for the user: what went wrong and how to fix it."""


class HumamError(Exception):
    """Base class of every error humam reports to the user (the CLI prints it without a traceback)."""


class DataError(HumamError):
    """A raw input file is missing, corrupt or cannot be fetched."""


class OptionalDataMissing(DataError):
    """An optional raw input is not available; callers skip what depends on it."""


class ParameterError(HumamError):
    """A parameter or experiment file is invalid."""
