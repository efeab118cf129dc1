"""Calendar errors meant for users: each says what is wrong in one line."""

from persona.errors import PersonaError


class CalendarError(PersonaError):
    """A calendar operation failed in a way the user can act on."""


class InvalidICS(CalendarError):
    """An .ics file or invitation could not be parsed; the message names the line and the problem."""


class EventNotFound(CalendarError):
    """No event with the given UID in this calendar."""

    http_status = 404


class CalendarUnavailable(CalendarError):
    """The calendar server is unreachable or refused the login."""

    http_status = 502  # the request was fine; the calendar server behind it failed
