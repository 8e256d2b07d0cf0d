"""Customer API under /api/v1/appeals/: the portal's operations, one service call each.

Isolation is through the queryset (`selectors.appeal_for_customer` filters on the caller),
so another customer's appeal or file is a 404 with code `not_found`. Domain refusals become
4xx answers with a stable code through config/api_errors.py.
"""

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from appeals import selectors, services
from appeals.kinds import kind_names
from appeals.views import attachment_response
from core.api_language import ApiLanguage
from core.throttles import AppealCreateThrottle

# --- input ----------------------------------------------------------------------------------


class AppealCreateInput(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=(),  # set per request in __init__ from the registry (appeals.kinds)
        help_text="Appeal kind, or an appeal type meaning its default kind.",
    )
    target_id = serializers.IntegerField(min_value=1)
    freeze_reason = serializers.CharField(
        max_length=32,
        required=False,
        default="",
        allow_blank=True,
        help_text="Freeze kind: the freeze reason appealed (a cause's `appeal_url` names it).",
    )
    reason = serializers.CharField(max_length=4000, trim_whitespace=True)
    files = serializers.ListField(child=serializers.FileField(), required=False, default=list)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kind_names()


class AnswerInput(serializers.Serializer):
    text = serializers.CharField(max_length=4000)
    files = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class MessageInput(serializers.Serializer):
    body = serializers.CharField(max_length=4000)


# --- output ---------------------------------------------------------------------------------


class AppealSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    type = serializers.CharField()
    type_label = serializers.CharField(source="get_type_display")
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    target_id = serializers.IntegerField(source="target_object_id")
    freeze_reason = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    sla_paused = serializers.BooleanField(source="is_paused")
    decided_at = serializers.DateTimeField()
    customer_reason = serializers.CharField()


class AttachmentOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField(source="original_name")
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, attachment) -> str:
        return reverse("appeals-api:attachment", args=[attachment.appeal_id, attachment.pk])


class TimelineEntryOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    code = serializers.CharField()
    title = serializers.CharField()
    actor = serializers.CharField()
    side = serializers.CharField()
    body = serializers.CharField()
    attachment_id = serializers.SerializerMethodField()

    def get_attachment_id(self, entry) -> int | None:
        return entry.attachment.pk if entry.attachment is not None else None


class AppealDetailOutput(AppealSummaryOutput):
    reason = serializers.CharField()

    def to_representation(self, appeal):
        data = super().to_representation(appeal)
        entries = selectors.appeal_timeline(appeal=appeal, for_customer=True)
        data["target_summary"] = selectors.appeal_target_summary(appeal)
        data["timeline"] = TimelineEntryOutput(entries, many=True).data
        data["attachments"] = AttachmentOutput(
            [e.attachment for e in entries if e.attachment is not None], many=True
        ).data
        return data


def _with_files(request) -> dict:
    """request.data with the uploaded files as a list (multipart), or as sent (JSON)."""
    if hasattr(request.data, "getlist"):
        return {**request.data.dict(), "files": request.FILES.getlist("files")}
    return request.data


def _detail(request, pk):
    return selectors.appeal_for_customer(customer=request.user, pk=pk)


class AppealListCreateApi(ApiLanguage, generics.ListAPIView):
    """GET: my appeals, newest first, paginated like every API list; POST: submit one."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]
    throttle_classes = [AppealCreateThrottle]  # counts the POSTs only
    serializer_class = AppealSummaryOutput

    def get_queryset(self):
        return selectors.appeals_for_customer(customer=self.request.user)

    @extend_schema(
        request=AppealCreateInput,
        responses={
            201: AppealDetailOutput,
            429: OpenApiResponse(description="`throttled`: too many; see `Retry-After`."),
        },
    )
    def post(self, request):
        serializer = AppealCreateInput(data=_with_files(request))
        serializer.is_valid(raise_exception=True)
        appeal = services.appeal_submit(
            customer=request.user,
            kind=serializer.validated_data["kind"],
            target_id=serializer.validated_data["target_id"],
            reason=serializer.validated_data["reason"],
            files=serializer.validated_data["files"],
            now=timezone.now(),
            freeze_reason=serializer.validated_data["freeze_reason"],
        )
        return Response(
            AppealDetailOutput(_detail(request, appeal.pk)).data, status=status.HTTP_201_CREATED
        )


class AppealDetailApi(ApiLanguage, APIView):
    @extend_schema(responses=AppealDetailOutput)
    def get(self, request, pk):
        return Response(AppealDetailOutput(_detail(request, pk)).data)


class AppealAnswerApi(ApiLanguage, APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(request=AnswerInput, responses=AppealDetailOutput)
    def post(self, request, pk):
        appeal = _detail(request, pk)
        serializer = AnswerInput(data=_with_files(request))
        serializer.is_valid(raise_exception=True)
        services.appeal_answer(
            appeal=appeal,
            customer=request.user,
            text=serializer.validated_data["text"],
            files=serializer.validated_data["files"],
            now=timezone.now(),
        )
        return Response(AppealDetailOutput(_detail(request, pk)).data)


class AppealMessageApi(ApiLanguage, APIView):
    @extend_schema(request=MessageInput, responses={201: TimelineEntryOutput})
    def post(self, request, pk):
        appeal = _detail(request, pk)
        serializer = MessageInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.appeal_message_add(
            appeal=appeal,
            author=request.user,
            body=serializer.validated_data["body"],
            now=timezone.now(),
        )
        return Response(
            {"id": message.pk, "body": message.body, "created_at": message.created_at},
            status=status.HTTP_201_CREATED,
        )


class AppealWithdrawApi(ApiLanguage, APIView):
    @extend_schema(request=None, responses=AppealDetailOutput)
    def post(self, request, pk):
        appeal = _detail(request, pk)
        services.appeal_withdraw(appeal=appeal, customer=request.user, now=timezone.now())
        return Response(AppealDetailOutput(_detail(request, pk)).data)


class AppealAttachmentApi(ApiLanguage, APIView):
    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request, pk, attachment_pk):
        attachment = selectors.attachment_for_download(
            user=request.user, appeal_pk=pk, attachment_pk=attachment_pk
        )
        return attachment_response(attachment)
