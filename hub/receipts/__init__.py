"""Receipts: issue (allocate and sign a dossier code), lay out the slip, print it over ESC/POS."""
