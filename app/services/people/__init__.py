"""People: accounts, passwords and tokens; users and departments as the admin manages them."""
