"""Session state: an event-sourced model, a durable journal, and the store logic."""
