"""Services own the workflows; the web layer and the CLI only translate into calls here."""
