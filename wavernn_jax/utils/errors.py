"""The base of every error a user can cause and fix.

`launch.py` prints such an error as one line, `error: <what>; <how to fix>`,
and exits with status 1. Anything else (an internal bug) keeps its
traceback, so a user can report it. Each module raises its own subclass
(`config_checks.ConfigError`, `checkpoint.CheckpointError`,
`vocoder.InputError`, ...) or `UserError` itself for a bad value that has no
better home. It is a `ValueError`, as these errors were before they had a
base of their own.
"""


class UserError(ValueError):
  """Something the user gave (a config value, a file, an argument) is wrong."""


class InputError(UserError):
  """Audio or mel given to the vocoder has the wrong shape, dtype or values."""


class ConfigError(UserError):
  """A config value is out of range or inconsistent."""
