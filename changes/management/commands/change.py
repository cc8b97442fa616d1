"""`manage.py change apply|list|show|approve|reject|confirm|rollback|contain|sweep|audit`: the change pipeline.

Commands run the pipeline in this process (no worker needed): `apply --approve-as` pushes at once and prints
each device's outcome; without it the change waits for a second engineer (console or `change approve`).
"""

from __future__ import annotations

from pathlib import Path

from web.commands import OneNetCommand
from web.errors import OneNetError

# The stable statuses of `change apply` (DESIGN): a task's status, as a script reads it.
APPLY_STATUS = {"confirmed": "committed", "unchanged": "committed", "rolled_back": "rolled_back",
                "failed": "failed", "needs_attention": "failed", "cancelled": "failed", "pending": "failed",
                "pushing": "failed", "awaiting_confirm": "committed"}


class Command(OneNetCommand):
    help = "Config changes: dry-run, four-eyes approval, push with commit-confirm and rollback, audit."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        apply = sub.add_parser("apply", help="one change for one device, through the whole pipeline")
        apply.add_argument("--device", required=True, help="the device's name in the inventory")
        apply.add_argument("--config-file", required=True, metavar="FILE",
                           help="config-file lines for the device's platform (sections at column 0)")
        apply.add_argument("--as", dest="as_user", required=True, metavar="USER", help="the author")
        apply.add_argument("--approve-as", metavar="USER", help="a second engineer who approves it: it runs at once")
        apply.add_argument("--dry-run", action="store_true", help="show what the device would get, change nothing")
        apply.add_argument("--confirm-timeout", type=int, metavar="S", help="seconds before an unconfirmed push "
                                                                             "rolls back by itself (60-7200)")
        apply.add_argument("--reason", default="", help="why (default: the file's name)")
        listing = sub.add_parser("list", help="the changes, newest first")
        listing.add_argument("--status", help="only changes in this status")
        show = sub.add_parser("show", help="one change: its devices, diffs, outcomes and audit log")
        show.add_argument("change", type=int)
        decisions = []
        for name, text in (("approve", "approve a change (it runs at once)"), ("reject", "reject a change"),
                           ("confirm", "keep what was pushed on the devices waiting for confirmation"),
                           ("rollback", "roll back the devices waiting for confirmation or flagged")):
            decision = sub.add_parser(name, help=text)
            decision.add_argument("change", type=int)
            decision.add_argument("--as", dest="as_user", required=True, metavar="USER")
            decision.add_argument("--note", default="")
            decisions.append(decision)
        contain = sub.add_parser("contain", help="a containment change for an alert's located host")
        contain.add_argument("alert", type=int)
        contain.add_argument("--kind", choices=["shutdown-port", "acl-block-host"], default="shutdown-port")
        contain.add_argument("--as", dest="as_user", required=True, metavar="USER")
        contain.add_argument("--release-after", type=int, metavar="S", help="undo it by itself after S seconds")
        sweep = sub.add_parser("sweep", help="roll back what nobody confirmed in time, settle abandoned pushes")
        audit = sub.add_parser("audit", help="the audit log")
        audit.add_argument("--change", type=int)
        audit.add_argument("--device")
        for each in (apply, listing, show, *decisions, contain, sweep, audit):
            super().add_arguments(each)

    def handle(self, *args, **options):
        from changes.services.pipeline import INLINE

        token = INLINE.set(True)
        try:
            getattr(self, "handle_" + options["subcommand"])(options)
        except OneNetError as error:
            self.fail(options, error.code, error.message)
        finally:
            INLINE.reset(token)

    # -- helpers ------------------------------------------------------------------------------------------------
    def user(self, options, name: str):
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(username=name, is_active=True).first()
        if user is None:
            self.fail(options, "CHANGE_USER_UNKNOWN", f"there is no active user {name!r}; create it in the admin.")
        return user

    def change(self, options):
        from changes.models import ChangeRequest

        change = ChangeRequest.objects.select_related("region").filter(pk=options["change"]).first()
        if change is None:
            self.fail(options, "CHANGE_NOT_FOUND", f"there is no change #{options['change']}; see `change list`.")
        return change

    def describe(self, change, apply_statuses: bool = False, viewer=None) -> dict:
        """The change as JSON; run `--as` a user who is not an administrator, its diffs and reasons have the
        devices' secrets masked, as that user's console pages have."""
        from changes.views import visible_diff
        from collectors.services.configs import shows_secrets
        from policies.services import VisibleLines

        masked = viewer is not None and not shows_secrets(viewer)
        tasks = change.tasks.select_related("device").order_by("batch", "device__name")
        devices = []
        for task in tasks:
            status = task.status
            if apply_statuses:
                status = {"preparing": "dry_run", "awaiting_approval": "awaiting_approval"}.get(
                    change.status, APPLY_STATUS.get(task.status, task.status))
            reason, diff = task.reason, task.diff
            if masked:
                reason = VisibleLines(viewer, task.device.platform).message(reason)
                diff = "\n".join(line for _css, line in visible_diff(viewer, task.device.platform, diff))
            devices.append({"device": task.device.name, "platform": task.device.platform, "status": status,
                            "reason": reason, "diff": diff})
        return {"change": change.pk, "title": change.title, "status": change.status, "source": change.source,
                "author": change.author.get_username(),
                "approved_by": change.approved_by.get_username() if change.approved_by else None,
                "confirm_timeout": change.confirm_timeout, "devices": devices}

    def human(self, document: dict) -> str:
        lines = [f"change #{document['change']} {document['status']}: {document['title']}"]
        for device in document["devices"]:
            lines.append(f"  {device['device']:30} {device['status']:18} {device['reason']}")
            lines += [f"    {line}" for line in device["diff"].splitlines()]
        return "\n".join(lines)

    # -- sub-commands -------------------------------------------------------------------------------------------
    def handle_apply(self, options):
        from changes.services import dry_run, requests
        from inventory.models import Device

        author = self.user(options, options["as_user"])
        device = Device.objects.filter(name=options["device"]).first()
        if device is None:
            self.fail(options, "CHANGE_DEVICE_UNKNOWN", f"there is no device {options['device']!r} in the inventory.")
        path = Path(options["config_file"])
        text = self.read_config_file(options, path)
        plan = requests.plan_from_text([device], {device.platform: text}, f"{path.name} on {device.name}",
                                       options["reason"] or f"manage.py change apply {path.name}")
        change = requests.create(author, plan, options.get("confirm_timeout"), candidate={device.platform: text})
        change = dry_run.prepare(change)
        if options["dry_run"]:
            document = self.describe(change, apply_statuses=True, viewer=author)
            for row in document["devices"]:
                row["status"] = "dry_run"
            requests.cancel(change, author)
            document["status"] = "dry_run"
        else:
            if options.get("approve_as"):
                change = requests.approve(change, self.user(options, options["approve_as"]))
            document = self.describe(change, apply_statuses=True, viewer=author)
        self.emit(options, document, self.human(document))

    def handle_list(self, options):
        from changes.models import ChangeRequest

        changes = ChangeRequest.objects.select_related("author").order_by("-created_at", "-pk")
        if options.get("status"):
            changes = changes.filter(status=options["status"])
        rows = [{"change": c.pk, "title": c.title, "status": c.status, "source": c.source,
                 "author": c.author.get_username(), "created_at": c.created_at.isoformat(),
                 "devices": c.tasks.count()} for c in changes[:500]]
        self.emit(options, {"changes": rows},
                  "\n".join(f"#{r['change']:<6} {r['status']:18} {r['devices']:>5} {r['title']}" for r in rows))

    def handle_show(self, options):
        change = self.change(options)
        document = self.describe(change)
        document["audit"] = [{"time": e.time.isoformat(), "user": e.username, "device": e.device_name,
                              "action": e.action, "outcome": e.outcome, "message": e.message}
                             for e in change.audit.all()]
        audit = [f"  {e['time']} {e['user']:12} {e['action']:16} {e['device']:24} {e['message']}"
                 for e in document["audit"]]
        self.emit(options, document, "\n".join([self.human(document), *audit]))

    def _decide(self, options, verb):
        from changes.services import requests

        change = self.change(options)
        user = self.user(options, options["as_user"])
        if verb in ("approve", "reject"):
            getattr(requests, verb)(change, user, options["note"])
        else:
            getattr(requests, verb)(change, user)
        change.refresh_from_db()
        document = self.describe(change, viewer=user)
        self.emit(options, document, self.human(document))

    def handle_approve(self, options):
        self._decide(options, "approve")

    def handle_reject(self, options):
        self._decide(options, "reject")

    def handle_confirm(self, options):
        self._decide(options, "confirm")

    def handle_rollback(self, options):
        self._decide(options, "rollback")

    def handle_contain(self, options):
        from changes.services.producers import contain
        from threat.models import Alert

        alert = Alert.objects.filter(pk=options["alert"]).first()
        if alert is None:
            self.fail(options, "THREAT_ALERT_UNKNOWN", f"there is no alert #{options['alert']}.")
        user = self.user(options, options["as_user"])
        change = contain(alert, options["kind"], user, release_after=options.get("release_after"))
        document = self.describe(change, viewer=user)
        self.emit(options, document, self.human(document))

    def handle_sweep(self, options):
        from changes.services.pipeline import sweep

        result = sweep()
        self.emit(options, result, " ".join(f"{k}={v}" for k, v in result.items()))

    def handle_audit(self, options):
        from changes.models import AuditEntry

        entries = AuditEntry.objects.order_by("time", "pk")
        if options.get("change"):
            entries = entries.filter(change_id=options["change"])
        if options.get("device"):
            entries = entries.filter(device_name=options["device"])
        rows = [{"time": e.time.isoformat(), "change": e.change_id, "user": e.username, "device": e.device_name,
                 "action": e.action, "outcome": e.outcome, "message": e.message, "diff": e.diff}
                for e in entries[:10000]]
        human = [f"{r['time']} #{r['change']} {r['user']:12} {r['action']:16} {r['device']:24} {r['message']}"
                 for r in rows]
        self.emit(options, {"entries": rows}, "\n".join(human))
