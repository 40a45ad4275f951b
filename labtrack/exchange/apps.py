from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    """Data in and out the way labs already work: spreadsheet import of syntheses and
    samples, and .eln (RO-Crate) export and import of batches."""

    name = "labtrack.exchange"
    label = "exchange"
