"""The WhatsApp lint rules, one module per area; `wa_sync.config.lint` imports them all."""
