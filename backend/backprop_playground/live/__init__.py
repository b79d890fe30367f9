"""The live server: sessions that train while clients watch and steer.

``registry`` (all sessions of this process), ``session`` (one trainer, its messages and the
trainer work behind each frame), ``runloop`` (stepping while it runs), ``handlers`` and
``classroom`` (what each command does, dispatched through a ``dispatch.CommandTable``),
``codes`` (join codes), ``history`` (the loss curve), ``fanout`` (per-client mailboxes,
rate limiting), ``channels`` (the delivery-channel interface and its local backend),
``redis_channel`` (its Redis backend), ``monitor`` (event-loop lag), ``scheduler`` (the
trainer threads, shared fairly by sessions), ``store`` (the SQLite file sessions survive a
restart in) and ``persistence`` (what of a session is kept, and the saving).
"""
