"""Forms of the drop-folder pages: they parse input; the rules are in the services."""
from __future__ import annotations

from django import forms

from labtrack.dropfolders.models import DEFAULT_NAMING_RULE
from labtrack.measurements.models import Instrument, Technique


class DropFolderForm(forms.Form):
    name = forms.CharField(max_length=200, required=False, help_text="e.g. 400 MHz NMR export")
    path = forms.CharField(max_length=1024, help_text="Absolute path on the server, e.g. /data/nmr400/export")
    project = forms.TypedChoiceField(coerce=int, label="Project")
    technique = forms.ChoiceField(choices=Technique.choices)
    instrument = forms.ModelChoiceField(queryset=Instrument.objects.all(), required=False)
    naming_rule = forms.CharField(max_length=500, initial=DEFAULT_NAMING_RULE,
                                  help_text="Regular expression; its group 'sample' is the sample code.")
    upload_as = forms.CharField(max_length=150, label="Upload as (username)", required=False,
                                help_text="A chemist of the project; empty: you.")
    processed_path = forms.CharField(max_length=1024, initial="processed",
                                     help_text="Subfolder (or absolute path) ingested files are moved to.")
    settle_s = forms.FloatField(initial=30.0, min_value=0, label="Settle time (s)",
                                help_text="How long a file must stay unchanged before it counts as complete.")

    def __init__(self, *args, projects: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].choices = [(p["id"], p["name"]) for p in projects]


class AssignForm(forms.Form):
    sample_code = forms.CharField(max_length=80)
    technique = forms.ChoiceField(choices=Technique.choices)


class DismissForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False)
