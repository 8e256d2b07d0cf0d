"""Mounted at /api/v1/appeals/ by config/urls.py."""

from django.urls import path

from appeals import apis

app_name = "appeals-api"

urlpatterns = [
    path("", apis.AppealListCreateApi.as_view(), name="list"),
    path("<int:pk>/", apis.AppealDetailApi.as_view(), name="detail"),
    path("<int:pk>/answer/", apis.AppealAnswerApi.as_view(), name="answer"),
    path("<int:pk>/messages/", apis.AppealMessageApi.as_view(), name="messages"),
    path("<int:pk>/withdraw/", apis.AppealWithdrawApi.as_view(), name="withdraw"),
    path(
        "<int:pk>/files/<int:attachment_pk>/", apis.AppealAttachmentApi.as_view(), name="attachment"
    ),
]
