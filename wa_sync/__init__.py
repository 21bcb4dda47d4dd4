"""wa-sync: WhatsApp onboarding as code."""

__version__ = "0.1.0"
