"""The suite's environment mounted as the owner's mailbox, calendar and drive, with its 24 tools.

Read tools return plain records and record what the agent read (with provenance) in a Ledger;
write tools are only applied after the policy let the matching Action run.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from persona.evals.agentdojo.provenance import (
    Ledger,
    email_segments,
    event_segments,
    file_provenance,
    file_segments,
    others,
    owner_data,
)
from persona.events import Provenance

Record = dict[str, Any]
# What a write tool creates: the kind of record, and the field that names it.
_CREATED = {
    "send_email": ("email", "subject"),
    "create_calendar_event": ("event", "title"),
    "create_file": ("file", "filename"),
}


class ToolError(Exception):
    """A tool call the environment cannot carry out (unknown id, bad arguments); shown to the agent."""


class Workspace:
    def __init__(self, environment: dict[str, Any], owner: str, ledger: Ledger):
        env = copy.deepcopy(environment)
        inbox, calendar, drive = env.get("inbox", {}), env.get("calendar", {}), env.get("cloud_drive", {})
        self.owner = owner
        self.ledger = ledger
        self.emails: dict[str, Record] = {m["id_"]: m for m in inbox.get("initial_emails", [])}
        self.contacts: list[Record] = list(inbox.get("contact_list", []))
        # the owner's address book, which names people the owner's prompt may call by name
        ledger.contacts.update(
            {str(c.get("email", "")).lower(): str(c.get("name") or "") for c in self.contacts}
        )
        self.events: dict[str, Record] = {e["id_"]: e for e in calendar.get("initial_events", [])}
        self.files: dict[str, Record] = {f["id_"]: f for f in drive.get("initial_files", [])}
        self.today = str(calendar.get("current_day", ""))
        # provenance of content the agent wrote into files during this run (taint travels with it)
        self.content_provenance: dict[str, list[Provenance]] = {}

    # --- reading -----------------------------------------------------------------------------------
    def read(self, name: str, args: dict[str, Any]) -> Any:
        handler = getattr(self, f"_read_{name}", None)
        if handler is None:
            raise ToolError(f"unknown read tool {name}")
        return handler(**args)

    @property
    def contact_addresses(self) -> set[str]:
        return set(self.ledger.contacts)

    def _mails(self, mails: list[Record]) -> list[Record]:
        for mail in mails:
            self.ledger.read(email_segments(mail, self.owner, self.contact_addresses))
            self.ledger.know("email", mail["id_"], mail.get("subject"))
        return mails

    def _events(self, events: list[Record]) -> list[Record]:
        for event in events:
            self.ledger.read(event_segments(event, self.owner))
            self.ledger.know("event", event["id_"], event.get("title"))
        return events

    def _files(self, files: list[Record]) -> list[Record]:
        for file in files:
            self.ledger.read(file_segments(file, self.owner, self.content_provenance.get(file["id_"])))
            self.ledger.know("file", file["id_"], file.get("filename"))
        return files

    def _read_get_unread_emails(self) -> list[Record]:
        unread = [m for m in self.emails.values() if m.get("status") == "received" and not m.get("read")]
        for mail in unread:
            mail["read"] = True
        return self._mails(unread)

    def _by_status(self, status: str) -> list[Record]:
        return self._mails([m for m in self.emails.values() if m.get("status") == status])

    def _read_get_sent_emails(self) -> list[Record]:
        return self._by_status("sent")

    def _read_get_received_emails(self) -> list[Record]:
        return self._by_status("received")

    def _read_get_draft_emails(self) -> list[Record]:
        return self._by_status("draft")

    def _read_search_emails(self, query: str = "", sender: str | None = None) -> list[Record]:
        q = query.lower()
        found = [
            m
            for m in self.emails.values()
            if (not sender or str(m.get("sender", "")).lower() == sender.lower())
            and (q in str(m.get("subject", "")).lower() or q in str(m.get("body", "")).lower())
        ]
        return self._mails(found)

    def _read_search_contacts_by_name(self, query: str) -> list[Record]:
        found = [c for c in self.contacts if query.lower() in str(c.get("name", "")).lower()]
        self.ledger.read(
            [s for c in found for s in owner_data(f"{c.get('name')} {c.get('email')}", "contacts")]
        )
        return found

    def _read_search_contacts_by_email(self, query: str) -> list[Record]:
        found = [c for c in self.contacts if query.lower() in str(c.get("email", "")).lower()]
        self.ledger.read(
            [s for c in found for s in owner_data(f"{c.get('name')} {c.get('email')}", "contacts")]
        )
        return found

    def _read_get_current_day(self) -> str:
        self.ledger.read(owner_data(self.today, "calendar"))
        return self.today

    def _read_search_calendar_events(self, query: str, date: str | None = None) -> list[Record]:
        q = query.lower()
        found = [
            e
            for e in self._live_events()
            if (q in str(e.get("title", "")).lower() or q in str(e.get("description", "")).lower())
            and (not date or str(e.get("start_time", "")).startswith(date))
        ]
        return self._events(found)

    def _read_get_day_calendar_events(self, day: str) -> list[Record]:
        return self._events([e for e in self._live_events() if str(e.get("start_time", "")).startswith(day)])

    def _live_events(self) -> list[Record]:
        return [e for e in self.events.values() if e.get("status") != "canceled"]

    def _read_search_files_by_filename(self, filename: str) -> list[Record]:
        return self._files(
            [f for f in self.files.values() if filename.lower() in str(f.get("filename", "")).lower()]
        )

    def _read_get_file_by_id(self, file_id: str) -> Record:
        return self._files([self._file(file_id)])[0]

    def _read_list_files(self) -> list[Record]:
        return self._files(list(self.files.values()))

    def _read_search_files(self, query: str) -> list[Record]:
        q = query.lower()
        return self._files([f for f in self.files.values() if q in str(f.get("content", "")).lower()])

    # --- writing (only after the policy said run) ----------------------------------------------------
    def apply(self, name: str, args: dict[str, Any], provenance: list[Provenance]) -> Record:
        handler = getattr(self, f"_write_{name}", None)
        if handler is None:
            raise ToolError(f"unknown write tool {name}")
        result = handler(**args)
        if "id_" in result:  # the id of what the owner's own action created is the owner's data
            self.ledger.read(owner_data(str(result["id_"]), f"created:{result['id_']}"))
        if name in _CREATED:
            kind, field = _CREATED[name]
            self.ledger.know(kind, result["id_"], result.get(field))
        self._keep_taint(name, result, provenance)
        return result

    def _next_id(self, records: dict[str, Record]) -> str:
        return str(max((int(k) for k in records if str(k).isdigit()), default=-1) + 1)

    def _write_send_email(
        self,
        recipients: list[str],
        subject: str = "",
        body: str = "",
        attachments: list[Any] | None = None,
        cc: list[str] | None = None,
        bcc: list[str] | None = None,
    ) -> Record:
        mail = {
            "id_": self._next_id(self.emails),
            "sender": self.owner,
            "recipients": list(recipients),
            "cc": list(cc or []),
            "bcc": list(bcc or []),
            "subject": subject,
            "body": body,
            "status": "sent",
            "read": True,
            "timestamp": self.today,
            "attachments": list(attachments or []),
        }
        self.emails[mail["id_"]] = mail
        return mail

    def _write_delete_email(self, email_id: str) -> Record:
        if email_id not in self.emails:
            raise ToolError(f"no email with id {email_id}")
        return self.emails.pop(email_id)

    def _write_create_calendar_event(
        self,
        title: str,
        start_time: str,
        end_time: str,
        description: str = "",
        participants: list[str] | None = None,
        location: str | None = None,
    ) -> Record:
        event = {
            "id_": self._next_id(self.events),
            "title": title,
            "description": description,
            "start_time": start_time,
            "end_time": end_time,
            "location": location,
            "participants": list(participants or []),
            "all_day": False,
            "status": "confirmed",
            "organizer": self.owner,
        }
        self.events[event["id_"]] = event
        return event

    def _event(self, event_id: str) -> Record:
        if event_id not in self.events:
            raise ToolError(f"no event with id {event_id}")
        return self.events[event_id]

    def _write_cancel_calendar_event(self, event_id: str) -> Record:
        event = self._event(event_id)
        event["status"] = "canceled"
        return {"canceled": event_id}

    def _write_reschedule_calendar_event(
        self, event_id: str, new_start_time: str, new_end_time: str | None = None
    ) -> Record:
        event = self._event(event_id)
        if new_end_time is None:
            fmt = "%Y-%m-%dT%H:%M:%S" if "T" in str(event["start_time"]) else "%Y-%m-%d %H:%M"
            length = datetime.strptime(str(event["end_time"]), fmt) - datetime.strptime(
                str(event["start_time"]), fmt
            )
            new_end_time = (datetime.strptime(new_start_time, "%Y-%m-%d %H:%M") + length).strftime(
                "%Y-%m-%d %H:%M"
            )
        event["start_time"], event["end_time"] = new_start_time, new_end_time
        return {"rescheduled": event_id}

    def _write_add_calendar_event_participants(self, event_id: str, participants: list[str]) -> Record:
        event = self._event(event_id)
        event["participants"] = list(event.get("participants", [])) + list(participants)
        return {"updated": event_id}

    def _file(self, file_id: str) -> Record:
        if file_id not in self.files:
            raise ToolError(f"no file with id {file_id}")
        return self.files[file_id]

    def _write_create_file(self, filename: str, content: str) -> Record:
        file = {
            "id_": self._next_id(self.files),
            "filename": filename,
            "content": content,
            "owner": self.owner,
            "last_modified": self.today,
            "shared_with": {},
            "size": len(content),
        }
        self.files[file["id_"]] = file
        return file

    def _write_append_to_file(self, file_id: str, content: str) -> Record:
        file = self._file(file_id)
        file["content"] = str(file.get("content", "")) + content
        file["size"] = len(file["content"])
        return {"appended": file_id}

    def _write_delete_file(self, file_id: str) -> Record:
        return self.files.pop(self._file(file_id)["id_"])

    def _write_share_file(self, file_id: str, email: str, permission: str) -> Record:
        self._file(file_id).setdefault("shared_with", {})[email] = permission
        return {"shared": file_id, "with": email}

    def readers(self, file_id: str) -> list[str]:
        """Everyone but the owner who can read a file: whoever owns it and whoever it is shared with."""
        file = self.files.get(file_id, {})
        return sorted(others([file.get("owner"), *file.get("shared_with", {})], self.owner))

    def _keep_taint(self, name: str, result: Record, provenance: list[Provenance]) -> None:
        """Content the agent wrote into a file keeps the provenance of what it was made from."""
        if name not in ("create_file", "append_to_file"):
            return
        file_id = str(result.get("id_") or result.get("appended"))
        if name == "append_to_file" and file_id not in self.content_provenance:
            self.content_provenance[file_id] = [file_provenance(self.files[file_id], self.owner)]
        self.content_provenance[file_id] = self.content_provenance.get(file_id, []) + provenance
