"""The node's web layer: the app factory, authentication, the REST API and the web UI."""
