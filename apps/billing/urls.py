from django.urls import path

from apps.billing import views

app_name = "billing"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("checkout/", views.checkout, name="checkout"),
    path("checkout/done/", views.checkout_done, name="checkout-return"),
    path("portal/", views.portal, name="portal"),
    path("usage/", views.reconciliation, name="reconciliation"),
    path("stripe/webhook", views.stripe_webhook, name="stripe-webhook"),
]
