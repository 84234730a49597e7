"""The app's own pages: /health, the status page, and the /setup manifest flow."""
