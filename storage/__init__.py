"""SQLModel tables, sessions, migrations and queries. Imports nothing from bot/ or handlers/."""
