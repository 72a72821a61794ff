"""A real Mosquitto broker for tests (on 127.0.0.1, an ephemeral port, a config file the test
writes), a subscriber that keeps every Sparkplug message, and the Sparkplug schema compiled
by Debian's protoc apart from padctl's code (tests/data/sparkplug_b.proto)."""

from __future__ import annotations

import asyncio
import collections
import getpass
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

PROTO = Path(__file__).resolve().parent / "data" / "sparkplug_b.proto"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Broker:
    """One mosquitto process; `stop`, `start` (same port), `pause` and `resume` it."""

    def __init__(self, folder: Path, *, users: dict[str, str] | None = None) -> None:
        """With `users` (name: password): TLS on a certificate made here (`self.ca_file`),
        and only those users may connect."""
        self.port = free_port()
        self.config = folder / "mosquitto.conf"
        self.log = folder / "mosquitto.log"
        self.ca_file: Path | None = None
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"user {getpass.getuser()}",  # as root, mosquitto would drop to a user of its own
            "persistence false",
            "log_dest stderr",  # into self.log (start)
        ]
        if users is None:
            lines.append("allow_anonymous true")
        else:
            key, self.ca_file = folder / "broker.key", folder / "broker.crt"
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                 "-keyout", str(key), "-out", str(self.ca_file), "-subj", "/CN=127.0.0.1",
                 "-addext", "subjectAltName=IP:127.0.0.1"],
                check=True, capture_output=True,
            )  # fmt: skip
            passwords = folder / "passwd"
            passwords.touch(mode=0o600)
            for name, password in users.items():
                subprocess.run(
                    ["mosquitto_passwd", "-b", str(passwords), name, password], check=True
                )
            lines += [
                "allow_anonymous false",
                f"password_file {passwords}",
                f"cafile {self.ca_file}",
                f"certfile {self.ca_file}",
                f"keyfile {key}",
            ]
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 10.0) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [MOSQUITTO, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = self.log.read_text(encoding="utf-8") if self.log.exists() else ""
                    raise RuntimeError(f"mosquitto did not listen on {self.port}: {log}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGCONT)
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@contextmanager
def running_broker(folder: Path, *, users: dict[str, str] | None = None) -> Iterator[Broker]:
    broker = Broker(folder, users=users)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def compiled_schema(folder: Path) -> ModuleType:
    """tests/data/sparkplug_b.proto compiled by protoc into `folder`, imported."""
    subprocess.run(
        ["protoc", f"--proto_path={PROTO.parent}", f"--python_out={folder}", PROTO.name],
        check=True,
    )
    name = "independent_sparkplug_b_pb2"
    spec = importlib.util.spec_from_file_location(name, folder / "sparkplug_b_pb2.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


@dataclass
class Message:
    topic: str
    payload: Any  # decoded by the independent schema
    kind: str = ""
    device: str | None = None

    def __post_init__(self) -> None:
        parts = self.topic.split("/")
        self.kind = parts[2]
        self.device = parts[4] if len(parts) > 4 else None

    def metrics(self) -> dict[str, Any]:
        return {metric.name: metric for metric in self.payload.metrics}

    def properties(self, metric: Any) -> dict[str, Any]:
        props = metric.properties
        return {
            key: getattr(value, value.WhichOneof("value"))
            for key, value in zip(props.keys, props.values, strict=True)
        }


@dataclass
class Subscriber:
    """A test MQTT client on `spBv1.0/#` keeping every message, decoded independently."""

    port: int
    schema: ModuleType
    ca_file: Path | None = None  # TLS, with this user and password
    login: tuple[str, str] | None = None
    messages: list[Message] = field(default_factory=list)
    _condition: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{os.getpid()}")
        if self.ca_file is not None:
            self.client.tls_set(ca_certs=str(self.ca_file))
        if self.login is not None:
            self.client.username_pw_set(*self.login)
        self.client.on_connect = lambda client, *_: client.subscribe("spBv1.0/#", qos=0)
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)

    def _on_message(self, _client: Any, _userdata: Any, message: Any) -> None:
        try:
            decoded = self.schema.Payload.FromString(message.payload)
        except Exception:
            decoded = self.schema.Payload()
        with self._condition:
            self.messages.append(Message(message.topic, decoded))
            self._condition.notify_all()

    def __enter__(self) -> Subscriber:
        self.client.connect("127.0.0.1", self.port, keepalive=5)
        self.client.loop_start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(timeout=5)

    def wait(
        self, predicate: Callable[[list[Message]], bool], timeout_s: float = 15.0
    ) -> list[Message]:
        """Every message so far, once `predicate(messages)` holds (AssertionError if not)."""
        deadline = time.monotonic() + timeout_s
        with self._condition:
            while not predicate(self.messages):
                left = deadline - time.monotonic()
                if left <= 0:
                    kinds = collections.Counter(m.kind for m in self.messages)
                    last = [(m.kind, m.device) for m in self.messages[-5:]]
                    raise AssertionError(
                        f"no such messages within {timeout_s} s; seen {dict(kinds)}, last {last}"
                    )
                self._condition.wait(min(left, 0.1))
            return list(self.messages)

    def since(self, index: int) -> list[Message]:
        with self._condition:
            return self.messages[index:]


async def until_seen(
    subscriber: Subscriber, predicate: Callable[[list[Message]], bool], timeout_s: float = 20.0
) -> list[Message]:
    """`Subscriber.wait` from a coroutine: the loop goes on while the messages come."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return subscriber.wait(predicate, timeout_s=0)
        except AssertionError:
            if time.monotonic() > deadline:
                return subscriber.wait(predicate, timeout_s=0)  # raises, naming the last ones
            await asyncio.sleep(0.02)
