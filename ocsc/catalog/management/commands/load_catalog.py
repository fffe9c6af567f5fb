from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ocsc.catalog.loader import CatalogInvalid, load_catalog


class Command(BaseCommand):
    help = (
        "Validate a catalog file (YAML or JSON) and load it: jurisdictions, organization kinds "
        "and roles, organizations, services and their processes. Writes nothing unless the "
        "whole file is sound; loading the same file twice changes nothing."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--check", action="store_true", help="only validate: report problems, write nothing"
        )

    def handle(self, *args: Any, file: Path, check: bool, **options: Any) -> None:
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            summary = load_catalog(file, check_only=check)
        except CatalogInvalid as exc:
            for problem in exc.problems:
                self.stderr.write(f"{file}: {problem}")
            raise CommandError(
                f"{file}: {len(exc.problems)} problem(s); nothing was written"
            ) from exc
        for warning in summary.warnings:
            self.stderr.write(f"{file}: {warning}")
        if check:
            self.stdout.write(self.style.SUCCESS(f"{file}: valid"))
        else:
            self.stdout.write(self.style.SUCCESS(f"{file}: loaded ({summary})"))
