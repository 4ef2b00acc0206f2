"""`supportbot demo`: the real app against the bundled Slack stand-in, with a small web
page that plays the Slack client (channels, DMs, App Home, modals, a slash-command box)."""
