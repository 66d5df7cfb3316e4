"""Terminal client of the customer-service lookup route of the Rasa server.

Usage::

    FAQ_STAFF_TOKEN=… python -m staff.lookup "vraag van de klant" [--url URL] [--json]

It posts the question to ``/webhooks/lookup/query`` with the staff token in
the ``Authorization`` header and prints the top topics with answer and
sources (:func:`faq.lookup.format_text`).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Optional, Sequence

import requests

from faq.lookup import format_text
from faq.settings import env

DEFAULT_URL = "http://127.0.0.1:5005"


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs one lookup; returns 0, or 2 when the server refuses or is down."""
    parser = argparse.ArgumentParser(
        description="Zoek de best passende onderwerpen bij een vraag van een klant."
    )
    parser.add_argument("vraag", help="de vraag van de klant")
    parser.add_argument(
        "--url", default=env("RASA_URL", DEFAULT_URL), help="de Rasa-server"
    )
    parser.add_argument("--json", action="store_true", help="uitvoer als JSON")
    args = parser.parse_args(argv)
    token = env("FAQ_STAFF_TOKEN")
    if not token:
        print("Zet FAQ_STAFF_TOKEN (het medewerkerstoken).", file=sys.stderr)
        return 2
    endpoint = args.url.rstrip("/") + "/webhooks/lookup/query"
    try:
        reply = requests.post(
            endpoint,
            json={"q": args.vraag},
            headers={"Authorization": f"Bearer {token}"},
            timeout=15,
        )
    except requests.RequestException:
        print(f"Kan de Rasa-server op {args.url} niet bereiken.", file=sys.stderr)
        return 2
    try:
        body = reply.json()
    except ValueError:
        body = {}
    if reply.status_code != 200:
        print(body.get("error") or f"HTTP {reply.status_code}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        print(format_text(body["query"], body["topics"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
