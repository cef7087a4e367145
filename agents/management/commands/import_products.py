"""import_products --org SLUG --file FILE [--dry-run] [--as USERNAME]: import products from a .csv
or .xlsx file, every row or none, with a progress bar and a summary (the rules of
POST P/products/import/; columns in README.md, "Spreadsheet import")."""

from agents.imports_catalogs import products_import
from agents.management.importing import SpreadsheetImportCommand


class Command(SpreadsheetImportCommand):
    help = "Import products (CSV or XLSX) into an organization: every row or none."
    importer = products_import
    what = "products"
