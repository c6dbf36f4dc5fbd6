from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("Projects")

    def ready(self) -> None:
        # The client page's sections (clients/views.py), before its history.
        from clients.views import ClientSection, add_client_sections
        from projects import views

        add_client_sections(
            ClientSection("projects", _("Projects"), "projects/_section_projects.html",
                          views.client_projects_context),
            ClientSection("timeline", _("Timeline"), "projects/_section_timeline.html",
                          views.client_timeline_context),
            ClientSection("training", _("Training"), "projects/_section_training.html",
                          views.client_training_context),
            ClientSection("initiatives", _("Marketing initiatives"),
                          "projects/_section_initiatives.html", views.client_initiatives_context),
            ClientSection("cases", _("Service cases"), "projects/_section_cases.html",
                          views.client_cases_context),
        )  # fmt: skip
