"""A Django Channels process that writes to a Switchboard room's group.

It group-sends, through channels_redis' RedisChannelLayer, what a Django
project might: the Channels tutorial's chat.message, which the room bot has
no handler for; a room.message whose text is a number, which does not
decode into the bot's type; then a good room.message.

Usage: foreign.py REDIS_URL PREFIX GROUP
"""

import asyncio
import sys

from channels_redis.core import RedisChannelLayer


async def main():
    url, prefix, group = sys.argv[1:4]
    layer = RedisChannelLayer(hosts=[url], prefix=prefix)
    await layer.group_send(group, {"type": "chat.message", "message": "hello from the tutorial"})
    await layer.group_send(group, {"type": "room.message", "room": "lobby", "from": "django",
                                   "protocol": "django", "text": 12345})
    await layer.group_send(group, {"type": "room.message", "room": "lobby", "from": "django",
                                   "protocol": "django", "text": "a good one"})


asyncio.run(main())
