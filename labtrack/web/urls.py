"""Pages. Names are what templates and tests reverse; see each view for what it does."""
from django.contrib.auth import views as auth_views
from django.urls import path

from labtrack.web.views import trends as insights
from labtrack.web.views import accounts, ageing, batches, exports, measurements, paper_figures, runs, samples

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
    path("figures/", paper_figures.paper_figures, name="paper_figures"),
    path("figures/<slug:key>.<str:fmt>", paper_figures.paper_figure, name="paper_figure"),
    path("studies/", ageing.study_list, name="study_list"),
    path("studies/<int:pk>/", ageing.study_detail, name="study_detail"),
    path("studies/<int:pk>/report/", ageing.study_report, name="study_report"),
    path("studies/<int:pk>/report.pdf", ageing.study_report_pdf, name="study_report_pdf"),
    path("studies/<int:pk>/spectra/<str:sample>.<str:fmt>", ageing.study_spectra, name="study_spectra"),
    path("studies/<int:pk>/<slug:key>.csv", ageing.study_csv, name="study_csv"),
    path("studies/<int:pk>/<slug:key>.<str:fmt>", ageing.study_figure, name="study_figure"),
    path("calendar/<str:token>.ics", ageing.calendar_feed, name="ageing_calendar"),
]
