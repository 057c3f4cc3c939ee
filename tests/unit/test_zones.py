"""Registered zones: the local walk of the Public Suffix List answers exactly as tldextract does.

`detect/zones.py` matches plain names itself (importing tldextract imports `requests`, issue 20) on
tldextract's bundled snapshot; these tests hold it to tldextract's own answer (`TLDExtract` with the
snapshot, ICANN section) on names built from every rule of the list, private ones included.
"""

from __future__ import annotations

import random

import pytest
import tldextract
from tldextract.suffix_list import extract_tlds_from_suffix_list

from tunnelhunt.detect import zones

REFERENCE = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def _reference(clean: str) -> str:
    return REFERENCE(clean).top_domain_under_public_suffix


def _rules() -> tuple[list[str], list[str]]:
    path = zones.snapshot_path()
    assert path is not None  # a tldextract that moved its snapshot would send every name the slow way
    return extract_tlds_from_suffix_list(path.read_text(encoding="utf-8"))


def _names(rule: str) -> list[str]:
    """The rule itself and names one and two labels under it, `*` and `!` made into labels."""
    base = rule.replace("*", "w").lstrip("!").lower()
    return [base, f"x.{base}", f"y.x.{base}", f"y-1.x_2.{base}"]


def test_every_icann_and_private_rule_gives_tldextracts_zone() -> None:
    public, private = _rules()
    assert len(public) > 5000 and len(private) > 1000  # the whole list was read
    checked = 0
    for rule in public + private:
        for name in _names(rule):
            if zones.registered_zone(name) != _reference(name):
                pytest.fail(f"{name!r}: {zones.registered_zone(name)!r} != tldextract {_reference(name)!r}")
            checked += zones._PLAIN.fullmatch(name) is not None
    assert checked > 20000  # most of them took the local walk


@pytest.mark.parametrize(
    ("name", "zone"),
    [
        ("a.b.example.co.uk", "example.co.uk"),  # a two-label suffix
        ("co.uk", ""),  # a suffix alone has no zone
        ("x.ngrok-free.app", "ngrok-free.app"),  # a private-section rule is no suffix here: `app` is
        ("a.b.c.kobe.jp", "b.c.kobe.jp"),  # wildcard `*.kobe.jp` takes one more label
        ("www.city.kobe.jp", "city.kobe.jp"),  # exception `!city.kobe.jp`
        ("x.www.ck", "www.ck"),  # exception `!www.ck` under wildcard `*.ck`
        ("b.ck", ""),  # wildcard `*.ck`: `b.ck` is itself a suffix
        ("dc01.corp.local", ""),  # no rule
    ],
)
def test_known_names(name: str, zone: str) -> None:
    assert zones.registered_zone(name) == zone == _reference(name)


@pytest.mark.parametrize(
    "name",
    [
        "xn--80ak6aa92e.com", "a.xn--p1ai", "пример.рф", "a.example.co.uk/path", "user@a.example.co.uk",
        "a.example.co.uk:53", "//a.example.com", "http://a.b.example.com", "a..example.com", "a。example.com",
        "a example.com", "[::1]", "a.b.c.d", "1.2.3.4.5",
    ],
)  # fmt: skip
def test_names_the_walk_does_not_take_go_to_tldextract(name: str) -> None:
    assert zones.registered_zone(name) == _reference(name)


def test_random_names_of_list_labels() -> None:
    """Labels of the list mixed at random: near misses of rules (a wildcard's parent, a rule's tail)."""
    public, private = _rules()
    labels = sorted({label.lstrip("!") for rule in public + private for label in rule.split(".")} - {"*"})
    draw = random.Random(20)
    for _ in range(20000):
        name = ".".join(draw.choice(labels) for _ in range(draw.randint(1, 5))).lower()
        assert zones.registered_zone(name) == _reference(name), name
