"""A Django Channels process for the claim interoperability test.

It sends to a conversation channel that a Switchboard process claimed,
directly and through a group the channel joined on the Python side.

Usage: conv_peer.py REDIS_URL PREFIX CHANNEL GROUP
"""

import asyncio
import sys

from channels_redis.core import RedisChannelLayer


async def main():
    url, prefix, channel, group = sys.argv[1:5]
    layer = RedisChannelLayer(hosts=[url], prefix=prefix)
    await layer.send(channel, {"type": "py.direct", "text": "to the conversation"})
    await layer.group_add(group, channel)
    await layer.group_send(group, {"type": "py.group", "text": "to the room"})
    await layer.group_discard(group, channel)


asyncio.run(main())
