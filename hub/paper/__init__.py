"""Paper survey forms and assisted ratings, keyed by staff on the hub (channel ``paper``)."""
