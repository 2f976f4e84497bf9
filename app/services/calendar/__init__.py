"""The working-day calendar in the database: seeded from chinesecalendar, loaded from year files."""
