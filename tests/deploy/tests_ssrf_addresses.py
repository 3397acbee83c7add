"""Addresses the SSRF guard refuses, one per category (tests/webhooks/test_ssrf.py tests the
guard itself); the webhook sender's NetworkPolicy must refuse them too."""

FORBIDDEN_IPS = ("127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.0.1", "169.254.169.254", "100.64.0.1",
                 "0.0.0.0", "224.0.0.1", "240.0.0.1", "::1", "fd00::1", "fe80::1", "::ffff:127.0.0.1",
                 "64:ff9b::a00:1", "ff02::1", "192.0.0.8", "64:ff9b:1::808:808",
                 "2002:5db8:d822::1")
