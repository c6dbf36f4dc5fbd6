from django.urls import path

from projects import views

app_name = "projects"

urlpatterns = [
    path("", views.project_list, name="project_list"),
    path("new/<int:client_pk>/", views.project_edit, name="project_create"),
    path("<int:pk>/", views.project_detail, name="project_detail"),
    path("<int:pk>/edit/", views.project_edit, name="project_edit"),
    path("<int:project_pk>/milestones/new/", views.milestone_edit, name="milestone_create"),
    path("<int:project_pk>/tasks/new/", views.task_edit, name="task_create"),
    path("timeline/<int:client_pk>/", views.client_timeline, name="client_timeline"),
    path("milestones/", views.milestone_list, name="milestone_list"),
    path("milestones/due-soon/", views.milestone_due_soon, name="milestone_due_soon"),
    path("milestones/<int:pk>/edit/", views.milestone_edit, name="milestone_edit"),
    path("milestones/<int:pk>/complete/", views.milestone_complete, name="milestone_complete"),
    path("milestones/<int:pk>/reopen/", views.milestone_reopen, name="milestone_reopen"),
    path("tasks/<int:pk>/edit/", views.task_edit, name="task_edit"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
    path("training/", views.training_list, name="training_list"),
    path("training/new/<int:client_pk>/", views.training_edit, name="training_create"),
    path("training/<int:pk>/", views.training_detail, name="training_detail"),
    path("training/<int:pk>/edit/", views.training_edit, name="training_edit"),
    path("training/<int:pk>/attendance/", views.attendance_record, name="attendance_record"),
    path(
        "training/<int:pk>/attendance/<int:attendance_pk>/remove/",
        views.attendance_remove,
        name="attendance_remove",
    ),
    path("initiatives/", views.initiative_list, name="initiative_list"),
    path("initiatives/new/<int:client_pk>/", views.initiative_edit, name="initiative_create"),
    path("initiatives/<int:pk>/", views.initiative_detail, name="initiative_detail"),
    path("initiatives/<int:pk>/edit/", views.initiative_edit, name="initiative_edit"),
    path("cases/", views.case_queue, name="case_queue"),
    path("cases/all/", views.case_list, name="case_list"),
    path("cases/new/<int:client_pk>/", views.case_edit, name="case_create"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/edit/", views.case_edit, name="case_edit"),
    path("cases/<int:pk>/assign/", views.case_assign, name="case_assign"),
    path("cases/<int:pk>/resolve/", views.case_action, {"action": "resolve"}, name="case_resolve"),
    path("cases/<int:pk>/close/", views.case_action, {"action": "close"}, name="case_close"),
    path("cases/<int:pk>/reopen/", views.case_action, {"action": "reopen"}, name="case_reopen"),
]
