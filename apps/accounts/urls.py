from django.urls import path

from apps.accounts import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("switch/", views.switch, name="switch"),
    path("projects/", views.projects, name="projects"),
    path("projects/<int:project_id>/keys/", views.project_keys, name="project-keys"),
    path("projects/<int:project_id>/keys/new/", views.project_key_create, name="project-key-create"),
    path(
        "projects/<int:project_id>/keys/<int:key_id>/revoke/",
        views.project_key_revoke,
        name="project-key-revoke",
    ),
    path("members/", views.members, name="members"),
    path("members/invite/", views.member_invite, name="member-invite"),
    path("members/<int:membership_id>/role/", views.member_role, name="member-role"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
]
