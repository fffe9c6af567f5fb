from django.urls import path

from ocsc.portal import app, staff, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("services/<slug:org>/<slug:code>/", views.service_page, name="service"),
    path("services/<slug:org>/<slug:code>/apply/", views.apply, name="apply"),
    path("uploads/", views.upload, name="upload"),
    path("signin/", views.sign_in, name="sign_in"),
    path("signout/", views.sign_out, name="sign_out"),
    path("language/", views.set_language, name="set_language"),
    path("profile/", views.profile, name="profile"),
    path("applications/", views.my_applications, name="applications"),
    path("applications/<str:tracking_no>/", views.application_page, name="application"),
    path("applications/<str:tracking_no>/comment/", views.comment, name="comment"),
    path("applications/<str:tracking_no>/act/", views.act, name="act"),
    path(
        "applications/<str:tracking_no>/documents/<uuid:document_id>/",
        views.document,
        name="document",
    ),
    path("applications/<str:tracking_no>/watch/", staff.watch, name="watch"),
    path("applications/<str:tracking_no>/assign/", views.assign_step, name="assign"),
    path("track/", views.track, name="track"),
    path("staff/queue/", staff.queue, name="queue"),
    path("staff/two-factor/", views.second_factor, name="second_factor"),
    path("staff/dashboard/", staff.dashboard, name="dashboard"),
    path("staff/dashboard/<slug:org>/", staff.dashboard, name="dashboard_org"),
    path("staff/applications/", staff.drill, name="drill"),
    path("staff/board/", staff.board, name="board"),
    path("organizations/<slug:org>/figures/", staff.public_figures, name="public_figures"),
    path("updates/", views.notifications, name="notifications"),
    path("manifest.webmanifest", app.manifest, name="manifest"),
    path("sw.js", app.service_worker, name="service_worker"),
    path("offline/", app.offline, name="offline"),
]
