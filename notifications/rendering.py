"""Notice texts: one template per event × channel × language, rendered as plain text.

Templates live at `notifications/<folder>/<template_key>.<language>.<extension>`, folder and
extension from the channel's entry in `notifications.channels` (`sms`, `email`, `in_app`;
`txt`); the template key is the event in lower case unless a publisher chose another. The
project's `templates/` ships them; a file at the same path earlier in the template search
path overrides one. Channels with a subject (email, in-app): first line the subject (title),
then the body. Without (SMS): one line; line breaks become spaces. A text longer than its
channel's limit is cut, an ellipsis last, rather than refused by the provider.

A separate template engine renders them: the same directories as the site's, but no HTML
auto-escaping (these are not HTML; the inbox page escapes when it shows them) and the
`notification_text` filters built in.
"""

import functools
from dataclasses import dataclass

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import Context, Engine, engines
from django.utils import translation

from notifications.channels import CHANNELS


@dataclass(frozen=True)
class RenderedNotice:
    subject: str
    body: str


@functools.cache
def _engine() -> Engine:
    site = engines["django"].engine
    return Engine(
        dirs=list(site.dirs),
        app_dirs=True,
        autoescape=False,
        builtins=["notifications.templatetags.notification_text"],
    )


@receiver(setting_changed, dispatch_uid="notifications.rendering.reset")
def _reset_engine(*, setting, **kwargs):
    if setting in {"TEMPLATES", "INSTALLED_APPS"}:
        _engine.cache_clear()


def supported_language(language: str | None) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def template_path(*, channel: str, template_key: str, language: str) -> str:
    spec = CHANNELS[channel]
    return (
        f"notifications/{spec.template_folder}/{template_key}.{language}.{spec.template_extension}"
    )


def _cut(text: str, max_length: int | None) -> str:
    if max_length is None or len(text) <= max_length:
        return text
    return text[: max_length - 1].rstrip() + "…"


def notice_render(
    *, channel: str, template_key: str, language: str, context: dict
) -> RenderedNotice:
    """The notice's text in `language`; raises TemplateDoesNotExist for a missing template."""
    language = supported_language(language)
    template = _engine().get_template(
        template_path(channel=channel, template_key=template_key, language=language)
    )
    with translation.override(language):
        text = template.render(Context(context, autoescape=False)).strip()
    spec = CHANNELS[channel]
    if spec.has_subject:
        subject, _newline, body = (part.strip() for part in text.partition("\n"))
    else:
        lines = (line.strip() for line in text.splitlines())
        subject, body = "", " ".join(line for line in lines if line)
    return RenderedNotice(
        subject=_cut(subject, spec.subject_max_length), body=_cut(body, spec.body_max_length)
    )
