import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from inventory.models import Region
from web.commands import OneNetCommand
from web.models import Profile

# username, role, region slug (None: the whole network), superuser
DEMO_USERS = [
    ("admin", "admin", None, True),
    ("manager", "manager", None, False),
    ("security", "security", None, False),
    ("engineer", "engineer", None, False),  # approves what engineer-nanjiang writes (a change needs four eyes)
    ("engineer-nanjiang", "engineer", "nanjiang", False),
]


class Command(OneNetCommand):
    help = "Create the demo logins (one per role, a city-wide and a county-scoped engineer) and print how to log in."

    def handle(self, *args, **options):
        if not Path(settings.VAR_DIR).is_dir():
            self.fail(options, "VAR_DIR_MISSING", f"{settings.VAR_DIR} does not exist yet; run `./onenet setup` or "
                                                  "`manage.py init` first (the logins are kept there).")
        path = Path(settings.VAR_DIR) / "demo-logins.txt"
        passwords = dict(line.split(" ", 1) for line in path.read_text().splitlines() if " " in line) \
            if path.exists() else {}
        User = get_user_model()
        logins = []
        with transaction.atomic():
            for username, role, region_slug, superuser in DEMO_USERS:
                password = passwords.get(username) or secrets.token_urlsafe(9)
                user = User.objects.filter(username=username).first() or User(username=username)
                user.is_staff = user.is_superuser = superuser
                user.set_password(password)
                user.save()
                region = Region.objects.filter(slug=region_slug).first() if region_slug else None
                Profile.objects.update_or_create(user=user, defaults={"role": role, "region": region})
                passwords[username] = password
                logins.append({"username": username, "password": password, "role": role,
                               "scope": region.name if region else "all"})
        # 0600 from the first byte (not written, then closed): these are working passwords.
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as stream:
            stream.write("".join(f"{u} {p}\n" for u, p in passwords.items()))
        path.chmod(0o600)  # one an older version left readable
        lines = ["Demo logins for http://127.0.0.1:8000 (also in var/demo-logins.txt):"]
        lines += [f"  {x['username']:<20} {x['password']:<14} {x['role']} · {x['scope']}" for x in logins]
        self.emit(options, {"logins": logins, "url": "http://127.0.0.1:8000"}, "\n".join(lines))
