"""Batch.measurement_count (what the batch list sorts by) stays equal to the real count
through every write of measurements: uploads, refused uploads, a failure after the save,
moves between batches, and the recount for rows written around the services. The
import paths (.eln, eLabFTW attachments, drop folders) assert it in their own tests."""
import importlib
import io

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection

from analysis.synthetic.saxs import write_saxs_curve
from labtrack.analyses.pipeline import Upload, measurement_upload
from labtrack.measurements.models import Measurement
from labtrack.measurements.services import batch_measurement_counts_refresh, measurement_create, measurement_update
from labtrack.samples.models import Batch
from tests.labtrack.factories import make_batch, make_sample, measurement_counts_wrong


@pytest.fixture
def saxs_bytes(tmp_path):
    return write_saxs_curve(tmp_path / "NC8.3.dat", "NC8.3").read_bytes()


def _upload(user, sample, data, name="NC8.3.dat", **kwargs):
    return measurement_upload(user=user, sample=sample, technique="saxs", uploads=[Upload(name, io.BytesIO(data))],
                              request_analyses=False, **kwargs)


def _count(batch) -> int:
    return Batch.objects.values_list("measurement_count", flat=True).get(pk=batch.pk)


def test_uploads_count_and_refused_uploads_do_not(members, project, saxs_bytes):
    chemist = members["chemist"]
    batch = make_batch(chemist, project, code="NC8.3")
    powder, aged = make_sample(chemist, batch, code="NC8.3-P"), make_sample(chemist, batch, code="NC8.3-A")
    other = make_batch(chemist, project, code="NC10.4")
    assert _count(batch) == 0
    _upload(chemist, powder, saxs_bytes)
    _upload(chemist, aged, saxs_bytes, name="again.dat")
    assert (_count(batch), _count(other)) == (2, 0)
    with pytest.raises(ValidationError):  # an empty file: nothing saved
        _upload(chemist, powder, b"", name="empty.dat")
    with pytest.raises(ValidationError):  # a file of another technique: nothing saved
        measurement_upload(user=chemist, sample=powder, technique="nmr", uploads=[Upload("x.dat", io.BytesIO(saxs_bytes))],
                           request_analyses=False)
    assert _count(batch) == 2 and measurement_counts_wrong() == {}


def test_a_failure_after_the_save_takes_the_count_back_with_the_measurement(members, project, saxs_bytes):
    """on_created runs in the same transaction (the pipeline requests analyses there):
    when it fails, the measurement and its count both roll back."""
    chemist = members["chemist"]
    batch = make_batch(chemist, project)
    sample = make_sample(chemist, batch)

    def fail(measurement, raw_files):
        assert _count(batch) == 1  # counted in the transaction that saved it
        raise RuntimeError("broker down")

    with pytest.raises(RuntimeError):
        measurement_create(user=chemist, sample=sample, technique="saxs",
                           uploads=[Upload("NC8.3.dat", io.BytesIO(saxs_bytes))], on_created=fail)
    assert not Measurement.objects.exists() and _count(batch) == 0


def test_moving_a_measurement_to_another_batch_moves_its_count(members, project, saxs_bytes):
    chemist = members["chemist"]
    first, second = make_batch(chemist, project, code="NC6.4"), make_batch(chemist, project, code="NC10.4")
    p1, p1b, p2 = (make_sample(chemist, first, code="NC6.4-P"), make_sample(chemist, first, code="NC6.4-Q"),
                   make_sample(chemist, second, code="NC10.4-P"))
    m = _upload(chemist, p1, saxs_bytes)
    _upload(chemist, p1, saxs_bytes, name="b.dat")
    measurement_update(user=chemist, measurement=m, sample=p1b)  # same batch: no change
    assert (_count(first), _count(second)) == (2, 0)
    measurement_update(user=chemist, measurement=m, sample=p2)
    assert (_count(first), _count(second)) == (1, 1)
    measurement_update(user=chemist, measurement=m, label="renamed")  # no sample given: no change
    # A stale instance (still on p1) is moved from where the row really is.
    stale = Measurement.objects.get(pk=m.pk)
    stale.sample = p1
    measurement_update(user=chemist, measurement=stale, sample=p1b)
    assert (_count(first), _count(second)) == (2, 0) and measurement_counts_wrong() == {}


def test_recount_fixes_rows_written_around_the_services(members, project, saxs_bytes):
    chemist = members["chemist"]
    a, b = make_batch(chemist, project, code="NC1.1"), make_batch(chemist, project, code="NC2.1")
    sa, sb = make_sample(chemist, a), make_sample(chemist, b)
    _upload(chemist, sa, saxs_bytes)
    Measurement.objects.bulk_create([Measurement(sample=sb, technique="tem") for _ in range(3)])  # a bulk seed
    assert measurement_counts_wrong() == {"NC2.1": (0, 3)}
    assert batch_measurement_counts_refresh() == 1  # only the wrong batch is written
    assert measurement_counts_wrong() == {} and (_count(a), _count(b)) == (1, 3)
    Batch.objects.filter(pk=a.pk).update(measurement_count=7)
    assert batch_measurement_counts_refresh([b.pk]) == 0 and _count(a) == 7  # only the batches asked for
    assert batch_measurement_counts_refresh([a.pk]) == 1 and _count(a) == 1


def test_the_migration_fills_the_count_from_existing_measurements(members, project):
    chemist = members["chemist"]
    a, b, empty = (make_batch(chemist, project, code=c) for c in ("NC1.1", "NC2.1", "NC3.1"))
    for batch, n in ((a, 2), (b, 5)):
        samples = [make_sample(chemist, batch, code=f"{batch.code}-{k}") for k in range(2)]
        Measurement.objects.bulk_create([Measurement(sample=samples[i % 2], technique="saxs") for i in range(n)])
    Batch.objects.filter(pk=empty.pk).update(measurement_count=4)
    migration = importlib.import_module("labtrack.samples.migrations.0003_batch_measurement_count")

    class Editor:  # what RunPython hands the function: the connection to write through
        pass

    editor = Editor()
    editor.connection = connection
    migration.count_measurements(apps, editor)
    assert (_count(a), _count(b), _count(empty)) == (2, 5, 0) and measurement_counts_wrong() == {}
