"""What the change pipeline tells the rest of the app: a change finished its roll-out (the producers listen, so
that the pipeline never imports them)."""

from django.dispatch import Signal

change_completed = Signal()  # sender=ChangeRequest, change=the completed ChangeRequest
