"""Delivering rendered notices: SMTP e-mail and chat webhooks (see `dispatch`)."""
