"""Customer portal pages of the credit line (the overview itself is the portal's home)."""

from django.urls import path

from credit import views

app_name = "credit"

urlpatterns = [
    path("limits/", views.limit_history, name="limit-history"),
    path("plans/<int:pk>/", views.plan_detail, name="plan"),
    path("plans/<int:pk>/payoff/", views.plan_payoff_submit, name="plan-payoff"),
    path("repay/", views.repay, name="repay"),
    path("repayments/<int:pk>/", views.repayment_detail, name="repayment"),
    path("checkout/", views.checkout, name="checkout"),
    path("verify/", views.verification, name="verify"),
]
