"""Qt widgets of the kiosk (PySide6)."""
