"""A stateful local Twilio: the Accounts, Content, Senders and Sync endpoints wa-sync uses.

For tests, demos, benchmarks and contributors without Twilio credentials (SPEC §6).
`Emulator` serves over HTTP (a `ThreadingHTTPServer` in a daemon thread); its state is
SQLite, in memory or in a file (`db=`) that keeps the parent's SID and everything else
across runs. `EmulatorControl` drives one running in another process through
`/__emulator/...`. Nothing here is shared with the rest of wa-sync.

What it does as Twilio does (see shared/notes/twilio-api.md):

- HTTP Basic with an account SID and auth token, or an API key SID and secret; bad
  credentials are 401 20003. Keys belong to an account; Main keys of the parent may use
  `/Accounts`, Standard keys get 401 20003 there.
- 2010 Accounts: the parent lists (itself and its subaccounts), creates, fetches and
  updates its subaccounts, each with its `auth_token`; form bodies, RFC 2822 dates, the
  2010 list envelope with relative `*_uri` links. A subaccount sees only itself.
- Content (v1) and Senders (v2) act on the authenticated account only: the parent's
  credentials do not reach a subaccount's objects, nor a subaccount's a sibling's or the
  parent's (404 20404). JSON bodies, `YYYY-MM-DDTHH:MM:SSZ` dates, the `meta` list
  envelope with absolute URLs on the request's Host.
- PageSize 1..1000 and opaque PageTokens on every list; 201 on creates, 202 on sender
  create and update, 204 on deletes; errors as `{code, message, more_info, status}`.
- Sync (v1) Services and Documents, the apply lock's store (sync.py): unique names
  (409 54301), revisions with If-Match (412 54103), `Ttl` on the emulated clock.
- Approval lifecycle `unsubmitted` → `received` → `approved` / `rejected`, by
  `approve()` / `reject()` or `approve_after` seconds on the emulated clock; senders
  `CREATING` → `ONLINE` after `sender_online_after` seconds. `advance_clock()` moves the
  emulated clock.

Where Twilio's behaviour is unknown or undocumented, the emulator takes the stricter
choice, so that code passing here does not break on Twilio:

- (name, language) is unique per account among contents' `friendly_name`s **and**
  WhatsApp approval names: a content create, update or submission that would repeat one
  is 409 with code 20409 (the emulator's code; Meta's is 2388024).
- A deleted **approved** template's name is blocked for 30 days in every language of
  that account: WhatsApp's rule on its template names (Meta's template management
  docs), so a submission under it is 409 20409; a content with that FriendlyName is
  created as any other (Twilio's Content API has no such rule).
- Any change to a submitted content, and any second submission of it (even after a
  rejection), is 400 92009. `PUT /v1/Content/{Sid}` works only while unsubmitted.
- Submissions need `name` (`^[a-z0-9_]{1,512}$`) and `category` in UTILITY, MARKETING,
  AUTHENTICATION; unknown body keys are 400 everywhere (the SDK's typed models never
  send them); content types are checked for the keys Twilio requires.
- Senders need `configuration.waba_id` and `profile.name`; `sender_id` is
  `whatsapp:<E.164>`, unique across all accounts (a number registers once); profile
  limits (about 139, description 512, address 256, 2 websites, vertical from Twilio's
  list) are enforced; profile `websites`, `emails` and `phone_numbers` items need both
  their value and a `label` (as in all of Twilio's examples); `Channel` is required on
  the list. Updates merge per key in each
  section, `""` clears a key.
- Subaccounts cannot create subaccounts (401 20003); only the owner may change a
  subaccount's status; the main account cannot be suspended or closed; a closed account
  cannot be reopened; credentials of a suspended or closed account get 401 20005.
  Creating past `subaccount_limit` subaccounts (closed ones count) is 400 21480.
- `Page` past 0 without a `PageToken` is 400; JSON on the 2010 API and form bodies on
  v1/v2 are 400.

Faults (`set_faults`, `fail_next`): latency (the time to answer: the work is done at
once and the answer held back until the latency has passed), 429 with `Retry-After`,
5xx, dropped connections (closed without a response), and lost responses
(`commit_then_drop`: the write happens, the connection closes without an answer).
The request log records every API request with its path template (SIDs as `{Sid}`),
status (0 for a dropped connection) and the authenticated account.

Secrets: a parent token the emulator generates is stored in its database; one given by
the caller (perhaps a real one from the environment) never is, only its SHA-256.
"""

from wa_sync.emulator.app import most_in_flight
from wa_sync.emulator.control import EmulatorControl, NotAnEmulator
from wa_sync.emulator.server import Emulator
from wa_sync.emulator.store import StateError

__all__ = ["Emulator", "EmulatorControl", "NotAnEmulator", "StateError", "most_in_flight"]
