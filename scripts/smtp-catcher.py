#!/usr/bin/env python3
"""A real SMTP server for tests (aiosmtpd): saves every message it accepts and can refuse
chosen recipients.

    smtp-catcher.py --dir DIR [--listen 127.0.0.1:0] [--refuse ADDR]... [--defer ADDR=N]...

Each accepted message is written as DIR/NNNNNN.json ({"mailFrom", "rcptTos", "raw"}, raw as
received) — first to a temporary name, then renamed, so a reader never sees half a file.
--refuse answers RCPT TO for ADDR with 550 (a permanent refusal); --defer answers it with 451
(try again later) the first N times, then accepts. Prints one JSON line {"port": P} once
listening, and runs until killed.
"""

import argparse
import asyncio
import itertools
import json
import os
import signal
import threading

from aiosmtpd.smtp import SMTP


class Catcher:
    def __init__(self, directory, refused, deferred):
        self.directory = directory
        self.refused = {a.lower() for a in refused}
        self.deferred = {a.lower(): n for a, n in deferred.items()}
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        key = address.lower()
        if key in self.refused:
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        with self.lock:
            left = self.deferred.get(key, 0)
            if left > 0:
                self.deferred[key] = left - 1
                return "451 4.3.0 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = next(self.counter)
        record = {
            "mailFrom": envelope.mail_from,
            "rcptTos": list(envelope.rcpt_tos),
            "raw": envelope.original_content.decode("utf-8", "replace"),
        }
        final = os.path.join(self.directory, "%06d.json" % n)
        partial = final + ".part"
        with open(partial, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(partial, final)
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--listen", default="127.0.0.1:0")
    parser.add_argument("--refuse", action="append", default=[])
    parser.add_argument("--defer", action="append", default=[], help="ADDR=N")
    args = parser.parse_args()
    deferred = {}
    for item in args.defer:
        address, _, count = item.rpartition("=")
        deferred[address] = int(count)
    os.makedirs(args.dir, exist_ok=True)
    host, _, port = args.listen.rpartition(":")
    asyncio.run(serve(Catcher(args.dir, args.refuse, deferred), host, int(port)))


async def serve(catcher, host, port):
    loop = asyncio.get_running_loop()
    # The server is made here rather than by aiosmtpd's Controller, which cannot listen on
    # port 0 (a port the system picks, so tests running at once never collide).
    server = await loop.create_server(
        # Invitations carry UTF-8 headers (RFC 6531) and long lines.
        lambda: SMTP(catcher, enable_SMTPUTF8=True, data_size_limit=None),
        host=host,
        port=port,
    )
    bound = server.sockets[0].getsockname()[1]
    print(json.dumps({"port": bound}), flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()

if __name__ == "__main__":
    main()
