"""A Django Channels process for the interoperability test.

It talks to Switchboard through channels_redis' RedisChannelLayer: it
sends to a Switchboard channel (process-local and ordinary) and to a group
Switchboard's channels joined, then makes channels of its own, tells the
Go side their names on stdout, and prints what Switchboard sends to them.

Usage: peer.py REDIS_URL PREFIX GO_LOCAL_CHANNEL GO_CHANNEL GO_GROUP
"""

import asyncio
import json
import sys

from channels_redis.core import RedisChannelLayer


def plain(message):
    """Makes a received message printable as JSON."""
    out = {}
    for key, value in message.items():
        if isinstance(value, bytes):
            value = {"bytes": list(value)}
        out[key] = value
    return out


async def main():
    url, prefix, go_local, go_channel, go_group = sys.argv[1:6]
    layer = RedisChannelLayer(hosts=[url], prefix=prefix)

    payload = {"text": "héllo from python", "n": 7, "list": ["a", 1], "bytes": b"\x00\x01"}
    await layer.send(go_local, {"type": "py.direct", **payload})
    await layer.send(go_channel, {"type": "py.direct", **payload})
    await layer.group_send(go_group, {"type": "py.group", "n": 8})

    py_local = await layer.new_channel("py")
    await layer.group_add("pygroup", py_local)
    await layer.group_add("pygroup", "py.plain")
    print(json.dumps({"local": py_local, "plain": "py.plain", "group": "pygroup"}), flush=True)

    received = {"local": [], "plain": []}
    for _ in range(2):
        received["local"].append(plain(await asyncio.wait_for(layer.receive(py_local), 20)))
        received["plain"].append(plain(await asyncio.wait_for(layer.receive("py.plain"), 20)))
    print(json.dumps(received), flush=True)
    await layer.group_discard("pygroup", py_local)
    await layer.group_discard("pygroup", "py.plain")


asyncio.run(main())
