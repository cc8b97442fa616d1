"""The console's URLs with the Egress pages mounted, whether or not web/urls.py mounts them yet."""

from django.urls import URLResolver, include, path

from web.urls import urlpatterns as console

mounted = any(isinstance(p, URLResolver) and p.namespace == "egress" for p in console)
urlpatterns = console if mounted else [*console, path("egress/", include("egress.urls"))]
