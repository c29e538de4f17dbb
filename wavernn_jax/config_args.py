"""Typed parsing of `--config=file.py:key=value,...` arguments."""

import ml_collections

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
      raise ValueError(f'config argument {item!r} is not key=value with a key '
                       f'in {sorted(defaults)}.')
    kind = type(defaults[key])
    try:
      if kind is bool:
        if value.lower() not in _TRUE + _FALSE:
          raise ValueError
        out[key] = value.lower() in _TRUE
      else:
        out[key] = kind(value)
    except ValueError:
      raise ValueError(f'config argument {key}={value!r} is not a valid '
                       f'{kind.__name__}.') from None
  return ml_collections.ConfigDict(out)
