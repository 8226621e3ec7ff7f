"""The sign-in pages' forms (Flask-WTF): each carries the session's CSRF token, checked on submit.

Labels and messages are in the templates and views (``_()``), not here: a form is built per
request, and its words are the page's language.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, StringField
from wtforms.validators import DataRequired, Length

from queue_board.core.staff import MAX_PASSWORD_LENGTH, MAX_USERNAME_LENGTH


class LoginForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF's base class is untyped
    """User name and password."""

    username = StringField(validators=[DataRequired(), Length(max=MAX_USERNAME_LENGTH + 20)])
    password = PasswordField(validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])


class LogoutForm(FlaskForm):  # type: ignore[misc]
    """Nothing but the CSRF token: signing out is a POST no other site can make you send."""


class CounterForm(FlaskForm):  # type: ignore[misc]
    """The counter a teller works at today, among their branch's counters (set per request)."""

    counter = RadioField(validators=[DataRequired()], choices=[])
