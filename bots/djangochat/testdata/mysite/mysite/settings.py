"""Settings of the Django Channels tutorial's site, as the test runs it.

The channel layer is the tutorial's channels_redis layer; the test names
its Redis servers and its key prefix in the environment:
SWITCHBOARD_CHANNEL_HOSTS (a JSON list of redis:// URLs, one per shard)
and SWITCHBOARD_CHANNEL_PREFIX.
"""

import json
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "only-for-the-switchboard-test"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "daphne",
    "chat",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
]

ROOT_URLCONF = "mysite.urls"
ASGI_APPLICATION = "mysite.asgi.application"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": json.loads(os.environ["SWITCHBOARD_CHANNEL_HOSTS"]),
            "prefix": os.environ["SWITCHBOARD_CHANNEL_PREFIX"],
        },
    },
}
