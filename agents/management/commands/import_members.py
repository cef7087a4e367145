"""import_members --org SLUG --file FILE [--dry-run] [--as USERNAME]: import members from a .csv
or .xlsx file, every row or none, with a progress bar and a summary (the rules of
POST P/members/import/; columns in README.md, "Spreadsheet import")."""

from agents.imports import members_import
from agents.management.importing import SpreadsheetImportCommand


class Command(SpreadsheetImportCommand):
    help = "Import members (CSV or XLSX) into an organization: every row or none."
    importer = members_import
    what = "members"
