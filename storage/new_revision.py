"""Developer tool: autogenerate the next migration against a scratch SQLite database.

    python -m storage.new_revision 0002 "escalations"
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from supportbot.storage.db import alembic_config, upgrade


def main(argv: list[str]) -> None:
    rev_id, message = argv[0], argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'scratch.db'}"
        upgrade(url)
        cfg = alembic_config(url)
        command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)


if __name__ == "__main__":
    main(sys.argv[1:])
