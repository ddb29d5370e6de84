"""Pure hub logic: no I/O, tested without a broker or database."""
