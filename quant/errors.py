"""Errors a user can fix. The CLI prints their message on one line and exits non-zero."""


class UserError(Exception):
    exit_code = 1
