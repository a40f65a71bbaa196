from django import forms

from apps.accounts.models import Role


class SignupForm(forms.Form):
    email = forms.EmailField(max_length=254)
    password = forms.CharField(widget=forms.PasswordInput, min_length=10, max_length=128)
    organization = forms.CharField(max_length=120, label="Organisation name")


class LoginForm(forms.Form):
    email = forms.CharField(max_length=254, label="E-mail")
    password = forms.CharField(widget=forms.PasswordInput, max_length=128)


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=120)


class KeyForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("ingest", "Ingest key (send telemetry)"), ("sdk", "SDK key (read routing config)")]
    )
    name = forms.CharField(max_length=120, required=False)


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=254)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
