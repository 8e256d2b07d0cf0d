"""/api/v1/: the customer API (token or session) and the merchant API (API key)."""

from django.urls import path

from credit.apis import customer, merchant

app_name = "api_v1"

urlpatterns = [
    path("account/", customer.AccountView.as_view(), name="account"),
    path(
        "account/limit-changes/",
        customer.LimitChangeListView.as_view(),
        name="limit-changes",
    ),
    path("account/history/", customer.AccountHistoryView.as_view(), name="account-history"),
    path("account/payment-codes/", customer.PaymentCodeView.as_view(), name="payment-codes"),
    path("quotes/", customer.QuoteView.as_view(), name="quotes"),
    path("purchases/", customer.PurchaseListCreateView.as_view(), name="purchases"),
    path("purchases/<int:pk>/", customer.PurchaseDetailView.as_view(), name="purchase"),
    path("plans/", customer.PlanListView.as_view(), name="plans"),
    path("plans/<int:pk>/", customer.PlanDetailView.as_view(), name="plan"),
    path("plans/<int:pk>/payoff/", customer.PlanPayoffView.as_view(), name="plan-payoff"),
    path("installments/", customer.InstallmentListView.as_view(), name="installments"),
    path("repayments/", customer.RepaymentListCreateView.as_view(), name="repayments"),
    path("repayments/<int:pk>/", customer.RepaymentDetailView.as_view(), name="repayment"),
    path(
        "merchant/purchases/",
        merchant.MerchantPurchaseCreateView.as_view(),
        name="merchant-purchases",
    ),
    path(
        "merchant/purchases/<int:pk>/",
        merchant.MerchantPurchaseDetailView.as_view(),
        name="merchant-purchase",
    ),
    path(
        "merchant/purchases/<int:pk>/refunds/",
        merchant.MerchantRefundCreateView.as_view(),
        name="merchant-refunds",
    ),
]
