"""Import of other ELNs' .eln files as far as they map: experiments become batches with
their text, fields, steps and comments in the notes, their files attachments that a
person turns into measurements. Real exports (the ELN Consortium's example files, MIT
licence, TheELNConsortium/TheELNFileFormat `examples/`) are used where available:
tests/data/eln/, the team's ../shared/data/eln/, or $LABTRACK_ELN_EXAMPLES."""
import hashlib
import json
import os
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from analysis.synthetic.saxs import write_saxs_curve
from labtrack.exchange.eln_import import attachment_assign, eln_import
from labtrack.exchange.models import ElnAttachment
from labtrack.measurements.blobs import blob_verify
from labtrack.samples.models import Batch
from tests.labtrack.factories import make_sample, measurement_counts_wrong

ROOT = Path(__file__).resolve().parents[3]


def real_eln(name: str) -> Path:
    places = [ROOT / "tests" / "data" / "eln", ROOT / ".." / "shared" / "data" / "eln"]
    if os.environ.get("LABTRACK_ELN_EXAMPLES"):
        places.insert(0, Path(os.environ["LABTRACK_ELN_EXAMPLES"]))
    for place in places:
        if (place / name).exists():
            return place / name
    pytest.skip(f"real .eln example {name} not present (tests/data/eln/, ../shared/data/eln/ or $LABTRACK_ELN_EXAMPLES)")


def _crate(tmp_path, graph, files):
    path = tmp_path / "foreign.eln"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("export/ro-crate-metadata.json", json.dumps(
            {"@context": "https://w3id.org/ro/crate/1.2/context", "@graph": graph}))
        for name, data in files.items():
            archive.writestr(f"export/{name}", data)
    return path


def test_a_foreign_experiment_becomes_a_batch_and_its_file_a_measurement(members, project, tmp_path):
    curve = Path(write_saxs_curve(tmp_path / "NC9.9.dat", "NC9.9")).read_bytes()
    graph = [
        {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": {"@id": "./"},
         "conformsTo": {"@id": "https://w3id.org/ro/crate/1.2"}, "sdPublisher": {"@id": "#pub"}, "version": "1.0"},
        {"@id": "#pub", "@type": "Organization", "name": "eLabFTW"},
        {"@id": "./", "@type": "Dataset", "hasPart": [{"@id": "./exp1/"}, {"@id": "./loose.txt"}]},
        {"@id": "./loose.txt", "@type": "File", "name": "loose.txt"},
        {"@id": "./exp1/", "@type": "Dataset", "name": "CsPbBr3 NC9.9 synthesis", "author": {"@id": "#ana"},
         "dateCreated": "2024-03-05T10:00:00+01:00", "text": "<p>Injected at <b>25 °C</b></p>",
         "variableMeasured": [{"@id": "#pv1"}], "comment": [{"@id": "#c1"}],
         "hasPart": [{"@id": "./exp1/NC9.9.dat"}, {"@id": "https://example.org/remote.pdf"}]},
        {"@id": "#ana", "@type": "Person", "givenName": "Ana", "familyName": "Lopez"},
        {"@id": "#pv1", "@type": "PropertyValue", "propertyID": "OPA", "value": "100", "unitText": "mM"},
        {"@id": "#c1", "@type": "Comment", "dateCreated": "2024-03-06", "text": "Nice and narrow PL"},
        {"@id": "./exp1/NC9.9.dat", "@type": "File", "name": "NC9.9.dat", "encodingFormat": "text/plain",
         "contentSize": str(len(curve)), "sha256": hashlib.sha256(curve).hexdigest()},
    ]
    path = _crate(tmp_path, graph, {"exp1/NC9.9.dat": curve})
    report = eln_import(user=members["chemist"], project=project, path=str(path), file_name="foreign.eln")
    assert report.kind == "eLabFTW" and len(report.batches) == 1 and report.attachments == 1
    assert any("loose.txt" in s for s in report.skipped) and any("remote.pdf" in s for s in report.skipped)
    batch = Batch.objects.get()
    assert batch.code.startswith("eLabFTW-CsPbBr3-NC9.9-synthesis-")
    for text in ("Author: Ana Lopez", "Injected at 25 °C", "- OPA: 100 mM", "Nice and narrow PL", "foreign.eln"):
        assert text in batch.notes
    assert batch.synthesised_at.year == 2024
    attachment = ElnAttachment.objects.get()
    assert attachment.sha256 == hashlib.sha256(curve).hexdigest() and blob_verify(attachment.sha256)

    sample = make_sample(members["chemist"], batch, code="NC9.9-P")
    with pytest.raises(ValidationError, match="not Photoluminescence|is saxs"):
        attachment_assign(user=members["chemist"], attachment=attachment, sample=sample, technique="pl")
    assert Batch.objects.get().measurement_count == 0  # the refused assignment counted nothing
    measurement = attachment_assign(user=members["chemist"], attachment=attachment, sample=sample, technique="saxs")
    assert measurement.raw_files.get().sha256 == attachment.sha256
    assert Batch.objects.get().measurement_count == 1 and measurement_counts_wrong() == {}
    attachment.refresh_from_db()
    assert attachment.measurement == measurement
    with pytest.raises(ValidationError, match="already measurement"):
        attachment_assign(user=members["chemist"], attachment=attachment, sample=sample, technique="saxs")


def test_a_crate_without_experiments_is_refused(members, project, tmp_path):
    graph = [{"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": {"@id": "./"}},
             {"@id": "./", "@type": "Dataset", "hasPart": [{"@id": "./a.txt"}]},
             {"@id": "./a.txt", "@type": "File", "name": "a.txt"}]
    path = _crate(tmp_path, graph, {"a.txt": b"x"})
    with pytest.raises(ValidationError, match="lists no experiment"):
        eln_import(user=members["chemist"], project=project, path=str(path), file_name="x.eln")
    assert not Batch.objects.exists()


def test_real_elabftw_export(members, project):
    path = real_eln("elabftw-export.eln")
    report = eln_import(user=members["chemist"], project=project, path=str(path), file_name="export.eln")
    assert report.kind == "eLabFTW"
    batches = {b.notes.splitlines()[0]: b for b in Batch.objects.all()}
    assert len(batches) == len(report.batches) >= 10
    gold = batches["Gold master experiment"]
    assert "Great results on the DNA extraction" in gold.notes  # a comment
    assert "a step" in gold.notes  # a step
    jpg = ElnAttachment.objects.get(name="example.jpg")
    assert jpg.batch == gold and jpg.size_bytes == 85530
    assert jpg.sha256 == "b73626c9a9ed8561ed6126df2493bc0d84fb8feedc9fe34aed94f7d2d5f4f60f"  # as the crate says


def test_real_datalab_export(members, project):
    path = real_eln("datalab-demo-IBPDKL.eln")
    report = eln_import(user=members["chemist"], project=project, path=str(path), file_name="datalab.eln")
    assert report.batches and Batch.objects.count() == len(report.batches)
    names = set(ElnAttachment.objects.values_list("name", flat=True))
    assert "CG20474_jdb11-2a.xrdml" in names
