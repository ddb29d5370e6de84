"""``python -m kiosk.prompts [listing|table]``: the prompt texts for the render script or people.

``listing`` (the default) prints ``key<TAB>lang<TAB>text`` lines, what scripts/render_prompts.sh
reads; ``table`` prints the Markdown list of lines to record with a human voice (docs/voice.md).
"""

from __future__ import annotations

import sys

from kiosk.prompts import listing, record_table


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "listing"
    if what == "listing":
        sys.stdout.write(listing())
    elif what == "table":
        sys.stdout.write(record_table())
    else:
        sys.stderr.write("usage: python -m kiosk.prompts [listing|table]\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
