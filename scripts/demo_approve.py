"""Approve every template in review in the demo's emulator, as WhatsApp would."""

from wa_sync.emulator import Emulator

with Emulator(db=".wa-sync/emulator.db") as emulator:
    approved = 0
    for contents in emulator.state()["contents"].values():
        for content in contents:
            if content["approval"]["status"] in ("received", "pending"):
                emulator.approve(content["sid"])
                approved += 1
    print(f"approved {approved} template(s) in review")
