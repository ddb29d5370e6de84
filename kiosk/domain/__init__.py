"""Pure kiosk logic: the rating session state machine and scanner keystroke detection."""
