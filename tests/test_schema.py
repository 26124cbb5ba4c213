"""The one config checker: messages made from the annotations, exact acceptance rules."""
from dataclasses import dataclass
from typing import Annotated, Literal, get_type_hints

import pytest

from bwma_exp.utils.errors import ConfigError
from bwma_exp.utils.schema import Range, allowed, check, power_of_two


@dataclass(frozen=True)
class Example:
    bits: Annotated[int, Range(1, 12)] = 4
    rate: Annotated[float, Range(0, 1, lo_open=True)] = 0.1
    mode: Literal["a", "b", "c"] = "a"
    flag: bool = False
    size: Annotated[int, power_of_two()] = 64
    limit: Annotated[int, Range(0)] | None = None
    devices: Annotated[int, Range(1)] | str = 1


@pytest.mark.parametrize("field, text", [
    ("bits", "an integer from 1 to 12"),
    ("rate", "a number in (0, 1]"),
    ("mode", "a, b or c"),
    ("flag", "true or false"),
    ("size", "a positive power of two (e.g. 32, 64, 128, 256)"),
    ("limit", "an integer >= 0, or null"),
    ("devices", "an integer >= 1 or a string"),
])
def test_allowed_is_written_from_the_annotation(field, text):
    assert allowed(get_type_hints(Example, include_extras=True)[field]) == text


@pytest.mark.parametrize("values, key", [
    ({"bits": 0}, "x.bits"), ({"bits": 13}, "x.bits"), ({"bits": True}, "x.bits"),
    ({"bits": 4.0}, "x.bits"), ({"bits": "4"}, "x.bits"),
    ({"rate": 0}, "x.rate"), ({"rate": float("nan")}, "x.rate"), ({"rate": True}, "x.rate"),
    ({"mode": "d"}, "x.mode"), ({"flag": 1}, "x.flag"), ({"size": 96}, "x.size"),
    ({"limit": -1}, "x.limit"), ({"devices": 0}, "x.devices"), ({"nope": 1}, "x.nope"),
])
def test_bad_values_name_their_key(values, key):
    with pytest.raises(ConfigError) as err:
        check(Example, values, "x")
    assert err.value.key == key and "\n" not in str(err.value)


def test_good_values_and_defaults():
    got = check(Example, {"bits": 12, "rate": 1, "mode": "c", "flag": True, "size": 1,
                          "limit": None, "devices": "auto", "_target_": "ignored"}, "x")
    assert (got.bits, got.rate, got.mode, got.flag, got.size, got.limit, got.devices) == \
        (12, 1, "c", True, 1, None, "auto")
    assert check(Example, {}, "x") == Example()


def test_unknown_keys_list_the_known_ones_unless_ignored():
    with pytest.raises(ConfigError) as err:
        check(Example, {"bitz": 3}, "x")
    assert err.value.allowed == "bits, devices, flag, limit, mode, rate, size"
    assert check(Example, {"bitz": 3}, "x", extra="ignore") == Example()
