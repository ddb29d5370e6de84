"""The hub's web side: the counter officers' staff page and the HTTP API for other systems."""
