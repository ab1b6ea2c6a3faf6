"""Runs under nova 34.0.0's virtualenv: how nova-conductor fills cell-mapping URL templates.
Reads {"cases": [[url, default], ...]} and prints the list of filled URLs, as
CellMapping.format_db_url / format_mq_url return them (the template as stored when nova
cannot fill it)."""

import json
import sys


def main() -> None:
    job = json.load(sys.stdin)
    from nova.objects.cell_mapping import CellMapping

    filled = []
    for url, default in job["cases"]:
        try:
            filled.append(CellMapping._format_url(url, default))
        except Exception:  # format_db_url/format_mq_url log it and keep the stored URL
            filled.append(url)
    print(json.dumps(filled))


if __name__ == "__main__":
    main()
