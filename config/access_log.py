"""gunicorn's access log without customers' phone numbers.

A number typed into a URL by hand (`/admin/accounts/user/?q=13600000101`, a bookmark, a
Referer) would otherwise be written in full to the access log, which more people read than
the back office. Procfile: `gunicorn --logger-class config.access_log.PhoneMaskingLogger`.
The admin's own search never puts a number in a URL (docs/security.md).
"""

from gunicorn.glogging import Logger

from accounts.phone import phones_masked_in


class PhoneMaskingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        return {
            name: phones_masked_in(value) if isinstance(value, str) else value
            for name, value in super().atoms(resp, req, environ, request_time).items()
        }
