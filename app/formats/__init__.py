"""Bytes <-> rows with no database: spreadsheets read, catalogs and reports written."""
