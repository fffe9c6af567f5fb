import pytest
from pydantic import ValidationError

from ocsc.workflow import Duration, Process, Step, text

from .specs import water_connection


@pytest.mark.parametrize(("written", "amount", "unit"), [("15d", 15, "d"), ("24h", 24, "h")])
def test_duration_reads_and_writes_its_string(written: str, amount: int, unit: str) -> None:
    duration = Duration.model_validate(written)
    assert (duration.amount, duration.unit) == (amount, unit)
    assert str(duration) == written
    assert Step(sla=duration).model_dump()["sla"] == written


@pytest.mark.parametrize("written", ["15", "15 days", "d", "0d", "-3d", "2w", 15, 1.5])
def test_duration_refuses_anything_else(written: object) -> None:
    with pytest.raises(ValidationError):
        Duration.model_validate(written)


def test_process_round_trips_through_its_dump() -> None:
    process = Process.model_validate(water_connection())
    assert Process.model_validate(process.model_dump()) == process
    assert process.model_dump()["steps"]["scrutiny"]["sla"] == "2d"


def test_a_step_is_terminal_when_it_has_an_outcome() -> None:
    assert Step(outcome="approved").terminal
    assert not Step(owner="clerk").terminal


def test_text_falls_back_to_english() -> None:
    label = {"en": "Scrutiny", "ur": "جانچ پڑتال", "ps": ""}
    assert text(label, "ur") == "جانچ پڑتال"
    assert text(label, "ps") == "Scrutiny"
    assert text(label, "fr") == "Scrutiny"
    assert text(None, "ur") == ""


@pytest.mark.parametrize("label", [{"ur": "جانچ"}, {"en": " "}, {"en": "Scrutiny", "fr": "Examen"}])
def test_labels_need_english_and_known_languages(label: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        Step(name=label)


def test_specs_are_frozen() -> None:
    step = Step(owner="clerk")
    with pytest.raises(ValidationError):
        step.owner = "tmo"  # type: ignore[misc]
