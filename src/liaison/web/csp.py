"""Content-Security-Policy of the node's pages: one strict policy, and the one page that needs more.

No inline scripts anywhere and nothing loaded from outside the node. The structure editor
(Ketcher, built into /static/editor) is the single exception, and only on the substance page:
Indigo runs as WebAssembly ('wasm-unsafe-eval' lets the browser compile it, it allows no
JavaScript eval), and React/MUI set style attributes and inject <style> elements at run time.
"""

from __future__ import annotations

EDITOR_PATH = "/static/editor/"  # the build's scripts (its worker's policy is its own header's)
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
EDITOR_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; form-action 'self'; script-src 'self' 'wasm-unsafe-eval'; "
    "worker-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
