"""Forms: they parse and present input; every rule lives in the services they feed."""
from __future__ import annotations

import json
from typing import Any

from django import forms

from labtrack.analyses.selectors import routine_parameters
from labtrack.measurements.models import Instrument, Technique
from labtrack.samples.models import Batch, BatchStatus, Sample, SynthesisProtocol
from labtrack.insights.batch_list import BatchFilters

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format=DATETIME_FORMAT, **kwargs)


class DateInput(forms.DateInput):
    input_type = "date"


def _datetime_field(label: str, required: bool = True) -> forms.DateTimeField:
    return forms.DateTimeField(label=label, required=required, widget=DateTimeLocalInput(),
                               input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"])


REASON_HELP = "Required once a result of this batch has been accepted: it is kept in the audit trail."

BATCH_FORM_FIELDS = (
    "code", "protocol", "synthesised_at", "status", "opa_concentration_molar", "reaction_duration_s",
    "temperature_c", "cs_octanoate_volume_ul", "pbbr2_solution_volume_ml", "ddab_solution_volume_ul",
    "quench_time_s", "washing_steps", "washing_notes", "drying", "notes", "extra_parameters",
)


def _schema_key_text(name: str, spec: dict) -> str:
    kind = spec.get("type", "any")
    if "enum" in spec:
        kind = " or ".join(json.dumps(v) for v in spec["enum"])
    return f"{name} ({kind})"


def _example_value(spec: dict) -> Any:
    if "enum" in spec and spec["enum"]:
        return spec["enum"][0]
    return {"number": 800, "integer": 3, "boolean": True, "string": "text"}.get(spec.get("type"), 1)


def extra_parameters_help(protocols) -> str:
    """The keys each protocol's schema allows, and an example the first one accepts (the
    example is built from the schema, so it cannot suggest a key the schema rejects)."""
    listed, example = [], ""
    for protocol in protocols:
        # Sorted: PostgreSQL's jsonb keeps keys in its own order (by length), SQLite as written.
        properties = dict(sorted(((protocol.parameter_schema or {}).get("properties") or {}).items()))
        if not properties:
            continue
        listed.append(f"{protocol}: " + ", ".join(_schema_key_text(k, v) for k, v in properties.items()))
        if not example:
            key, spec = next(iter(properties.items()))
            example = json.dumps({key: _example_value(spec)})
    if not listed:
        return "JSON object; no protocol defines extra parameters yet, so leave it empty."
    return f"JSON object with keys the protocol allows, e.g. {example}. Allowed keys — " + "; ".join(listed) + "."


class BatchForm(forms.ModelForm):
    """New or edited batch. `projects` (create only) are those the user may edit in."""

    project = forms.TypedChoiceField(coerce=int, label="Project")
    reason = forms.CharField(label="Reason for the change", required=False, help_text=REASON_HELP,
                             widget=forms.TextInput(attrs={"autocomplete": "off"}))
    synthesised_at = _datetime_field("Synthesised at")

    class Meta:
        model = Batch
        fields = BATCH_FORM_FIELDS
        widgets = {"washing_notes": forms.Textarea(attrs={"rows": 2}), "notes": forms.Textarea(attrs={"rows": 3}),
                   "extra_parameters": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, projects: list[dict] | None = None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["project"]
        else:
            del self.fields["reason"]
            self.fields["project"].choices = [(p["id"], p["name"]) for p in projects or []]
        self.fields["protocol"].queryset = SynthesisProtocol.objects.all()
        self.fields["extra_parameters"].required = False
        self.fields["extra_parameters"].help_text = extra_parameters_help(SynthesisProtocol.objects.all())
        for name in ("opa_concentration_molar", "reaction_duration_s", "cs_octanoate_volume_ul",
                     "pbbr2_solution_volume_ml", "ddab_solution_volume_ul", "quench_time_s"):
            self.fields[name].widget.attrs.update({"min": "0", "step": "any", "inputmode": "decimal"})
        self.fields["temperature_c"].widget.attrs.update({"step": "any", "inputmode": "decimal"})

    def _post_clean(self):
        # Rules (unique codes, non-negative amounts) are checked by the service, which
        # reports them on the same fields; the model form must not half-apply them.
        pass

    def service_fields(self) -> dict[str, Any]:
        data = {k: self.cleaned_data[k] for k in BATCH_FORM_FIELDS if k != "code"}
        data["extra_parameters"] = data.get("extra_parameters") or {}
        return data


SAMPLE_FORM_FIELDS = (
    "code", "form", "prepared_at", "parent", "ageing_started_at", "storage_location", "atmosphere",
    "storage_temperature_c", "light", "mass_mg", "notes",
)


class SampleForm(forms.ModelForm):
    reason = forms.CharField(label="Reason for the change", required=False, help_text=REASON_HELP)
    prepared_at = _datetime_field("Prepared at")
    ageing_started_at = _datetime_field("Ageing started at", required=False)

    class Meta:
        model = Sample
        fields = SAMPLE_FORM_FIELDS
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"parent": "The sample this one was made from (e.g. the ink a powder was dried from).",
                      "ageing_started_at": "Leave empty to count age from preparation."}

    def __init__(self, *args, parents=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not editing:
            del self.fields["reason"]
        if parents is not None:
            self.fields["parent"].queryset = parents
        self.fields["mass_mg"].widget.attrs.update({"min": "0", "step": "any", "inputmode": "decimal"})

    def _post_clean(self):
        pass

    def service_fields(self) -> dict[str, Any]:
        return {k: self.cleaned_data[k] for k in SAMPLE_FORM_FIELDS if k not in ("code", "form")}


class MeasurementForm(forms.Form):
    """The measurement's fields; the files come from request.FILES["files"] (several)."""

    sample = forms.ModelChoiceField(queryset=Sample.objects.none(), label="Sample")
    technique = forms.ChoiceField(
        label="Technique", required=False,
        choices=[("", "Detect from the files")] + list(Technique.choices))
    instrument = forms.ModelChoiceField(queryset=Instrument.objects.all(), required=False, label="Instrument")
    measured_at = _datetime_field("Measured at", required=False)
    label = forms.CharField(required=False, max_length=200, help_text="e.g. 133Cs one-pulse, 24 kHz MAS")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    age_confirmation_reason = forms.CharField(
        label="Manager's reason for an early date", required=False, max_length=500,
        help_text="Only if the measurement really predates the sample's preparation or ageing start: say why.")

    def __init__(self, *args, samples=None, **kwargs):
        super().__init__(*args, **kwargs)
        if samples is not None:
            self.fields["sample"].queryset = samples
        self.fields["measured_at"].help_text = "Leave empty to take it from the files."


class MeasurementEditForm(forms.Form):
    sample = forms.ModelChoiceField(queryset=Sample.objects.none(), label="Sample")
    instrument = forms.ModelChoiceField(queryset=Instrument.objects.none(), required=False, label="Instrument")
    measured_at = _datetime_field("Measured at")
    label = forms.CharField(required=False, max_length=200)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    reason = forms.CharField(label="Reason for the change", required=False, help_text=REASON_HELP)
    age_confirmation_reason = forms.CharField(
        label="Manager's reason for an early date", required=False, max_length=500,
        help_text="Only if the measurement really predates the sample's preparation or ageing start: say why.")

    def __init__(self, *args, samples, instruments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sample"].queryset = samples
        self.fields["instrument"].queryset = instruments


BOOL_CHOICES = [("", "default"), ("true", "yes"), ("false", "no")]


def _as_text(value: Any, type_name: str) -> str:
    if value is None:
        return ""
    if type_name == "json" or isinstance(value, (list, dict)):
        return json.dumps(value)
    if type_name == "bool":
        return "true" if value else "false"
    return str(value)


class RefitForm(forms.Form):
    """Generated from the routine's parameters ({name: {default, type}}); initial values
    are the run's effective parameters. Values are checked by the routine itself."""

    def __init__(self, *args, routine: str, current: dict[str, Any], **kwargs):
        super().__init__(*args, **kwargs)
        self.specs = routine_parameters(routine)
        for name, spec in self.specs.items():
            type_name = spec.get("type", "str")
            default = spec.get("default")
            label = name.replace("_", " ")
            meaning = spec.get("help") or ""
            help_text = f"{meaning} ({type_name}; default {_as_text(default, type_name) or 'none'})".strip()
            if type_name == "json" and not meaning:
                help_text += ' (JSON, e.g. [400, -100] or {"Cs1": 17.1})'
            initial = _as_text(current.get(name, default), type_name)
            if type_name == "bool":
                field = forms.ChoiceField(choices=BOOL_CHOICES, required=False, label=label, help_text=help_text)
            else:
                attrs = {"autocomplete": "off", "spellcheck": "false"}
                if type_name in ("int", "float"):
                    attrs["inputmode"] = "decimal"
                field = forms.CharField(required=False, label=label, help_text=help_text,
                                        widget=forms.TextInput(attrs=attrs))
            field.initial = initial
            self.fields[name] = field

    def raw_parameters(self) -> dict[str, str]:
        """The submitted values as strings ("" = none/default), for the routine to coerce."""
        return {name: (self.cleaned_data.get(name) or "").strip() for name in self.specs}


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "Accept"), ("reject", "Reject"), ("retract", "Retract")])
    reason = forms.CharField(required=False, max_length=2000)


REVIEW_FILTERS = [("", "Any"), ("pending", "Has runs awaiting review"), ("accepted", "Has accepted results"),
                  ("unreviewed", "No accepted results")]


class BatchFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Batch code or notes contain",
                        help_text="To find samples, files, storage places or protocols too, use Search.",
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "e.g. NC8 or washed"}))
    date_from = forms.DateField(required=False, label="Synthesised from", widget=DateInput())
    date_to = forms.DateField(required=False, label="to", widget=DateInput())
    opa_min = forms.FloatField(required=False, label="OPA min (M)", min_value=0,
                               widget=forms.NumberInput(attrs={"step": "any"}))
    opa_max = forms.FloatField(required=False, label="OPA max (M)", min_value=0,
                               widget=forms.NumberInput(attrs={"step": "any"}))
    duration_min = forms.FloatField(required=False, label="Duration min (s)", min_value=0,
                                    widget=forms.NumberInput(attrs={"step": "any"}))
    duration_max = forms.FloatField(required=False, label="Duration max (s)", min_value=0,
                                    widget=forms.NumberInput(attrs={"step": "any"}))
    protocol = forms.ModelChoiceField(queryset=SynthesisProtocol.objects.all(), required=False,
                                      label="Protocol", empty_label="Any")
    status = forms.MultipleChoiceField(choices=BatchStatus.choices, required=False, label="Status",
                                       widget=forms.CheckboxSelectMultiple)
    technique = forms.MultipleChoiceField(choices=Technique.choices, required=False, label="Measured by (all of)",
                                          widget=forms.CheckboxSelectMultiple)
    review = forms.ChoiceField(choices=REVIEW_FILTERS, required=False, label="Review state")
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def to_filters(self, project_id: int | None) -> BatchFilters:
        d = self.cleaned_data if self.is_valid() else {}
        protocol = d.get("protocol")
        return BatchFilters(
            project_id=project_id, q=d.get("q") or "", date_from=d.get("date_from"), date_to=d.get("date_to"),
            opa_min=d.get("opa_min"), opa_max=d.get("opa_max"),
            duration_min_s=d.get("duration_min"), duration_max_s=d.get("duration_max"),
            protocol_id=protocol.pk if protocol else None, statuses=d.get("status") or [],
            techniques=d.get("technique") or [], review=d.get("review") or "", sort=d.get("sort") or "-date",
        )

    def has_filters(self) -> bool:
        if not self.is_valid():
            return False
        return any(v for k, v in self.cleaned_data.items() if k != "sort")


class StudyForm(forms.Form):
    """A new ageing study from a template: its conditions, pull points and quantities
    come from the template unless overridden here."""

    name = forms.CharField(max_length=200)
    template = forms.ModelChoiceField(queryset=None, label="Template")
    samples = forms.ModelMultipleChoiceField(queryset=Sample.objects.none(), label="Samples",
                                             help_text="Pull points are dated from each sample's ageing start "
                                                       "(else its preparation).")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, samples, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["samples"].queryset = samples
        self.fields["template"].queryset = templates
