"""User-facing errors. Entry points print ``str(err)`` as one line and exit non-zero, with no
traceback; anything else is a bug and keeps its traceback."""


class ConfigError(ValueError):
    """A config key has a value we cannot use. The message names the key, the value and
    what is allowed, in one sentence."""

    def __init__(self, key: str, value, allowed: str, hint: str = "") -> None:
        msg = f"{key}={value!r} is not valid: allowed {allowed}."
        if hint:
            msg += f" {hint}"
        super().__init__(msg)
        self.key, self.value, self.allowed = key, value, allowed


class DataUnavailableError(RuntimeError):
    """Data files are missing or corrupt and cannot be fetched; the message says what to do."""
