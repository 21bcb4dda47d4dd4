"""`python -m wa_sync` is the `wa-sync` command."""

from wa_sync.cli import entry_point

entry_point()
