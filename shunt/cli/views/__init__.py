"""PURE text views for the CLI: JSON from the control API in, text for the terminal out."""

from shunt.cli.views.ps_view import PS_COLUMNS as PS_COLUMNS
from shunt.cli.views.ps_view import render_ps as render_ps
from shunt.cli.views.status_view import render_status as render_status
