"""The console speaks LANGUAGE_CODE (Chinese by default) until a user picks another language.

Django's LocaleMiddleware would follow the browser's Accept-Language first; an English browser on a
county office PC should still get the Chinese console unless its user switches.
"""


class ConfiguredLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
