"""Plans and reports as text, Markdown and JSON."""

# Here, not in text.py: the commands print it, and import the renderers only to render.
EMULATOR_BANNER = "(against the wa-sync emulator, not Twilio)"
