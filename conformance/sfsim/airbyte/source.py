#!/usr/bin/env python3
"""airbyte-source-salesforce's own entry point, with its login host pointed at a local org.

The connector builds its token URL from a fixed `https://login.salesforce.com` (or
`test.salesforce.com` for a sandbox) and has no setting for another host, so this wrapper
rewrites only that host to SFSIM_LOGIN_URL before the connector's request goes out; every other
call already goes to the `instance_url` the token answer names. Usage is the connector's:
`source.py spec | check --config C | discover --config C | read --config C --catalog K`.
"""
import os

from source_salesforce import api
from source_salesforce.run import run

LOCAL_LOGIN = os.environ["SFSIM_LOGIN_URL"].rstrip("/")
SALESFORCE_LOGIN_HOSTS = ("https://login.salesforce.com/", "https://test.salesforce.com/")

_send = api.Salesforce._make_request


def _make_request(self, http_method, url, headers=None, body=None):
    for host in SALESFORCE_LOGIN_HOSTS:
        if url.startswith(host):
            url = f"{LOCAL_LOGIN}/{url[len(host):]}"
    return _send(self, http_method, url, headers=headers, body=body)


api.Salesforce._make_request = _make_request

if __name__ == "__main__":
    run()
