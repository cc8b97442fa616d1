"""The one error type an operator sees, and the catalogue of its stable codes.

`OneNetError(code, message)`: `code` is stable (scripts and people key on it), `message` says what happened
and what to do. Every code raised anywhere is in CATALOGUE with what it means and what to do in general
(tests/web/test_error_catalogue.py checks that). This module imports nothing of the project: every layer,
the platforms included, can raise it.
"""

from __future__ import annotations


class OneNetError(Exception):
    def __init__(self, code: str, message: str, **details):
        self.code = code
        self.message = message
        self.details = details
        super().__init__(f"{code}: {message}")

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "action": CATALOGUE.get(self.code, "")}

    def advice(self) -> str:
        """What to do, in the language of the request (the catalogue's sentence, translated)."""
        from django.utils.translation import gettext

        sentence = CATALOGUE.get(self.code, "")
        return gettext(sentence) if sentence else ""

    def for_page(self) -> str:
        """The text a page shows: the stable code, what to do in the user's language, then the particulars of this
        raise (they name the device, line or value at fault; they are written in English, for scripts and logs)."""
        advice = self.advice()
        if not advice or advice == CATALOGUE.get(self.code):  # no translation (or an English console)
            return f"{self.code}: {self.message}"
        return f"{self.code}: {advice}（{self.message}）"


def _(sentence: str) -> str:
    """Marks a catalogue sentence for makemessages (xgettext knows `_`) without translating it: the commands' JSON
    keeps it in English, pages translate it when shown (`advice`). Not Django's gettext_noop: importing
    django.utils.translation while the settings load (web.config imports this module) hides a bad setting from
    `manage.py check`."""
    return sentence


# code → what to do about it (the message of each raise adds the particulars). The sentences are English here (the
# commands' JSON keeps them so); pages show them translated (`advice`, `for_page`; locale/zh_Hans).
CATALOGUE: dict[str, str] = {
    # settings, commands, the console
    "SETTING_INVALID": _("Fix the setting the message names (README, Settings) and start again."),
    "SYSTEM_CHECK_FAILED": _("Fix what Django's system check reports, then run the command again."),
    "COMMAND_FAILED": _("Read the message, correct the command's arguments or state, and run it again."),
    "USAGE_INVALID": _("Run the command with --help and correct its arguments."),
    "DATABASE_ERROR": _("Check that the database is reachable and migrated (manage.py migrate), then try again."),
    "UNEXPECTED_ERROR": _("This is a bug or an unforeseen state: report it with the traceback from stderr."),
    "VAR_DIR_MISSING": _("Run ./onenet setup (or manage.py init) to create the var/ directory first."),
    "ACCESS_NO_PROFILE": _("Ask an administrator to give this account a role and a region."),
    "COLLECT_NOT_ALLOWED": _("Ask an engineer or an administrator to start the poll."),
    "HOSTKEY_NOT_ALLOWED": _("Ask an engineer or an administrator of the device's region to review the key."),
    "METRICS_UNAUTHORISED": _("Send Authorization: Bearer with the value of ONENET_METRICS_TOKEN."),
    "METRICS_LOOPBACK_ONLY": _("Set ONENET_METRICS_TOKEN to scrape /metrics from another host."),
    # inventory and credentials
    "INVENTORY_INVALID": _("Fix every problem listed (file, line and field), then import the file again."),
    "INVENTORY_TOO_LARGE": _("Split the file and import the parts one after another (importing is idempotent)."),
    "INVENTORY_FILE_MISSING": _("Check the path of the inventory file."),
    "REGION_UNKNOWN": _("Use a region slug from manage.py inventory export."),
    "REGION_CYCLE": _("Choose a parent outside the region's own subtree."),
    "DEVICE_UNKNOWN": _("Use a device name from the inventory (manage.py inventory export)."),
    "CREDENTIAL_UNREADABLE": _("Enter the credential's secret again in the admin, or check ONENET_CREDENTIAL_KEY."),
    "CREDENTIAL_KEY_MISSING": _("Run ./onenet setup or manage.py init; in production set ONENET_CREDENTIAL_KEY."),
    "CREDENTIAL_KEY_INVALID": _("Give a file holding a Fernet key (32 url-safe base64 bytes) that is not the key "
                                "in use."),
    # platforms and drivers
    "PLATFORM_UNKNOWN": _("Use one of the platform slugs OneNet knows: huawei_vrp, hp_comware, cisco_ios, ruijie_os."),
    "PLATFORM_DUPLICATE": _("Two modules register the same platform slug; keep one place per vendor."),
    "ACL_NONE_FREE": _("Free one of the ACL numbers OneNet uses on the device, then propose again."),
    "SSH_NO_CREDENTIAL": _("Give the device an SSH credential in the inventory."),
    "SSH_AUTH_FAILED": _("Check the device's SSH credential (user name and secret) and the account on the device."),
    "SSH_UNREACHABLE": _("Check the device's address and SSH port, and any firewall on the way."),
    "SSH_HOSTKEY_CHANGED": _("Compare the offered key with the device's own; accept it on the device page only if it "
                           "is the device's."),
    "SSH_HOSTKEY_UNKNOWN": _("Import the device's host key with the inventory, or review and accept it on its page."),
    "SSH_HOSTKEY_NOTHING_OFFERED": _("Reload the device page: no offered host key waits for review."),
    "SSH_ERROR": _("The device answered something unexpected; see the message, then try again."),
    "CONFIG_EMPTY": _("Try again, or check the account's privileges on the device."),
    "SSH_SESSION_LOST": _("The device closed the session: check what it holds now (a change pipeline settles it)."),
    "DRIVER_NO_CANDIDATE": _("Load a candidate (merge or replace) before comparing or committing."),
    "DRIVER_COMMIT_FAILED": _("Fix the line the device refused and push again; what went before was undone."),
    "DRIVER_NO_PENDING_COMMIT": _("Nothing waits for confirmation on this device; check its config instead."),
    "DRIVER_COMMIT_PENDING": _("Confirm or roll back the pending commit before the next one."),
    "DRIVER_ROLLBACK_FAILED": _("Check the device by hand: the rollback did not bring its config back."),
    # collectors
    "SNMP_NO_ANSWER": _("Check the address, the port and the community (a wrong v2c community looks like silence)."),
    "SNMP_AUTH_FAILED": _("Check the SNMP community or the SNMPv3 user and passphrase."),
    "SNMP_BAD_ANSWER": _("The agent answered something that is not valid SNMP; check what listens on that port."),
    "TARGET_INVALID": _("Write the target as HOST or HOST:PORT."),
    "POLL_ALREADY_RUNNING": _("Wait for the running poll to end (the Bandwidth page shows it), then poll again."),
    "POLL_FAILED": _("Read the error, fix its cause, and poll again; the run was closed."),
    "POLL_EXPIRED": _("Check that the county's worker runs; the next cycle polls these devices again."),
    "POLL_NOT_SENT": _("Check that the celery broker is reachable, then ask for the poll again."),
    # threat
    "THREAT_CAPTURE_NOT_FOUND": _("Check the path of the capture file."),
    "THREAT_CAPTURE_UNREADABLE": _("Check the capture file's permissions and that it is a pcap or pcapng file."),
    "THREAT_CAPTURE_PERMISSION": _("Run the sensor as root or with the CAP_NET_RAW capability."),
    "THREAT_IFACE_UNKNOWN": _("Use the name of an existing network interface (ip link)."),
    "THREAT_EVE_NOT_FOUND": _("Check the path of the EVE file."),
    "THREAT_EVE_UNREADABLE": _("Check the EVE file's permissions."),
    "THREAT_EVE_BAD_LINE": _("That line is no Suricata alert event; the other lines were read."),
    "THREAT_EVE_BAD_TIME": _("That line's timestamp is outside 1970-2107; the other lines were read."),
    "THREAT_EVE_LINE_TOO_LONG": _("That line is longer than any Suricata event; it was skipped, the others were read."),
    "THREAT_EVE_TOO_DEEP": _("That line nests deeper than any Suricata event; it was skipped, the others were read."),
    "THREAT_EVE_TOO_MANY_ALERTS": _("Split the EVE file; the alerts past the bound were not stored."),
    "THREAT_ALERT_UNKNOWN": _("Use an alert number from the alert queue."),
    "THREAT_ACTION_UNKNOWN": _("Use one of the actions the alert page offers."),
    "THREAT_READ_ONLY": _("Ask a security analyst, an engineer or an administrator to triage the alert."),
    "THREAT_STATUS_UNKNOWN": _("Use one of the alert statuses the alert page offers."),
    "THREAT_TRANSITION_REFUSED": _("Move the alert through the statuses the alert page offers."),
    "THREAT_NOTE_EMPTY": _("Write something in the note before saving it."),
    "THREAT_NOTE_TOO_LONG": _("Shorten the note and save it again."),
    "THREAT_NOT_LOCATED": _("Locate the alert's host first (run manage.py backup, then locate again)."),
    "THREAT_BAD_INTERFACE": _("Check the switch's MAC table and interfaces; OneNet puts only real port names in "
                              "configs."),
    "THREAT_BAD_ADDRESS": _("The alert's source is not an IP address; check the capture or EVE line it came from."),
    "THREAT_CONTAINMENT_UNKNOWN": _("Use a containment kind OneNet offers: shutdown-port or acl-block-host."),
    "THREAT_ASSIGNEE_MISSING": _("Choose the user to assign the ticked incidents to, then press Assign again."),
    "THREAT_ASSIGNEE_OUT_OF_SCOPE": _("Pick a user whose role may triage and whose part of the network covers the "
                                    "incident (its county's engineer, or a city-wide analyst)."),
    "THREAT_PROPOSAL_ACTIVE": _("Follow the incident's containment proposal in progress, or have its change rejected "
                              "or cancelled before proposing another."),
    # the console
    "OVERVIEW_NO_SUCH_CARD": _("Open the list from one of the Overview's cards."),
    # the change pipeline
    "CHANGE_NOT_ALLOWED": _("Ask an engineer or an administrator of the devices' region."),
    "CHANGE_OUT_OF_SCOPE": _("Pick devices in your part of the network, or ask an engineer whose scope covers them."),
    "CHANGE_SELF_APPROVAL": _("Ask another engineer to approve it: the author cannot approve their own change."),
    "CHANGE_WRONG_STATUS": _("Reload the change: it has moved on; act on what it shows now."),
    "CHANGE_NOTHING_WAITING": _("No device of this change waits for that; see the change's devices."),
    "CHANGE_NO_REASON": _("Give the change a title and a reason (what it does and why)."),
    "CHANGE_NO_TARGETS": _("Pick at least one device (or failing finding) in your part of the network."),
    "CHANGE_NO_LINES": _("Write the config lines the devices should get."),
    "CHANGE_NO_TEXT_FOR_PLATFORM": _("Write lines for every platform among the devices, or drop those devices."),
    "CHANGE_BAD_LINE": _("Fix the line named (too long, or a control character), then create the change again."),
    "CHANGE_TOO_LARGE": _("Split the change into smaller ones."),
    "CHANGE_BAD_TIMEOUT": _("Use a time inside the range the message gives."),
    "CHANGE_DEVICE_BUSY": _("Wait for the other change on the device to finish, then run this one again."),
    "CHANGE_DEVICE_UNKNOWN": _("Use a device name from the inventory (manage.py inventory export)."),
    "CHANGE_USER_UNKNOWN": _("Use the username of an active console user."),
    "CHANGE_NOT_FOUND": _("Use a change number from `manage.py change list` or the Changes page."),
    "CHANGE_NOT_SENT": _("Check that the task queue (CELERY_BROKER_URL) answers; the sweep sends the work again."),
    # compliance
    "RULES_INVALID": _("Fix the rule file at the line and field named, then start again."),
    "CONFIG_FILE_UNREADABLE": _("Check the path and permissions of the config file."),
    "CONFIG_FILE_TOO_LARGE": _("Give the device's running config itself; no config is that large."),
    # egress
    "EGRESS_POLICY_INVALID": _("Fix the egress policy file at each line and field named, then run the command again."),
    "EGRESS_CONFIG_UNREADABLE": _("Back the device up again; its stored config holds no configuration OneNet can "
                                  "read."),
    # lab
    "LAB_ALREADY_RUNNING": _("Stop the running lab first (manage.py lab down), or use it as it is."),
    "LAB_START_FAILED": _("Read the lab's log under var/lab/ for why a process stopped, then start it again."),
    "LAB_START_TIMEOUT": _("The lab did not answer in time; read its log under var/lab/, then start it again."),
    "LIVE_NEEDS_ROOT": _("Run the live injection as root (it creates a network namespace)."),
    "LIVE_NO_IPROUTE": _("Install iproute2 (apt-get install iproute2)."),
    "LIVE_IP_FAILED": _("Read the ip command's error in the message and fix what it names."),
    "LIVE_IFACE_INVALID": _("Use an interface name of 1-15 letters, digits, dots, dashes or underscores."),
    "LIVE_IFACE_MISSING": _("Give the host-side interface name with --live IFACE."),
    "LIVE_IFACE_TAKEN": _("Choose an interface name that does not exist yet, or delete that interface."),
    "LIVE_NETNS_EXEC_FAILED": _("Read the error in the message; check the namespace with ip netns."),
    "LIVE_NOT_CREATED": _("The veth pair was not created; read the ip command's error in the message."),
    "LIVE_SPEED_INVALID": _("Give --speed as a positive number (1 is real time)."),
    "SNMPREC_MISSING": _("Check the paths of the .snmprec recordings."),
    "SNMPREC_SERVE_FAILED": _("Read the responder's error on stderr; check that the port is free."),
}
