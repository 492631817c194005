"""A Django Channels process driven line by line, for the interop matrix.

Each line on stdin is a JSON command for channels_redis' RedisChannelLayer,
and each gets one JSON line on stdout: {"ok": ...} or {"error": "..."}.

  {"op": "new_channel", "prefix": P}           -> the name
  {"op": "send", "channel": C, "message": M}
  {"op": "group_send", "group": G, "message": M}
  {"op": "group_add", "group": G, "channel": C}
  {"op": "receive", "channel": C, "timeout": S} -> the message
  {"op": "hash", "name": N}                     -> consistent_hash(N)
  {"op": "send_raw", "channel": C, "hex": H}    -> stores bytes H as a message

A plain channel is read by channels_redis round robin over the servers;
"receive" points the round robin at the server that channels_redis' own
group send writes the channel to, consistent_hash(C), and reads there.

Usage: matrix.py PREFIX REDIS_URL...
"""

import asyncio
import itertools
import json
import random
import sys
import time

from channels_redis.core import RedisChannelLayer


def printable(value):
    if isinstance(value, bytes):
        return {"bytes": list(value)}
    if isinstance(value, dict):
        return {k: printable(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return [printable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return {"python": repr(value)}


async def run(layer, cmd):
    op = cmd["op"]
    if op == "new_channel":
        return await layer.new_channel(cmd["prefix"])
    if op == "send":
        return await layer.send(cmd["channel"], cmd["message"])
    if op == "group_send":
        return await layer.group_send(cmd["group"], cmd["message"])
    if op == "group_add":
        return await layer.group_add(cmd["group"], cmd["channel"])
    if op == "hash":
        return layer.consistent_hash(cmd["name"])
    if op == "receive":
        channel = cmd["channel"]
        if "!" not in channel:
            at = layer.consistent_hash(channel)
            layer._receive_index_generator = itertools.chain(
                [at], itertools.cycle(range(layer.ring_size))
            )
        message = await asyncio.wait_for(layer.receive(channel), cmd["timeout"])
        return printable(message)
    if op == "send_raw":
        # What a sender that skipped the checks would store: the member as
        # channels_redis' serialize() lays it out, on the channel's server.
        channel = cmd["channel"]
        key = layer.prefix + channel
        member = random.getrandbits(96).to_bytes(12, "big") + bytes.fromhex(cmd["hex"])
        conn = layer.connection(layer.consistent_hash(channel))
        await conn.zadd(key, {member: time.time()})
        await conn.expire(key, 60)
        return None
    raise ValueError(f"unknown op {op!r}")


async def main():
    prefix, urls = sys.argv[1], sys.argv[2:]
    layer = RedisChannelLayer(hosts=urls, prefix=prefix)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        try:
            out = {"ok": await run(layer, json.loads(line))}
        except Exception as e:  # reported to the Go side, which decides
            out = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(out), flush=True)
    await layer.close_pools()


asyncio.run(main())
