"""Lists as CSV or XLSX files."""

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

import xlsxwriter
from django.http import HttpResponse


def export(
    name: str, header: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str
) -> HttpResponse:
    """A download of the rows: `fmt` is "csv" or "xlsx"."""
    if fmt == "xlsx":
        buffer = io.BytesIO()
        book = xlsxwriter.Workbook(buffer, {"in_memory": True, "remove_timezone": True})
        sheet = book.add_worksheet(name[:31])
        bold = book.add_format({"bold": True})
        when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        sheet.write_row(0, 0, header, bold)
        for index, row in enumerate(rows, start=1):
            for column, value in enumerate(row):
                if hasattr(value, "tzinfo") and hasattr(value, "hour"):
                    sheet.write_datetime(index, column, value, when)
                else:
                    sheet.write(index, column, "" if value is None else value)
        book.close()
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
        response = HttpResponse(
            "\ufeff" + text.getvalue(), content_type="text/csv; charset=utf-8"
        )  # the BOM lets spreadsheet programs read Urdu correctly
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
