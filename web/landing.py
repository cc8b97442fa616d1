"""Where each role lands after logging in: the page that answers its first question (DESIGN, "The console").

A manager (and an administrator) asks "is the network OK today?" (the Overview); a security analyst "what is
attacking us?" (the alert queue); an engineer "which of my devices need me?" (the device list with state and last
backup). A `next` the login form carries (a page the user was sent away from) still wins.
"""

from django.contrib.auth import views as auth_views
from django.urls import NoReverseMatch, reverse

from web.access import user_role

FIRST_PAGE = {"security": "threat:alerts", "engineer": "inventory:devices"}


def first_page(user) -> str:
    try:
        return reverse(FIRST_PAGE.get(user_role(user), "overview"))
    except NoReverseMatch:  # an app without its page (a trimmed install): the Overview always exists
        return reverse("overview")


class LoginView(auth_views.LoginView):
    def get_default_redirect_url(self):
        return first_page(self.request.user)
