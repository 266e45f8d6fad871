"""Dashboard pages: one script per watch, registered in app.py; they only display."""
