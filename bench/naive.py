"""The naive baseline: what a straightforward script does with the twilio SDK to
learn the same live state a plan needs, one object at a time.

It lists the parent's subaccounts with the SDK's default page size, and for each
customer's subaccount lists its senders and contents and then fetches every
sender, every content and every content's approval individually. Customers run
in parallel at the same parallelism as wa-sync, so the ratio measures the
requests saved, not threads.
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ThreadPoolExecutor

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client


class _Rewrite(TwilioHttpClient):
    """Twilio's mock-server pattern: every product host goes to one base URL."""

    def __init__(self, base: str):
        super().__init__(pool_connections=True)
        self.base = base.rstrip("/")

    def request(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def]
        path = url.split(".twilio.com", 1)[1] if ".twilio.com" in url else url
        return super().request(method, self.base + path, *args, **kwargs)


def read_customer(account, http: TwilioHttpClient) -> int:
    client = Client(account.sid, account.auth_token, http_client=http)
    objects = 0
    for sender in client.messaging.v2.channels.senders.list(channel="whatsapp"):
        client.messaging.v2.channels.senders(sender.sid).fetch()
        objects += 1
    for content in client.content.v1.contents.list():
        client.content.v1.contents(content.sid).fetch()
        client.content.v1.contents(content.sid).approval_fetch().fetch()
        objects += 1
    return objects


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--parallelism", type=int, default=16)
    args = parser.parse_args()
    http = _Rewrite(os.environ["WA_SYNC_TWILIO_URL"])
    parent = Client(
        os.environ["TWILIO_ACCOUNT_SID"], os.environ["TWILIO_AUTH_TOKEN"], http_client=http
    )
    accounts = [
        a
        for a in parent.api.v2010.accounts.list()
        if (a.friendly_name or "").startswith("wa-sync:")
    ]
    with ThreadPoolExecutor(max_workers=args.parallelism) as pool:
        objects = sum(pool.map(lambda a: read_customer(a, http), accounts))
    print(f"naive: read {len(accounts)} subaccounts and {objects} objects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
