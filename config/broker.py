"""The Redis broker transport, guarded against one crash of kombu 5.7's worker on reconnect.

When Redis goes away under load, the worker's consumer closes the broken connection and then
restores the messages it had been handed but not yet acknowledged ("Restoring N unacknowledged
message(s)"). If that restore runs after kombu has already detached the transport from its
connection (`transport.client = None`, done by `Connection._do_close_transport`), building
a Redis client raises `AttributeError: 'NoneType' object has no attribute 'hostname'`. That
is not a connection error, so Celery does not retry: the worker stops ("Unrecoverable
error") and stays down.

The guard: when the transport has no connection left, the restore is skipped with a warning
instead of raised. Nothing is lost by skipping it: those messages are still in Redis'
`unacked` hash, and kombu puts them back in their queue once `visibility_timeout` has passed
(`CELERY_BROKER_TRANSPORT_OPTIONS`); and every task of ours is idempotent with a periodic
catch-up (notifications: the sweeper finds the rows those messages would have sent). A restore
that fails because Redis is still down is likewise left to the visibility timeout.

Selected by `CELERY_BROKER_TRANSPORT` for redis:// brokers (config/settings/base.py).
"""

import logging

from kombu.transport import redis

logger = logging.getLogger(__name__)


class GuardedQoS(redis.QoS):
    def restore_unacked(self, client=None):
        transport = self.channel.connection
        if client is None and (transport is None or transport.client is None):
            logger.warning(
                "broker connection already closed: %d unacknowledged message(s) left for "
                "Redis to redeliver after the visibility timeout",
                len(self._delivered),
            )
            self._delivered.clear()
            return
        try:
            super().restore_unacked(client)
        except (AttributeError, *redis.get_redis_error_classes().connection_errors):
            logger.warning(
                "could not restore %d unacknowledged message(s) (broker unreachable); Redis "
                "redelivers them after the visibility timeout",
                len(self._delivered),
                exc_info=True,
            )
            self._delivered.clear()


class GuardedChannel(redis.Channel):
    QoS = GuardedQoS


class GuardedRedisTransport(redis.Transport):
    Channel = GuardedChannel
