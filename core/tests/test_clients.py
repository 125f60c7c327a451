"""The client address behind the platform's own load balancer, and only there (ACC-2)."""

from __future__ import annotations

import ipaddress

from django.test import RequestFactory

from core.clients import client_ip, client_label


def _request(remote, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(_request("203.0.113.9", "10.9.9.9")) == "203.0.113.9"


def test_behind_our_nginx_the_forwarded_client_is_recorded(settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.0.0.0/24")]
    # the client wrote a fake first hop; our two proxies appended what they saw
    request = _request("127.0.0.1", "6.6.6.6, 198.51.100.7, 10.0.0.10")
    assert client_ip(request) == "198.51.100.7"
    assert client_label(request, "web").startswith("web 198.51.100.7")


def test_a_client_that_is_not_our_proxy_cannot_claim_another_address(settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    assert client_ip(_request("198.51.100.7", "1.2.3.4")) == "198.51.100.7"


def test_garbage_in_the_header_falls_back_to_the_connection(settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    assert client_ip(_request("127.0.0.1", "<script>")) == "127.0.0.1"
    assert client_ip(_request("127.0.0.1", "")) == "127.0.0.1"
