#!/usr/bin/env python3
"""netmiko with and without RouterOS's terminal-size login suffix, on a print longer than the
terminal.

Usage: netmiko_pager_check.py HOST PORT USERNAME PASSWORD

netmiko's `mikrotik_routeros` driver logs in as `USER+ct511w4098h` (4,098 rows: nothing up to
that length is paged) over a PTY of 1,000 rows. A client that forgets the suffix gets the
console's pager after 999 lines. Steps (one JSON line each): `filled` (1,500 address-list
entries added), `plain` (login without the suffix: the output up to the pager prompt, then `q`),
`suffix` (the unmodified driver: the whole print), `done`.

Exit status: 0 when every step ran, 1 on a netmiko error, 3 when netmiko is not installed.
"""

import json
import sys
import time


def emit(step, **fields):
    fields["step"] = step
    print(json.dumps(fields), flush=True)


def main():
    if len(sys.argv) != 5:
        print("usage: netmiko_pager_check.py HOST PORT USERNAME PASSWORD", file=sys.stderr)
        return 2
    host, port, username, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    try:
        from netmiko import ConnectHandler
        from netmiko.mikrotik.mikrotik_ssh import MikrotikRouterOsSSH
    except ImportError:
        print("netmiko is not importable (pip install netmiko)", file=sys.stderr)
        return 3

    class NoSuffix(MikrotikRouterOsSSH):
        """The driver as a client that forgets the login suffix would behave."""

        def _modify_connection_params(self):
            pass

    params = dict(host=host, port=port, username=username, password=password,
                  ssh_config_file=None, allow_agent=False, use_keys=False, timeout=20,
                  conn_timeout=20, auth_timeout=20, banner_timeout=20, fast_cli=False)
    command = "/ip firewall address-list print where list=bulk"

    conn = ConnectHandler(device_type="mikrotik_routeros", **params)
    try:
        conn.send_command(
            ':for i from=1 to=1500 do={/ip firewall address-list add list=bulk '
            'address=("10.77." . ($i / 200) . "." . ($i % 200 + 1))}', read_timeout=120)
        emit("filled", count=conn.send_command("/ip firewall address-list print count-only where list=bulk"))
    finally:
        conn.disconnect()

    plain = NoSuffix(device_type="mikrotik_routeros", **params)
    try:
        plain.write_channel(command + "\r\n")
        out = ""
        deadline = time.monotonic() + 60
        while "-- [Q quit|D dump|down]" not in out and time.monotonic() < deadline:
            time.sleep(0.2)
            out += plain.read_channel()
        paged = "-- [Q quit|D dump|down]" in out
        # The console waits: nothing more arrives until a key is pressed.
        time.sleep(1.5)
        waiting = plain.read_channel()
        plain.write_channel("q")
        after = ""
        deadline = time.monotonic() + 20
        while "] >" not in after and time.monotonic() < deadline:
            time.sleep(0.2)
            after += plain.read_channel()
        emit("plain", paged=paged, lines=out.count("\n"), waiting=waiting,
             after_quit=after, tail=out[-200:])
    finally:
        plain.disconnect()

    conn = ConnectHandler(device_type="mikrotik_routeros", **params)
    try:
        out = conn.send_command(command, read_timeout=60)
        emit("suffix", paged="-- [Q quit|D dump|down]" in out, lines=out.count("\n"))
    finally:
        conn.disconnect()
    emit("done")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:
        emit("exception", kind=type(exc).__name__, message=str(exc))
        sys.exit(1)
