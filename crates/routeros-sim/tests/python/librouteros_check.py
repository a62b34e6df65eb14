#!/usr/bin/env python3
"""Drive a simulated RouterOS device with the unmodified `librouteros` API client.

Usage: librouteros_check.py HOST API_PORT API_SSL_PORT TLS_SHA256 USERNAME PASSWORD

Over the plain API (API_PORT) and then over TLS (API_SSL_PORT, the certificate pinned by its
SHA-256): log in, print, add an address, set its comment, select it with a `?#|` query, add a
second address and remove it, and provoke a trap. Then try a wrong password. Each step prints
one JSON line ({"step": ..., ...}) so the calling test can assert on exactly what librouteros
saw; the test then checks the changes over REST.

Exit status: 0 when every step ran, 1 on an unexpected error, 3 when librouteros is not
installed.
"""

import hashlib
import json
import ssl
import sys


def emit(step, **fields):
    fields["step"] = step
    print(json.dumps(fields), flush=True)


def exercise(api, label, octet, spare):
    from librouteros.exceptions import TrapError
    from librouteros.query import Key, Or

    identity = list(api.path("system", "identity"))
    emit(f"{label}-identity", rows=identity)
    addresses = api.path("ip", "address")
    before = [dict(r) for r in addresses]
    emit(f"{label}-print", count=len(before), ids=[r[".id"] for r in before])

    new_id = addresses.add(address=f"192.0.2.{octet}/24", interface="ether2", comment=label)
    addresses.update(**{".id": new_id, "comment": f"{label}-set"})
    emit(f"{label}-add-set", id=new_id)

    interface, address, comment = Key("interface"), Key("address"), Key("comment")
    selected = list(
        addresses.select(address, comment).where(Or(interface == "ether2", interface == "bridge"))
    )
    emit(f"{label}-query", rows=selected)

    spare_id = addresses.add(address=f"192.0.2.{spare}/24", interface="ether2")
    addresses.remove(spare_id)
    gone = list(addresses.select(address).where(address == f"192.0.2.{spare}/24"))
    emit(f"{label}-remove", id=spare_id, rows=gone)

    try:
        addresses.add(address=f"192.0.2.{octet}/24", interface="ether2")
        emit(f"{label}-trap", message=None)
    except TrapError as e:
        emit(f"{label}-trap", message=e.message)


def main():
    if len(sys.argv) != 7:
        print(
            "usage: librouteros_check.py HOST API_PORT API_SSL_PORT TLS_SHA256 USERNAME PASSWORD",
            file=sys.stderr,
        )
        return 2
    host, port, ssl_port, pin, username, password = sys.argv[1:]
    try:
        import librouteros
        from librouteros.exceptions import TrapError
    except ImportError as e:
        print(f"librouteros is not importable: {e}", file=sys.stderr)
        return 3

    plain = librouteros.connect(host, username, password, port=int(port), timeout=10)
    emit("plain-login")
    exercise(plain, "plain", 1, 9)
    plain.close()

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # pinned below instead

    def pinned(sock):
        wrapped = context.wrap_socket(sock)
        got = hashlib.sha256(wrapped.getpeercert(binary_form=True)).hexdigest()
        if got != pin:
            raise RuntimeError(f"certificate {got} is not the pinned {pin}")
        return wrapped

    secure = librouteros.connect(
        host, username, password, port=int(ssl_port), timeout=10, ssl_wrapper=pinned
    )
    emit("tls-login")
    exercise(secure, "tls", 2, 8)
    secure.close()

    try:
        librouteros.connect(host, username, password + "-wrong", port=int(port), timeout=10)
        emit("bad-password", message=None)
    except TrapError as e:
        emit("bad-password", message=e.message)
    emit("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
