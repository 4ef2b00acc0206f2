"""supportbot: the core (config, domain services, scheduler, CLI). No Slack imports here,
except in the wiring modules `supportbot.bot.app` and `supportbot.bot.cli`."""
