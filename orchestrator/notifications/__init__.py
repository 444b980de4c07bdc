"""Notifications: e-mail and webhook messages about failed runs, cases for a person, SLA
breaches and lost robots.

Configured per tenant (``settings.notifications_for(tenant)``): channels (SMTP with STARTTLS,
or a webhook) and rules (which events, which bots, after how many failures in a row, at
once or as a daily digest, German or English). Every message goes through the outbox in the
store (``store.notifications``), so none is lost and none blocks a run. Modules:

* :mod:`.events`: an event and the messages its tenant's rules ask for;
* :mod:`.run_end`: the events of a run's end (called by the engine);
* :mod:`.watch`: SLA breaches and robots gone silent (the orchestrator's leader);
* :mod:`.delivery`: claiming, sending, retrying, daily digests, the leader's pass;
* :mod:`.channels`: SMTP and webhook; :mod:`.messages` and :mod:`.texts`: the words.

A message carries pseudonymous references (run ids, case references) and a link to the run
report, never a payload or an error text. See docs/notifications.md.
"""

from orchestrator.notifications.channels import SecretsFor, SecretSource, send
from orchestrator.notifications.delivery import (
    Delivered,
    deliver,
    deliver_pending,
    deliverer,
    notification_pass,
    render,
    try_channels,
)
from orchestrator.notifications.messages import Message, compose
from orchestrator.notifications.run_end import notify_run_end

__all__ = [
    "Delivered",
    "Message",
    "SecretSource",
    "SecretsFor",
    "compose",
    "deliver",
    "deliver_pending",
    "deliverer",
    "notification_pass",
    "notify_run_end",
    "render",
    "send",
    "try_channels",
]
