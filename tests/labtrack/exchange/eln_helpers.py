"""What the .eln round-trip tests share: a fresh, empty LabTrack to import into, the
results of record to compare, and re-zipping a bundle with a change."""
import zipfile
from pathlib import Path

from django.core.management import call_command

from labtrack.analyses.selectors import quantities_of_record
from labtrack.samples.models import Membership
from labtrack.samples.services import project_create


def results_of_record(user) -> list[tuple]:
    """The user's quantities of record as plain, sorted tuples."""
    return sorted((q.run.measurement.sample.code, q.run.routine, q.name, q.component_label, q.value, q.stderr, q.unit)
                  for q in quantities_of_record(user=user))


def empty_labtrack(settings, tmp_path: Path, make_user):
    """Empty the database (another LabTrack; the test must be transactional) with its own
    media folder; returns (chemist, project) the bundle is imported by and into."""
    call_command("flush", interactive=False, verbosity=0)
    settings.MEDIA_ROOT = str(tmp_path / "other-media")
    chemist = make_user("elsewhere")
    team = project_create(name="Collaborators")
    Membership.objects.create(project=team, user=chemist, role="chemist")
    return chemist, team


def rezip(source: Path, target: Path, change) -> Path:
    """`source` copied to `target` with each entry through change(name, data) -> (name or
    None to drop it, data)."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            name, data = change(info.filename, src.read(info.filename))
            if name is not None:
                dst.writestr(name, data)
    return target
