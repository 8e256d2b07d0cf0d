"""config/broker.py: restoring unacknowledged messages on a connection kombu has already
detached does not crash the worker (kombu 5.7 raised AttributeError 'hostname' there); the
messages stay in Redis' unacked set, for Redis to redeliver after the visibility timeout."""

import pytest
from kombu import Connection
from kombu.transport import redis as kombu_redis

from config.broker import GuardedRedisTransport
from testkit.private_redis import private_redis

pytestmark = pytest.mark.fault


def _detached_channel_holding_a_message(redis_url: str, transport):
    """A channel that was handed one message and whose transport was then detached from its
    connection (`Connection._do_close_transport`, as `Connection.collect` does after a failed
    close of the broken connection's channels) while the channel itself is still to close."""
    connection = Connection(redis_url, transport=transport)
    channel = connection.channel()
    queue = connection.SimpleQueue("guard-test", channel=channel)
    queue.put({"n": 1})
    message = queue.get(timeout=5)
    assert message.delivery_tag in channel.qos._delivered
    connection._do_close_transport()  # transport.client = None, the channel still open
    return channel


def test_unguarded_kombu_crashes_where_the_guard_leaves_the_message_in_redis():
    with private_redis() as redis:
        unguarded = _detached_channel_holding_a_message(redis.url, kombu_redis.Transport)
        with pytest.raises(AttributeError, match="hostname"):
            unguarded.close()  # drops its Redis pool, then restores: a new pool needs the host

        guarded = _detached_channel_holding_a_message(redis.url, GuardedRedisTransport)
        guarded.close()  # no exception: logged, left to Redis

        # Both messages are still in Redis' unacked hash, to be redelivered.
        client = kombu_redis.redis.Redis.from_url(redis.url)
        assert client.hlen("unacked") == 2
