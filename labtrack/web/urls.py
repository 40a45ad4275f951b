"""Pages. Names are what templates and tests reverse; see each view for what it does."""
from django.contrib.auth import views as auth_views
from django.urls import path

from labtrack.web.views import trends as insights
from labtrack.web.views import accounts, ageing, batches, exports, measurements, paper_figures, runs, samples
from labtrack.web.views import tokens as api_tokens
from labtrack.web.views import exchange
from labtrack.web.views import labels, search
from labtrack.web.views import ageing_edit, compare

urlpatterns = [
    path("", accounts.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html",
                                                redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("project/", accounts.project_switch, name="project_switch"),
    path("batches/", batches.batch_list, name="batch_list"),
    path("batches.csv", batches.batch_list_csv, name="batch_list_csv"),
    path("batches/new/", batches.batch_create, name="batch_create"),
    path("batches/<str:code>/", batches.batch_detail, name="batch_detail"),
    path("batches/<str:code>/edit/", batches.batch_edit, name="batch_edit"),
    path("batches/<str:code>/key-results/", batches.batch_key_results, name="batch_key_results"),
    path("batches/<str:code>/samples/new/", samples.sample_create, name="sample_create"),
    path("samples/<int:pk>/edit/", samples.sample_edit, name="sample_edit"),
    path("batches/<str:code>/measurements/new/", measurements.measurement_create, name="measurement_create"),
    path("batches/<str:code>/measurements/detect/", measurements.measurement_detect, name="measurement_detect"),
    path("measurements/<int:pk>/edit/", measurements.measurement_edit, name="measurement_edit"),
    path("files/<int:pk>/download/", measurements.raw_file_download, name="raw_file_download"),
    path("runs/<int:pk>/", runs.run_detail, name="run_detail"),
    path("runs/<int:pk>/status.json", runs.run_status, name="run_status"),
    path("runs/<int:pk>/figure.svg", runs.run_figure, name="run_figure"),
    path("runs/<int:pk>/thumbnail.png", runs.run_thumbnail, name="run_thumbnail"),
    path("runs/<int:pk>/review/", runs.run_review, name="run_review"),
    path("runs/<int:pk>/refit/", runs.run_refit, name="run_refit"),
    path("review/", runs.review_queue, name="review_queue"),
    path("review/accept/", runs.review_accept_many, name="review_accept_many"),
    path("trends/", insights.trends, name="trends"),
    path("results.csv", exports.results_csv, name="results_csv"),
    path("trends/figure.svg", insights.trends_figure, name="trends_figure"),
    path("trends/figure.png", insights.trends_figure, {"fmt": "png"}, name="trends_figure_png"),
    path("trends/points.csv", insights.trends_csv, name="trends_csv"),
    path("trends/data.json", insights.trends_data, name="trends_data"),
    path("figures/", paper_figures.paper_figures, name="paper_figures"),
    path("figures/<slug:key>.<str:fmt>", paper_figures.paper_figure, name="paper_figure"),
    path("studies/", ageing.study_list, name="study_list"),
    path("studies/<int:pk>/", ageing.study_detail, name="study_detail"),
    path("studies/<int:pk>/edit/", ageing_edit.study_edit, name="study_edit"),
    path("studies/<int:pk>/pull-points/redate/", ageing_edit.pull_point_redate, name="pull_point_redate"),
    path("studies/<int:pk>/report/", ageing.study_report, name="study_report"),
    path("studies/<int:pk>/report.pdf", ageing.study_report_pdf, name="study_report_pdf"),
    path("studies/<int:pk>/export.eln", ageing.study_export_eln, name="study_export_eln"),
    path("studies/<int:pk>/spectra/<str:sample>.<str:fmt>", ageing.study_spectra, name="study_spectra"),
    path("studies/<int:pk>/<slug:key>.csv", ageing.study_csv, name="study_csv"),
    path("studies/<int:pk>/<slug:key>.<str:fmt>", ageing.study_figure, name="study_figure"),
    path("compare/", compare.compare, name="compare"),
    path("compare/data.json", compare.compare_data, name="compare_data"),
    path("compare/data.csv", compare.compare_csv, name="compare_csv"),
    path("calendar/<str:token>.ics", ageing.calendar_feed, name="ageing_calendar"),
    # Personal API tokens (issue 13)
    path("account/tokens/", api_tokens.api_tokens, name="api_tokens"),
    path("account/tokens/<int:pk>/revoke/", api_tokens.api_token_revoke, name="api_token_revoke"),
    # Exchange (issue 13): spreadsheet import, .eln export and import.
    path("import/", exchange.import_upload, name="import_upload"),
    path("import/template.csv", exchange.import_template, {"fmt": "csv"}, name="import_template_csv"),
    path("import/template.xlsx", exchange.import_template, {"fmt": "xlsx"}, name="import_template_xlsx"),
    path("import/<int:pk>/", exchange.import_preview, name="import_preview"),
    path("import/eln/", exchange.eln_import_page, name="eln_import"),
    path("batches/<str:code>/export.eln", exchange.batch_export_eln, name="batch_export_eln"),
    path("batches/<str:code>/eln-files/", exchange.eln_attachments, name="eln_attachments"),
    path("eln-files/<int:pk>/assign/", exchange.eln_attachment_assign, name="eln_attachment_assign"),
    # issue 12: search, sample pages and labels, scan-to-open
    path("search/", search.search_page, name="search"),
    path("samples/<int:pk>/", labels.sample_detail, name="sample_detail"),
    path("samples/<int:pk>/label.png", labels.sample_label_png, name="sample_label_png"),
    path("samples/<int:pk>/labels/", labels.sample_labels, name="sample_labels"),
    path("samples/<int:pk>/labels.pdf", labels.sample_labels, {"fmt": "pdf"}, name="sample_labels_pdf"),
    path("batches/<str:code>/labels/", labels.batch_labels, name="batch_labels"),
    path("batches/<str:code>/labels.pdf", labels.batch_labels, {"fmt": "pdf"}, name="batch_labels_pdf"),
    path("open/", labels.scan_open, name="scan_open"),
]
