"""Follow-up of dissatisfied ratings: the desk the pages (and any later caller) act through."""
