"""Domain errors that services raise and the API maps to status codes. Field errors are Django's
ValidationError (400); a missing power is Django's PermissionDenied (403)."""


class Conflict(Exception):
    """The request is well formed but not allowed in the current state (409)."""

    def __init__(self, message, *, details=None):
        super().__init__(message)
        self.message = message
        self.details = details
