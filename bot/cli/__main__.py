import sys

from supportbot.bot.cli import main

sys.exit(main())
