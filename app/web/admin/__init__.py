"""The admin pages: versions and the board, users, departments and rules."""
