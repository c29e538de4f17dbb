"""The command line's config: typed `file.py:key=value` args, one-line errors.

`parse` reads the argument of an experiment file's `get_config(arg)` into
typed values (like big_vision). `DEFINE_config_file` and `parse_flags` wrap
ml_collections and absl so that a bad --config argument or file, a bad
--config.* override or a bad flag raises CommandLineError with one line,
`<what is wrong>; <how to fix it>`, instead of absl's usage and a traceback.
"""

import difflib
import os
import re

from absl import flags
import ml_collections
from ml_collections import config_flags

from wavernn_jax.utils import errors

_TRUE, _FALSE = ('1', 'true', 'yes'), ('0', 'false', 'no')


def parse(arg: str, defaults: dict) -> ml_collections.ConfigDict:
  """Parses 'k1=v1,k2=v2' into the types of `defaults` (like big_vision).

  Args:
    arg: the string after the config file's colon (may be empty).
    defaults: every accepted key with its default value (which fixes its type).

  Returns:
    A ConfigDict with every key of `defaults`.

  Raises:
    ValueError: on an unknown key or a value of the wrong type.
  """
  out = dict(defaults)
  for item in filter(None, (s.strip() for s in (arg or '').split(','))):
    key, sep, value = item.partition('=')
    if not sep or key not in defaults:
      raise ValueError(f'config argument {item!r} is not key=value with a '
                       f'known key; use keys from {sorted(defaults)}.')
    kind = type(defaults[key])
    try:
      if kind is bool:
        if value.lower() not in _TRUE + _FALSE:
          raise ValueError
        out[key] = value.lower() in _TRUE
      else:
        out[key] = kind(value)
    except ValueError:
      valid = '/'.join(_TRUE + _FALSE) if kind is bool else kind.__name__
      raise ValueError(f'config argument {key}={value!r} is not a valid '
                       f'{kind.__name__}; write it as {key}=<{valid}>.'
                       ) from None
  return ml_collections.ConfigDict(out)


class CommandLineError(errors.UserError):
  """A bad flag, --config file, argument or override, said in one line."""


class _ConfigFileParser(flags.ArgumentParser):
  """ml_collections' parser of a config file flag, with one-line errors.

  ml_collections runs the config file while absl parses the flags: what goes
  wrong there would come out as absl's usage and a traceback (or, for a
  missing file, later, wherever the config is first read).
  """

  def __init__(self, parser: flags.ArgumentParser, name: str):
    self._parser = parser
    self._name = name
    self.config = None  # The config last loaded (to name unknown overrides).

  def parse(self, argument):
    path = argument.split(':', 1)[0]
    where = f'--{self._name}={argument}'
    if not os.path.isfile(path):
      raise CommandLineError(
          f'{where}: no such file {path!r}; give an experiment file, e.g. '
          f'--{self._name}=experiments/configs/wavernn.py:preset=tiny.')
    try:
      self.config = self._parser.parse(argument)
    except SyntaxError as e:
      raise CommandLineError(
          f'{where}: syntax error in {path}, line {e.lineno}: {e.msg}; fix '
          f'the file (`python -m py_compile {path}` shows where).') from None
    except Exception as e:  # pylint: disable=broad-except
      # ml_collections re-raises get_config's TypeError or ValueError with a
      # traceback as the message; the original says what is wrong.
      if isinstance(e, (TypeError, ValueError)) and e.__context__:
        e = e.__context__
      message = _first_line(e)
      if not isinstance(e, ValueError):  # Not a message of get_config's own.
        message = (f'{type(e).__name__}: {message} (in {path}); fix the '
                   'file or the arguments after its colon')
      raise CommandLineError(f'{where}: {message}') from None
    return self.config

  def flag_type(self):
    return self._parser.flag_type()


def DEFINE_config_file(  # pylint: disable=invalid-name
    name: str, *args, **kwargs) -> flags.FlagHolder:
  """`config_flags.DEFINE_config_file` whose errors `parse_flags` words."""
  holder = config_flags.DEFINE_config_file(name, *args, **kwargs)
  flag = flags.FLAGS[name]
  flag.parser = _ConfigFileParser(flag.parser, name)
  return holder


def _first_line(e: Exception) -> str:
  lines = str(e).strip().splitlines()
  return lines[0] if lines else type(e).__name__


def _flag_error(e: flags.Error, helpshort: str) -> str:
  """The one line for an error of absl's flag parsing."""
  if isinstance(e.__context__, CommandLineError):  # A bad config file.
    return str(e.__context__)
  if isinstance(e, flags.UnrecognizedFlagError):
    config, dot, _ = e.flagname.partition('.')
    if dot and config in flags.FLAGS and isinstance(
        flags.FLAGS[config].parser, _ConfigFileParser):
      return (f'--{e.flagname} overrides a field of --{config}; give '
              f'--{config}=experiments/configs/wavernn.py[:preset=...] before it.')
    return f'{_first_line(e)}; {helpshort} lists the flags.'
  message = _first_line(e).removeprefix('flag ')
  name = re.match(r'--([\w.]+)=', message)
  if not name or name.group(1) not in flags.FLAGS:
    return f'{message}; {helpshort} lists the flags.'
  flag = flags.FLAGS[name.group(1)]
  if '.' in flag.name:  # An override of a config field.
    return (f'{message}; {flag.name.split(".", 1)[1]} takes '
            f'{flag.flag_type()} values (now {flag.default!r}).')
  if flag.value is None and 'other than None' in message:  # Required.
    return f'--{flag.name} is missing; --{flag.name}: {flag.help}'
  return f'{message}; --{flag.name}: {flag.help} (default: {flag.default!r})'


def _unknown_override(argv: list[str]) -> str | None:
  """The one line for the first --<config>.<field> its config lacks."""
  for arg in argv[1:]:
    match = re.match(r'--?(?:no)?(\w+)\.([^=]+)', arg)
    parser = (flags.FLAGS[match.group(1)].parser
              if match and match.group(1) in flags.FLAGS else None)
    if not isinstance(parser, _ConfigFileParser) or parser.config is None:
      continue
    node, path = parser.config, match.group(2).split('.')
    for i, key in enumerate(path):
      if isinstance(node, ml_collections.ConfigDict) and key in node:
        node = node[key]
        continue
      section = '.'.join(path[:i])
      known = (sorted(node) if isinstance(node, ml_collections.ConfigDict)
               else [])
      near = difflib.get_close_matches(key, known, n=1)
      fix = (f'did you mean --{match.group(1)}.'
             f'{".".join(path[:i] + near)}?' if near
             else f'{section or "the config"} has {", ".join(known)}.' if known
             else f'{section} is a value, not a section.')
      return (f'{match.group(0)}: the config has no field '
              f'{".".join(path[:i + 1])}; {fix}')
  return None


def parse_flags(argv: list[str]) -> list[str]:
  """`absl.flags.FLAGS(argv)` (e.g. as app.run's `flags_parser`).

  Returns:
    argv without the flags: the program name only.

  Raises:
    CommandLineError: a bad flag, --config file, argument or override, or a
      positional argument, in one line.
  """
  helpshort = f'`python {os.path.basename(argv[0])} --helpshort`'
  try:
    rest = flags.FLAGS(argv)
  except flags.Error as e:
    raise CommandLineError(_flag_error(e, helpshort)) from None
  except (AttributeError, KeyError):
    # What ml_collections raises for an override of a field the config lacks.
    message = _unknown_override(argv)
    if message is None:
      raise
    raise CommandLineError(message) from None
  if len(rest) > 1:
    raise CommandLineError(
        f'unexpected argument {rest[1]!r}; flags are written --name=value '
        f'({helpshort} lists them).')
  return rest
