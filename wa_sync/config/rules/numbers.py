"""Phone numbers: senders are declared in E.164 (SPEC §4.6; Twilio's sender id is
"whatsapp:<E.164>", T-OAI messaging v2). Button numbers are BTN-PHONE-LEN."""

from __future__ import annotations

import re
from collections.abc import Iterator

from wa_sync.config.lint import rule
from wa_sync.config.rules._common import E164, problem, senders
from wa_sync.errors import Problem
from wa_sync.model import Config


@rule("SND-PHONE-E164")
def sender_number(config: Config) -> Iterator[Problem]:
    for s in senders(config):
        number = s.phone_number if isinstance(s.phone_number, str) else str(s.phone_number)
        if E164.match(number):
            continue
        if number.startswith("whatsapp:"):
            fix = "drop the 'whatsapp:' prefix; wa-sync adds it"
        elif re.fullmatch(r"00[1-9][0-9 ()./-]+", number):
            fix = f"write it as '+{re.sub(r'[^0-9]', '', number)[2:]}'"
        else:
            fix = "write it as + country code and number, without spaces, e.g. '+14155550123'"
        yield problem(
            s,
            "phone_number",
            "SND-PHONE-E164",
            f"phone number {number!r} is not in E.164 form (+, country code, up to 15 digits)",
            fix,
        )
