"""The SSRF guard refuses internal addresses after resolution; the resolver is stubbed, nothing is dialled."""

from __future__ import annotations

import pytest

from workers.actions.guard import AllowList, TargetRefused, check_target

NOTHING_ALLOWED = AllowList.parse([])


def resolves_to(*addresses: str):
    return lambda host, port: list(addresses)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://127.0.0.1:8000/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
    ],
)
def test_internal_literals_are_refused(url):
    with pytest.raises(TargetRefused, match="internal address"):
        check_target(url, NOTHING_ALLOWED, resolves_to("93.184.216.34"))


def test_a_name_resolving_to_loopback_is_refused():
    with pytest.raises(TargetRefused, match=r"127\.0\.0\.1"):
        check_target("https://innocent.example/", NOTHING_ALLOWED, resolves_to("127.0.0.1"))


def test_one_internal_address_among_public_ones_is_refused():
    with pytest.raises(TargetRefused):
        check_target("https://mixed.example/", NOTHING_ALLOWED, resolves_to("93.184.216.34", "10.1.2.3"))


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "gopher://x.example/", "ftp://x.example/", "http:///nohost"]
)
def test_other_schemes_and_hostless_urls_are_refused(url):
    with pytest.raises(TargetRefused):
        check_target(url, NOTHING_ALLOWED, resolves_to("93.184.216.34"))


def test_allow_list_by_ip_cidr_and_host():
    assert (
        check_target("http://127.0.0.1:9/x", AllowList.parse(["127.0.0.1"]), resolves_to()).url.host
        == "127.0.0.1"
    )
    assert (
        check_target("http://10.2.3.4/", AllowList.parse(["10.0.0.0/8"]), resolves_to()).url.host
        == "10.2.3.4"
    )
    pinned = check_target(
        "http://localhost:5000/a?b=1", AllowList.parse(["localhost"]), resolves_to("127.0.0.1")
    )
    assert str(pinned.url) == "http://127.0.0.1:5000/a?b=1"
    assert pinned.host_header == "localhost:5000"
    assert check_target("http://[::ffff:127.0.0.1]/", AllowList.parse(["127.0.0.1"]), resolves_to())


def test_public_name_is_pinned_to_the_checked_address():
    pinned = check_target("https://api.example.com/v1", NOTHING_ALLOWED, resolves_to("93.184.216.34"))
    assert str(pinned.url) == "https://93.184.216.34/v1"
    assert pinned.host_header == "api.example.com"
    assert pinned.server_name == "api.example.com"


def test_unresolvable_name():
    def fails(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(TargetRefused, match="cannot resolve"):
        check_target("https://nowhere.example/", NOTHING_ALLOWED, fails)
