"""HTTP routes and the WebSocket endpoint (thin: the work is in sessions and the trainer)."""
