"""import_customers --org SLUG --file FILE [--dry-run] [--as USERNAME]: import customers from a .csv
or .xlsx file, every row or none, with a progress bar and a summary (the rules of
POST P/customers/import/; columns in README.md, "Spreadsheet import")."""

from agents.imports_catalogs import customers_import
from agents.management.importing import SpreadsheetImportCommand


class Command(SpreadsheetImportCommand):
    help = "Import customers (CSV or XLSX) into an organization: every row or none."
    importer = customers_import
    what = "customers"
