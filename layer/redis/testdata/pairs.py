"""Send and receive pairs through channels_redis, for counting its commands.

It warms up (the receive script is loaded on first use), resets the
server's command statistics, then sends a message to one channel and
receives it, N times; the Go test reads INFO commandstats afterwards.

Usage: pairs.py REDIS_URL N
"""

import asyncio
import sys

import redis
from channels_redis.core import RedisChannelLayer


async def main():
    url, n = sys.argv[1], int(sys.argv[2])
    layer = RedisChannelLayer(hosts=[url], prefix="pairs")
    await layer.send("warm", {"type": "chat.message", "text": "hello"})
    await layer.receive("warm")
    redis.Redis.from_url(url).config_resetstat()
    for _ in range(n):
        await layer.send("cps", {"type": "chat.message", "text": "hello"})
        await layer.receive("cps")


asyncio.run(main())
