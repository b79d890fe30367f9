"""Errors the trainer raises. Each names the field or operation at fault."""


class TrainerError(Exception):
    """Base class of every error the trainer raises on purpose."""


class ConfigError(TrainerError, ValueError):
    """A configuration value is invalid.

    ``field`` is the dotted path of the offending value (e.g. ``network.hidden_layers[1]``),
    ``message`` says what is wrong with it in plain words.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class PhaseOrderError(TrainerError):
    """A phase was requested out of order (e.g. ``update`` before ``backward``)."""
