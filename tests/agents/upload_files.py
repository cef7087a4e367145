"""Uploaded spreadsheets for the import tests."""

import io

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile


def csv_file(text: str, name="import.csv", encoding="utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), "text/csv")


def xlsx_file(rows: list[list], name="import.xlsx") -> SimpleUploadedFile:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), "application/octet-stream")
