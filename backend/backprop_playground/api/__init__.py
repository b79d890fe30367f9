"""HTTP routes and the WebSocket endpoint (thin: the work is in live/ and the trainer)."""
