"""Forms of the drop-folder pages: they parse input; the rules are in the services."""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from labtrack.dropfolders.models import DEFAULT_NAMING_RULE
from labtrack.dropfolders.naming import check_naming_rule, sample_code_candidates
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

    enabled = forms.BooleanField(required=False, initial=True, label="Enabled",
                                 help_text="Unticked: the scanner and the watcher leave this folder alone.")
    example_name = forms.CharField(
        max_length=255, required=False, label="Try the rule on a file name",
        help_text="e.g. NC12.8-P-cs133.dat or a TopSpin data set folder NC12.8-P; the rule must find a sample code in it.")

    def __init__(self, *args, projects: list[dict] | None, **kwargs):
        super().__init__(*args, **kwargs)
        if projects is None:      # editing: a folder's items belong to its project, which stays
            del self.fields["project"]
        else:
            self.fields["project"].choices = [(p["id"], p["name"]) for p in projects]
        self.found_codes: list[str] = []
        for name in ("path", "naming_rule", "example_name"):     # long values: a whole row each
            self.fields[name].widget.attrs.update({"class": "wide", "spellcheck": "false", "autocomplete": "off"})

    def clean(self):
        data = super().clean()
        rule, example = data.get("naming_rule"), (data.get("example_name") or "").strip()
        if rule and example:
            try:
                check_naming_rule(rule)
            except ValidationError:
                return data       # the service names the rule's own problem on its field
            self.found_codes = sample_code_candidates(rule, example, is_file="." in example)
            if not self.found_codes:
                self.add_error("example_name", f"The naming rule finds no sample code in “{example}”: "
                                               "files named like this would wait as unmatched.")
        return data


class DropFolderEditForm(DropFolderForm):
    """The same fields without the project, in the order a manager changes them."""

    field_order = ["path", "enabled", "instrument", "naming_rule", "example_name", "technique", "name", "upload_as",
                   "processed_path", "settle_s"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, projects=None, **kwargs)


class AssignForm(forms.Form):
    sample_code = forms.CharField(max_length=80)
    technique = forms.ChoiceField(choices=Technique.choices)


class DismissForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False)
