"""Real time: the outbox publisher, the broker, and the subscription streams (DESIGN section 5).

Modules: `settings` (configuration), `broker` (in-process and Redis pub/sub), `publisher`
(drains the outbox after commits), `streams` (what each subscription delivers), `sockets`
(WebSocket authentication and caps), `runtime` (the process-wide object the app starts).
"""
