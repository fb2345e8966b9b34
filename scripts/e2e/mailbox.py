"""Reads the spool of scripts/smtp_sink.py: one NNNNNN.json per message the portal delivered over SMTP."""
import json
import os
import re
import time


class MailTimeout(AssertionError):
    pass


class Mailbox:
    def __init__(self, spool):
        self.spool = spool

    def messages(self):
        if not os.path.isdir(self.spool):
            return []
        found = []
        for name in sorted(os.listdir(self.spool)):
            if name.endswith(".json"):
                try:
                    with open(os.path.join(self.spool, name), encoding="utf-8") as handle:
                        found.append(json.load(handle))
                except (OSError, ValueError):
                    continue  # written atomically, so only a file removed meanwhile gets here
        return found

    def wait_for(self, recipient, subject_contains=None, timeout=30.0, after=0):
        """The first message to `recipient` numbered above `after` (and whose subject contains the text, if given)."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.messages():
                if message.get("number", 0) <= after:
                    continue
                if recipient.lower() not in [r.lower() for r in message.get("rcpt_tos", [])]:
                    continue
                if subject_contains and subject_contains.lower() not in (message.get("subject") or "").lower():
                    continue
                return message
            if time.monotonic() > deadline:
                seen = ["%s → %s" % (m.get("subject"), ", ".join(m.get("rcpt_tos", []))) for m in self.messages()[-5:]]
                raise MailTimeout("no e-mail to %s%s arrived in the SMTP sink (%s) within %.0f s; last messages: %s"
                                  % (recipient, " with subject containing %r" % subject_contains if subject_contains else "",
                                     self.spool, timeout, seen or "none"))
            time.sleep(0.2)

    def last_number(self):
        return max([m.get("number", 0) for m in self.messages()], default=0)


def portal_link(message, path_part="/access/"):
    """The portal link in a message's text part."""
    text = message.get("text") or ""
    links = [link.rstrip(".,;)>") for link in re.findall(r"https?://\S+", text)]
    chosen = [link for link in links if path_part in link]
    if not chosen:
        raise AssertionError("the e-mail %r to %s carries no link containing %r; its text:\n%s"
                             % (message.get("subject"), message.get("rcpt_tos"), path_part, text))
    return chosen[0]
