#!/usr/bin/env python3
"""sfsim conformance with airbyte-source-salesforce (Airbyte's connector from PyPI), over TLS.

Usage: conformance.py ORG_JSON   (run with the connector's virtualenv python)
Runs the connector's own commands (spec, check, discover, read of Contact through Bulk API 2.0)
through source.py beside this file and compares what it read with what the org holds over REST.
Prints PASS/FAIL per check and a final `RESULT passed=N failed=M`; exits 1 on any failure.
"""
import json
import os
import subprocess
import sys
import tempfile
import traceback

import requests

INFO = json.load(open(sys.argv[1]))
BASE = INFO["instance_url"]
VERSION = "62.0"
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "source.py")
WORK = tempfile.mkdtemp(prefix="sfsim-airbyte-")
ENV = dict(os.environ, SFSIM_LOGIN_URL=INFO["login_url"])
if INFO.get("ca_cert"):
    # The connector's requests sessions merge this in: trust the org's self-signed CA.
    ENV["REQUESTS_CA_BUNDLE"] = INFO["ca_cert"]
    os.environ["REQUESTS_CA_BUNDLE"] = INFO["ca_cert"]
PASSED, FAILED = [], []
CATALOG = {}


def check(fn):
    name = fn.__name__
    try:
        fn()
        PASSED.append(name)
        print(f"PASS airbyte/{name}", flush=True)
    except Exception as e:  # report and carry on with the next check
        FAILED.append(name)
        print(f"FAIL airbyte/{name}: {e!r}", flush=True)
        traceback.print_exc(limit=3)
    return fn


def write_json(name, value):
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        json.dump(value, f)
    return path


def config():
    return write_json(
        "config.json",
        {
            "client_id": INFO["client_id"],
            "client_secret": INFO["client_secret"],
            "refresh_token": INFO["refresh_token"],
            "is_sandbox": False,
            # Contact would go through Bulk 2.0 anyway unless its describe has a compound
            # (object-typed) field; forcing it keeps the Bulk results path under test.
            "force_use_bulk_api": True,
        },
    )


def connector(*args):
    """Runs the connector and returns its Airbyte messages (log lines dropped)."""
    out = subprocess.run(
        [sys.executable, SOURCE, *args], env=ENV, capture_output=True, text=True, timeout=600
    )
    messages = []
    for line in out.stdout.splitlines():
        try:
            m = json.loads(line)
        except ValueError:
            continue
        if m.get("type") != "LOG":
            messages.append(m)
    errors = [m["trace"]["error"]["message"] for m in messages if m["type"] == "TRACE" and m["trace"].get("type") == "ERROR"]
    assert not errors, errors
    assert out.returncode == 0, (out.returncode, out.stderr[-2000:])
    return messages


def rest(path, method="GET", body=None):
    r = requests.request(
        method,
        f"{BASE}/services/data/v{VERSION}/{path}",
        headers={"Authorization": f"Bearer {INFO['access_token']}"},
        json=body,
    )
    assert r.status_code < 300, r.text
    return r.json() if r.content else None


def admin(path, method="GET", body=None):
    r = requests.request(method, f"{BASE}/_sim/{path}", json=body)
    assert r.status_code < 300, r.text
    return r.json() if r.content else None


def soql(q):
    records, page = [], rest("query?q=" + requests.utils.quote(q))
    records += page["records"]
    while not page["done"]:
        page = requests.get(BASE + page["nextRecordsUrl"], headers={"Authorization": f"Bearer {INFO['access_token']}"}).json()
        records += page["records"]
    return records


@check
def spec_names_the_oauth_fields():
    (spec,) = [m for m in connector("spec") if m["type"] == "SPEC"]
    required = spec["spec"]["connectionSpecification"]["required"]
    assert {"client_id", "client_secret", "refresh_token"} <= set(required), required


@check
def check_signs_in_with_the_refresh_token():
    (status,) = [m for m in connector("check", "--config", config()) if m["type"] == "CONNECTION_STATUS"]
    assert status["connectionStatus"]["status"] == "SUCCEEDED", status


@check
def discover_lists_standard_and_custom_objects():
    (catalog,) = [m for m in connector("discover", "--config", config()) if m["type"] == "CATALOG"]
    streams = {s["name"]: s for s in catalog["catalog"]["streams"]}
    for name in ["Account", "Contact", "Case", "LiveChatTranscript", "Survey_Response__c", "Widget__c"]:
        assert name in streams, sorted(streams)
    contact = streams["Contact"]
    props = contact["json_schema"]["properties"]
    for field in ["Id", "Email", "HasOptedOutOfEmail", "Consent_Withheld__c", "SystemModstamp"]:
        assert field in props, sorted(props)
    assert "incremental" in contact["supported_sync_modes"], contact["supported_sync_modes"]
    assert contact["default_cursor_field"] == ["SystemModstamp"], contact["default_cursor_field"]
    CATALOG["Contact"] = contact


@check
def read_contact_through_bulk_matches_the_org():
    # A value that needs CSV quoting and one outside ASCII, so the CSV round trip shows.
    created = rest("sobjects/Contact", "POST", {"FirstName": "Zoë", "LastName": 'O"Neil, Jr.', "Email": "zoe.oneil@example.com"})
    stream = CATALOG.get("Contact")
    assert stream, "discover did not run"
    catalog = write_json(
        "catalog.json",
        {"streams": [{"stream": stream, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]},
    )
    # The connector sends no maxRecords; pages of 20 make it follow Sforce-Locator twice.
    admin("bulk", "POST", {"defaultMaxRecords": 20})
    admin("calls", "DELETE")
    messages = connector("read", "--config", config(), "--catalog", catalog)
    calls = admin("calls")["calls"]
    assert calls.get("bulk.createQueryJob", 0) >= 1, calls
    assert calls.get("bulk.getQueryResults", 0) == 3, f"49 contacts in pages of 20: {calls}"
    assert calls.get("query", 0) == 0, f"REST query used instead of Bulk: {calls}"
    statuses = [m["trace"]["stream_status"]["status"] for m in messages if m["type"] == "TRACE" and m["trace"].get("type") == "STREAM_STATUS"]
    assert statuses[-1] == "COMPLETE", statuses
    read = {m["record"]["data"]["Id"]: m["record"]["data"] for m in messages if m["type"] == "RECORD"}
    fields = ["LastName", "FirstName", "Email", "MobilePhone", "AccountId", "HasOptedOutOfEmail", "Consent_Withheld__c"]
    held = {r["Id"]: r for r in soql(f"SELECT Id, {', '.join(fields)} FROM Contact")}
    assert len(read) == len(held) >= 49, (len(read), len(held))
    assert set(read) == set(held), set(read) ^ set(held)
    for rid, org in held.items():
        for f in fields:
            # The connector leaves empty Bulk CSV fields out of the record.
            assert read[rid].get(f) == org[f], (rid, f, read[rid].get(f), org[f])
    mine = read[created["id"]]
    assert (mine["FirstName"], mine["LastName"]) == ("Zoë", 'O"Neil, Jr.'), mine


print(f"RESULT passed={len(PASSED)} failed={len(FAILED)}")
sys.exit(1 if FAILED else 0)
