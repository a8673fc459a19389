#!/usr/bin/env python3
"""sfsim conformance with simple-salesforce (an independent client from PyPI), over TLS.

Usage: conformance.py ORG_JSON   (the ready line `sonde sfsim` prints, saved to a file)
Prints PASS/FAIL per check and a final `RESULT passed=N failed=M`; exits 1 on any failure.
"""
import csv
import io
import json
import os
import sys
import traceback

import requests

INFO = json.load(open(sys.argv[1]))
if INFO.get("ca_cert"):
    # requests reads this per request: trust the org's self-signed CA.
    os.environ["REQUESTS_CA_BUNDLE"] = INFO["ca_cert"]

from simple_salesforce import Salesforce  # noqa: E402
from simple_salesforce.exceptions import (  # noqa: E402
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

BASE = INFO["instance_url"]
HOST = BASE.split("://", 1)[1]
VERSION = "59.0"
PASSED, FAILED = [], []


def admin(path, body=None):
    r = requests.post(f"{BASE}/_sim/{path}", json=body if body is not None else {})
    assert r.status_code < 300, r.text


def password_login(username=None, password=None):
    # simple-salesforce builds https://{domain}.salesforce.com/services/oauth2/token; pointing
    # `domain` at the org's token URL (the rest becomes a query string) reaches the local org.
    return Salesforce(
        username=username or INFO["username"],
        password=password or INFO["password"],
        consumer_key=INFO["client_id"],
        consumer_secret=INFO["client_secret"],
        domain=f"{HOST}/services/oauth2/token?sfsim=",
        version=VERSION,
    )


def session():
    return Salesforce(instance_url=BASE, session_id=INFO["access_token"], version=VERSION)


def check(fn):
    name = fn.__name__
    try:
        fn()
        PASSED.append(name)
        print(f"PASS python/{name}", flush=True)
    except Exception as e:  # report and carry on with the next check
        FAILED.append(name)
        print(f"FAIL python/{name}: {e!r}", flush=True)
        traceback.print_exc(limit=3)
    return fn


def error_code(exc):
    content = exc.content
    if isinstance(content, (bytes, str)):
        content = json.loads(content)
    return content[0]["errorCode"]


@check
def login_with_password_grant():
    sf = password_login()
    assert sf.sf_instance == HOST, sf.sf_instance
    rows = sf.query("SELECT Id, Name FROM Organization")["records"]
    assert rows[0]["Id"] == INFO["org_id"], rows
    try:
        password_login(password="wrong-password")
        raise AssertionError("bad password accepted")
    except SalesforceAuthenticationFailed as e:
        assert "invalid_grant" in str(e), e


@check
def login_with_soap_partner_call():
    # Username + password + security token, no consumer key: simple-salesforce's SOAP login.
    sf = Salesforce(
        username=INFO["username"],
        password=INFO["password"],
        security_token=INFO["security_token"],
        domain=f"{HOST}/services/Soap/u/{VERSION}?sfsim=",
        version=VERSION,
    )
    assert sf.sf_instance == HOST, sf.sf_instance
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] >= 3
    try:
        Salesforce(username=INFO["username"], password="nope", security_token="", domain=f"{HOST}/services/Soap/u/{VERSION}?sfsim=")
        raise AssertionError("bad SOAP login accepted")
    except SalesforceAuthenticationFailed as e:
        assert "INVALID_LOGIN" in str(e), e


@check
def describe_global_and_object():
    sf = session()
    names = {o["name"] for o in sf.describe()["sobjects"]}
    for n in ["Account", "Contact", "Lead", "Case", "Campaign", "CampaignMember", "LiveChatTranscript", "Survey_Response__c", "Widget__c"]:
        assert n in names, n
    d = sf.Contact.describe()
    fields = {f["name"]: f for f in d["fields"]}
    assert fields["HasOptedOutOfEmail"]["type"] == "boolean"
    assert fields["AccountId"]["referenceTo"] == ["Account"]
    assert fields["AccountId"]["relationshipName"] == "Account"
    assert fields["LastName"]["nillable"] is False
    sr = sf.Survey_Response__c.describe()
    rts = {r["developerName"] for r in sr["recordTypeInfos"]}
    assert {"NPS", "CSAT", "Master"} <= rts, rts
    ext = {f["name"]: f for f in sr["fields"]}["Response_Id__c"]
    assert ext["externalId"] and ext["unique"], ext
    acc = sf.Account.describe()
    rels = {c["relationshipName"] for c in acc["childRelationships"]}
    assert "Contacts" in rels and "Survey_Responses__r" in rels, rels


@check
def create_retrieve_update_delete():
    sf = session()
    res = sf.Contact.create({"FirstName": "Py", "LastName": "Conformance", "Email": "py@example.com"})
    assert res["success"] and len(res["id"]) == 18, res
    cid = res["id"]
    got = sf.Contact.get(cid)
    assert got["LastName"] == "Conformance" and got["Name"] == "Py Conformance", got
    assert got["attributes"]["type"] == "Contact"
    assert sf.Contact.update(cid, {"LastName": "Updated", "HasOptedOutOfEmail": True}) == 204
    got = sf.Contact.get(cid)
    assert got["LastName"] == "Updated" and got["HasOptedOutOfEmail"] is True, got
    assert sf.Contact.delete(cid) == 204
    try:
        sf.Contact.get(cid)
        raise AssertionError("deleted record still readable")
    except SalesforceResourceNotFound:
        pass


@check
def upsert_by_external_id():
    sf = session()
    assert sf.Widget__c.upsert("Code__c/PY-UP-1", {"Quantity__c": 1}) == 201
    assert sf.Widget__c.upsert("Code__c/PY-UP-1", {"Quantity__c": 2}) in (200, 204)
    got = sf.Widget__c.get_by_custom_id("Code__c", "PY-UP-1")
    assert got["Quantity__c"] == 2, got
    sf.Widget__c.create({"Code__c": "PY-DUP", "Quantity__c": 1})
    sf.Widget__c.create({"Code__c": "PY-DUP", "Quantity__c": 2})
    try:
        sf.Widget__c.upsert("Code__c/PY-DUP", {"Quantity__c": 3})
        raise AssertionError("upsert on a duplicated external id did not answer 300")
    except SalesforceMoreThanOneRecord as e:
        assert len(e.content) == 2, e.content
    try:
        sf.Widget__c.upsert("Batch__c/X", {"Quantity__c": 3})
        raise AssertionError("upsert on a non-external-id field accepted")
    except SalesforceResourceNotFound:
        pass


@check
def collections_create_with_all_or_none():
    sf = session()
    ok = sf.restful("composite/sobjects", method="POST", data=json.dumps({
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Widget__c"}, "Code__c": "PY-COL-1"},
            {"attributes": {"type": "Contact"}, "FirstName": "No last name"},
        ],
    }))
    assert ok[0]["success"] is True and len(ok[0]["id"]) == 18, ok
    assert ok[1]["success"] is False and ok[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING", ok
    rolled = sf.restful("composite/sobjects", method="POST", data=json.dumps({
        "allOrNone": True,
        "records": [
            {"attributes": {"type": "Widget__c"}, "Code__c": "PY-COL-ROLLED"},
            {"attributes": {"type": "Contact"}, "FirstName": "No last name"},
        ],
    }))
    assert rolled[0]["success"] is False, rolled
    assert rolled[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK", rolled
    assert sf.query("SELECT COUNT() FROM Widget__c WHERE Code__c = 'PY-COL-ROLLED'")["totalSize"] == 0


def insert_page_rows():
    sf = session()
    for start in range(0, 5200, 200):
        res = sf.restful("composite/sobjects", method="POST", data=json.dumps({
            "allOrNone": True,
            "records": [{"attributes": {"type": "Widget__c"}, "Code__c": f"PY-PAGE-{i}", "Batch__c": "PY-PAGE", "Quantity__c": i} for i in range(start, start + 200)],
        }))
        assert all(r["success"] for r in res), res[:2]


@check
def query_paging_over_5000_records():
    insert_page_rows()
    sf = session()
    first = sf.query("SELECT Id, Code__c FROM Widget__c WHERE Batch__c = 'PY-PAGE'")
    assert first["totalSize"] == 5200 and first["done"] is False and len(first["records"]) == 2000, {k: first[k] for k in ("totalSize", "done")}
    assert "/query/" in first["nextRecordsUrl"]
    everything = sf.query_all("SELECT Id, Code__c, Quantity__c FROM Widget__c WHERE Batch__c = 'PY-PAGE' ORDER BY Quantity__c")
    recs = everything["records"]
    assert len(recs) == 5200 and everything["done"] is True
    assert [r["Quantity__c"] for r in recs[:3]] == [0, 1, 2], recs[:3]
    assert len({r["Id"] for r in recs}) == 5200


@check
def query_relationships_and_aggregates():
    sf = session()
    rows = sf.query("SELECT Name, Account.Name, (SELECT Id FROM Cases) FROM Contact WHERE Account.Name = 'Northwind Outfitters' ORDER BY Name")["records"]
    assert rows and rows[0]["Account"]["Name"] == "Northwind Outfitters", rows[:1]
    agg = sf.query("SELECT Industry, COUNT(Id) n FROM Account GROUP BY Industry ORDER BY Industry")["records"]
    assert agg[0]["attributes"]["type"] == "AggregateResult" and "n" in agg[0], agg[:1]
    count = sf.query("SELECT COUNT() FROM Account")
    assert count["totalSize"] >= 12 and count["records"] == [], count
    recent = sf.query("SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:1")
    assert recent["totalSize"] >= 12


@check
def query_all_includes_deleted():
    sf = session()
    wid = sf.Widget__c.create({"Code__c": "PY-DEL"})["id"]
    sf.Widget__c.delete(wid)
    assert sf.query("SELECT Id FROM Widget__c WHERE Code__c = 'PY-DEL'")["totalSize"] == 0
    rows = sf.query_all("SELECT Id, IsDeleted FROM Widget__c WHERE Code__c = 'PY-DEL'", include_deleted=True)["records"]
    assert len(rows) == 1 and rows[0]["IsDeleted"] is True, rows


@check
def bulk2_query_csv_pages():
    sf = session()
    pages = list(sf.bulk2.Widget__c.query("SELECT Id, Code__c FROM Widget__c WHERE Batch__c = 'PY-PAGE'", max_records=2000, wait=0.2))
    rows = []
    for page in pages:
        reader = csv.DictReader(io.StringIO(page))
        rows.extend(reader)
    assert len(pages) == 3, len(pages)
    assert len(rows) == 5200 and set(rows[0].keys()) == {"Id", "Code__c"}, (len(rows), rows[:1])


@check
def error_bad_field():
    sf = session()
    try:
        sf.query("SELECT NoSuchField__c FROM Account")
        raise AssertionError("bad field accepted")
    except SalesforceMalformedRequest as e:
        assert error_code(e) == "INVALID_FIELD", e.content
        assert "Row:1:Column:8" in e.content[0]["message"], e.content


@check
def error_missing_required_field():
    sf = session()
    try:
        sf.Contact.create({"FirstName": "Only"})
        raise AssertionError("missing LastName accepted")
    except SalesforceMalformedRequest as e:
        assert error_code(e) == "REQUIRED_FIELD_MISSING" and e.content[0]["fields"] == ["LastName"], e.content
    try:
        sf.restful("sobjects/Account", method="POST", data="{not json")
        raise AssertionError("bad JSON accepted")
    except SalesforceMalformedRequest as e:
        assert error_code(e) == "JSON_PARSER_ERROR", e.content


@check
def field_level_security():
    sf = password_login(username="integration@sfsim.example")
    fields = {f["name"]: f for f in sf.Contact.describe()["fields"]}
    assert "MobilePhone" not in fields and fields["HasOptedOutOfEmail"]["updateable"] is False
    cid = sf.Contact.create({"LastName": "Fls"})["id"]
    try:
        sf.Contact.update(cid, {"HasOptedOutOfEmail": True})
        raise AssertionError("read-only field written")
    except SalesforceMalformedRequest as e:
        assert error_code(e) == "INVALID_FIELD_FOR_INSERT_UPDATE", e.content


@check
def expired_session_then_refresh():
    sf = password_login()
    before = sf.session_id
    sf.query("SELECT Id FROM Account LIMIT 1")
    fixed = session()
    admin("sessions/expire")
    # A client holding only a session id sees the documented 401 INVALID_SESSION_ID ...
    try:
        fixed.query("SELECT Id FROM Account LIMIT 1")
        raise AssertionError("expired session accepted")
    except SalesforceExpiredSession as e:
        assert error_code(e) == "INVALID_SESSION_ID", e.content
    # ... and one that signed in renews its session on that 401 and carries on.
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] >= 12
    assert sf.session_id != before
    global INFO
    INFO = dict(INFO, access_token=sf.session_id)


@check
def api_usage_and_limit_exceeded():
    sf = session()
    sf.query("SELECT Id FROM Account LIMIT 1")
    used, total = sf.api_usage["api-usage"].used, sf.api_usage["api-usage"].total
    assert 0 < used <= total, (used, total)
    admin("limits", {"exhausted": True})
    try:
        sf.query("SELECT Id FROM Account LIMIT 1")
        raise AssertionError("call over the limit accepted")
    except SalesforceRefusedRequest as e:
        assert error_code(e) == "REQUEST_LIMIT_EXCEEDED", e.content
    finally:
        admin("limits", {"exhausted": False})
    sf.query("SELECT Id FROM Account LIMIT 1")


print(f"RESULT passed={len(PASSED)} failed={len(FAILED)}")
sys.exit(1 if FAILED else 0)
