#!/usr/bin/env python3
"""Sonde's Twilio wire code and `sonde smsim` held against the official `twilio` helper
library (PyPI): its RequestValidator, its TwiML generator and its REST client.

Usage: conformance.py SONDE_BIN SMSIM_JSON   (the ready line `sonde smsim` prints, in a file)
Prints PASS/FAIL per check and a final `RESULT passed=N failed=M`; exits 1 on any failure.
"""
import json
import subprocess
import sys
import threading
import time
import traceback
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

SONDE = sys.argv[1]
INFO = json.load(open(sys.argv[2]))
BASE = INFO["url"]
TOKEN = INFO["auth_token"]
NUMBER = INFO["numbers"][0]
PASSED, FAILED = [], []


def check(fn):
    name = fn.__name__
    try:
        fn()
        PASSED.append(name)
        print(f"PASS twilio/{name}", flush=True)
    except Exception as e:  # report and carry on with the next check
        FAILED.append(name)
        print(f"FAIL twilio/{name}: {e!r}", flush=True)
        traceback.print_exc(limit=3)
    return fn


class Multi:
    """Repeated parameter names, the way RequestValidator reads a MultiDict."""

    def __init__(self, pairs):
        self.pairs = pairs

    def __iter__(self):
        return iter(dict.fromkeys(k for k, _ in self.pairs))

    def __bool__(self):
        return bool(self.pairs)

    def getall(self, name):
        return [v for k, v in self.pairs if k == name]


def ours(cases):
    """Runs `sonde twilio-signatures` over (token, url, pairs, signature-or-None) cases."""
    lines = "".join(
        json.dumps({"token": t, "url": u, "params": p, "signature": s}) + "\n"
        for t, u, p, s in cases
    )
    out = subprocess.run(
        [SONDE, "twilio-signatures"], input=lines, capture_output=True, text=True, check=True
    ).stdout
    return [json.loads(line) for line in out.splitlines()]


def with_default_port(url):
    scheme, rest = url.split("://", 1)
    cut = min([i for i in (rest.find("/"), rest.find("?")) if i >= 0] or [len(rest)])
    port = "443" if scheme == "https" else "80"
    return f"{scheme}://{rest[:cut]}:{port}{rest[cut:]}"


def without_port(url):
    scheme, rest = url.split("://", 1)
    cut = min([i for i in (rest.find("/"), rest.find("?")) if i >= 0] or [len(rest)])
    return f"{scheme}://{rest[:cut].rsplit(':', 1)[0]}{rest[cut:]}"


URLS = [
    "https://mycompany.com/myapp.php?foo=1&bar=2",
    "http://127.0.0.1:8080/sms",
    "https://example.com:8443/hooks/sms?survey=7&x=a%20b",
    "https://example.com/",
    "http://example.com/a/b?c=d&e=",
    "https://user:secret@example.com/twilio",
]
PARAMS = [
    [],
    [["CallSid", "CA1234567890ABCDE"], ["Digits", "1234"], ["From", "+14158675309"],
     ["To", "+18005551212"], ["Caller", "+14158675309"]],
    [["Body", "Ça va? Très bien 👍 & <ok>"], ["From", "+33612345678"], ["NumMedia", "0"]],
    [["Body", ""], ["a", "1"], ["B", "2"], ["b", "3"], ["ä", "4"]],
    [["Digits", "5678"], ["Sid", "CA123"], ["Digits", "1234"], ["SidAccount", "AC123"]],
]
TOKENS = ["12345", TOKEN, "tøken with spaces"]


@check
def signatures_match_the_official_validator():
    cases, official = [], []
    for t in TOKENS:
        v = RequestValidator(t)
        for u in URLS:
            for p in PARAMS:
                cases.append((t, u, p, None))
                official.append(v.compute_signature(u, Multi([tuple(x) for x in p])))
    got = ours(cases)
    bad = [(c[1], c[2], o, g["signature"]) for c, o, g in zip(cases, official, got)
           if o != g["signature"]]
    assert not bad, f"{len(bad)} of {len(cases)} differ, e.g. {bad[0]}"
    print(f"  {len(cases)} signatures identical", flush=True)


@check
def verification_agrees_with_the_official_validator():
    # Signatures computed for the URL with its default port, without its port, or wrong:
    # ours must accept exactly what RequestValidator.validate accepts.
    cases, expected = [], []
    for t in TOKENS:
        v = RequestValidator(t)
        for u in URLS:
            for p in PARAMS[1:3]:
                params = dict(p)
                for signed_url in {u, with_default_port(u), without_port(u)}:
                    sig = v.compute_signature(signed_url, params)
                    cases.append((t, u, p, sig))
                    expected.append(v.validate(u, params, sig))
                tampered = v.compute_signature(u, {**params, "Body": "tampered"})
                cases.append((t, u, p, tampered))
                expected.append(v.validate(u, params, tampered))
                cases.append((t, u, p, RequestValidator(t + "x").compute_signature(u, params)))
                expected.append(False)
    got = ours(cases)
    bad = [(c[1], c[3], e, g["valid"]) for c, e, g in zip(cases, expected, got) if e != g["valid"]]
    assert not bad, f"{len(bad)} of {len(cases)} disagree, e.g. {bad[0]}"
    assert True in expected and False in expected
    print(f"  {len(cases)} verdicts identical", flush=True)


# A receiver for smsim's webhook and status callbacks that checks every signature with the
# official validator and answers the webhook with TwiML from the official generator.
RECEIVED = []
TWIML = MessagingResponse()
TWIML.message("Thanks & <bye> — Q2?")


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        params = dict(parse_qsl(body, keep_blank_values=True))
        url = f"http://127.0.0.1:{self.server.server_port}{self.path}"
        valid = RequestValidator(TOKEN).validate(url, params, self.headers.get("X-Twilio-Signature", ""))
        RECEIVED.append({"path": self.path, "params": params, "valid": valid})
        if self.path.startswith("/sms"):
            payload = str(TWIML).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        else:
            self.send_response(204)
            self.end_headers()

    def log_message(self, *args):
        pass


SERVER = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=SERVER.serve_forever, daemon=True).start()
HOOK = f"http://127.0.0.1:{SERVER.server_port}"


def post_json(path, body):
    req = urllib.request.Request(
        f"{BASE}{path}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def client(token=TOKEN):
    c = Client(INFO["account_sid"], token)
    # Every API request is the domain's base URL + the resource path.
    c.api.base_url = BASE
    return c


def wait(cond, what, seconds=15):
    end = time.time() + seconds
    while time.time() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; received {RECEIVED}")


@check
def an_injected_reply_is_signed_as_twilio_signs_and_official_twiml_is_sent_back():
    post_json("/_smsim/webhook", {"url": f"{HOOK}/sms?survey=7"})
    result = post_json("/_smsim/inbound", {"from": "+15558675310", "body": "9"})
    hook = [r for r in RECEIVED if r["path"].startswith("/sms")]
    assert len(hook) == 1 and hook[0]["valid"], hook
    p = hook[0]["params"]
    assert (p["From"], p["To"], p["Body"]) == ("+15558675310", NUMBER, "9"), p
    assert p["MessageSid"] == result["message"]["sid"] and p["AccountSid"] == INFO["account_sid"]
    assert [r["body"] for r in result["replies"]] == ["Thanks & <bye> — Q2?"], result


@check
def the_official_client_sends_fetches_and_lists():
    c = client()
    m = c.messages.create(to="+15558675311", from_=NUMBER, body="Héllo 👋",
                          status_callback=f"{HOOK}/status")
    assert m.sid.startswith("SM") and len(m.sid) == 34, m.sid
    assert m.status == "queued" and m.direction == "outbound-api", (m.status, m.direction)
    assert m.date_created is not None and m.date_created.year >= 2024, m.date_created
    assert c.messages(m.sid).fetch().body == "Héllo 👋"
    wait(lambda: c.messages(m.sid).fetch().status == "delivered", "delivered")
    via_service = c.messages.create(to="+15558675312", body="b",
                                    messaging_service_sid=INFO["messaging_service_sid"])
    assert via_service.status == "accepted", via_service.status
    c.messages.create(to="+15558675313", from_=NUMBER, body="c")
    listed = c.messages.list(page_size=2, limit=4)
    assert len(listed) == 4, len(listed)
    assert [x.body for x in listed[:2]] == ["c", "b"], [x.body for x in listed]
    assert [x.body for x in c.messages.list(to="+15558675311")] == ["Héllo 👋"]


@check
def status_callbacks_validate_and_arrive_in_order():
    wait(lambda: any(r["params"].get("MessageStatus") == "delivered" for r in RECEIVED
                     if r["path"] == "/status"), "the delivered callback")
    callbacks = [r for r in RECEIVED if r["path"] == "/status"]
    assert all(r["valid"] for r in callbacks), callbacks
    assert [r["params"]["MessageStatus"] for r in callbacks] == ["sent", "delivered"], callbacks


@check
def errors_come_back_as_twilio_rest_exceptions():
    for kwargs, status, code in [
        ({"to": "+15558675310", "from_": NUMBER, "body": ""}, 400, 21602),
        ({"to": "not a number", "from_": NUMBER, "body": "x"}, 400, 21211),
        ({"to": "+15558675310", "from_": "+15550001234", "body": "x"}, 400, 21606),
    ]:
        try:
            client().messages.create(**kwargs)
            raise AssertionError(f"{kwargs} accepted")
        except TwilioRestException as e:
            assert (e.status, e.code) == (status, code), (kwargs, e.status, e.code, e.msg)
    try:
        client("wrong token").messages.create(to="+15558675310", from_=NUMBER, body="x")
        raise AssertionError("wrong token accepted")
    except TwilioRestException as e:
        assert (e.status, e.code) == (401, 20003), (e.status, e.code)


@check
def stop_makes_the_next_send_fail_with_21610():
    result = post_json("/_smsim/inbound", {"from": "+15558675319", "body": "stop"})
    assert result["keyword"] == "unsubscribe", result
    try:
        client().messages.create(to="+15558675319", from_=NUMBER, body="x")
        raise AssertionError("sent to an opted-out phone")
    except TwilioRestException as e:
        assert (e.status, e.code) == (400, 21610), (e.status, e.code)
    post_json("/_smsim/inbound", {"from": "+15558675319", "body": "START"})
    client().messages.create(to="+15558675319", from_=NUMBER, body="x")


SERVER.shutdown()
print(f"RESULT passed={len(PASSED)} failed={len(FAILED)}")
sys.exit(1 if FAILED else 0)
