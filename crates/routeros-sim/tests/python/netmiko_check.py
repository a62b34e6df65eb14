#!/usr/bin/env python3
"""Drive a simulated RouterOS device with netmiko's unmodified `mikrotik_routeros` driver.

Usage: netmiko_check.py HOST PORT USERNAME PASSWORD

Connects, finds the prompt, runs two read commands, makes one configuration change with
send_config_set, reads it back and disconnects. Each step prints one JSON line
({"step": ..., ...}) so the calling test can assert on exactly what netmiko saw.

Exit status: 0 when every step ran, 1 on a netmiko error, 3 when netmiko is not installed
(the calling test decides whether that is a skip or a failure).
"""

import json
import sys


def emit(step, **fields):
    fields["step"] = step
    print(json.dumps(fields), flush=True)


def main():
    if len(sys.argv) != 5:
        print("usage: netmiko_check.py HOST PORT USERNAME PASSWORD", file=sys.stderr)
        return 2
    host, port, username, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    try:
        from netmiko import ConnectHandler
    except ImportError:
        print("netmiko is not importable (pip install netmiko)", file=sys.stderr)
        return 3

    conn = ConnectHandler(
        device_type="mikrotik_routeros",
        host=host,
        port=port,
        username=username,
        password=password,
        # The simulator's host key is generated per run; nothing to pin here.
        ssh_config_file=None,
        allow_agent=False,
        use_keys=False,
        timeout=20,
        conn_timeout=20,
        auth_timeout=20,
        banner_timeout=20,
        fast_cli=False,
    )
    try:
        emit("prompt", prompt=conn.find_prompt())
        emit("identity", output=conn.send_command("/system identity print"))
        emit("addresses", output=conn.send_command("/ip address print"))
        change = conn.send_config_set(
            ["/ip address add address=192.0.2.1/24 interface=ether2 comment=netmiko"]
        )
        emit("config", output=change)
        emit(
            "readback",
            output=conn.send_command("/ip address print terse where comment=netmiko"),
        )
        emit("error", output=conn.send_command("/ip address add address=192.0.2.1/24 interface=ether2"))
    finally:
        conn.disconnect()
    emit("done")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:  # report netmiko failures as one line the test can show
        emit("exception", kind=type(exc).__name__, message=str(exc))
        sys.exit(1)
