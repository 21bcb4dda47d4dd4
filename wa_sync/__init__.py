"""wa-sync: WhatsApp onboarding as code."""

__version__ = "0.1.0"

# Where wa-sync is published (GitHub OWNER/REPO): `pipx install git+https://github.com/...`,
# the action that `wa-sync init`'s workflows use, and pyproject.toml's project URLs.
SOURCE_REPOSITORY = "wa-sync/wa-sync"
