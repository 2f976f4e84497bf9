"""Importing spreadsheets: validated whole, then written as one draft or nothing."""
