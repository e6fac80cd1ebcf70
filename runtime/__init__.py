"""What lives as long as the process, below the GraphQL layers: settings (`config`), token and
password security, the payment gateway sandbox, metrics, push senders, single sign-on clients,
real time (broker, outbox publisher, subscription streams), the `Services` bundle and the
per-request `Context`. The edge (portal/) starts it; schema/, resolvers/ and use cases use it.
"""
