"""Live updates: an application's timeline as Server-Sent Events, and the broker that wakes
the streams when an Event commits (docs/live.md)."""
