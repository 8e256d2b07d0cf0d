"""Notice texts: one template per event × channel × language, rendered as plain text.

Templates live at `notifications/<channel>/<template_key>.<language>.txt` (channel in lower
case: `sms`, `email`, `in_app`; template key = the event in lower case unless a publisher
chose another). The project's `templates/` ships them; a file at the same path earlier in the
template search path overrides one. Email and in-app texts: first line the subject (title),
then the body. SMS texts: one line; line breaks become spaces.

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

from notifications.models import Channel


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
    return f"notifications/{channel.lower()}/{template_key}.{language}.txt"


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
    if channel == Channel.SMS:
        lines = (line.strip() for line in text.splitlines())
        return RenderedNotice(subject="", body=" ".join(line for line in lines if line))
    subject, _newline, body = text.partition("\n")
    return RenderedNotice(subject=subject.strip(), body=body.strip())
