#!/usr/bin/env python3
"""Parse the simulator's console output with the RouterOS templates of ntc-templates (TextFSM).

Usage: ntc_templates_check.py HOME_HOST HOME_PORT EDGE_HOST EDGE_PORT USERNAME PASSWORD

Every RouterOS 7 command that a `mikrotik_routeros` template of the `ntc-templates` package
covers is listed in COMMANDS below. Each runs over SSH (exec request, logged in with netmiko's
`+ct511w4098h` login suffix so nothing wraps) on the `home` or `edge` device, and its output is
parsed with the template's TextFSM file, exactly as `netmiko.send_command(use_textfsm=True)`
would. A command PARSES when the template raises no error, gives at least one record, every
record has a value in each of the command's key fields, and — where a count command is given —
there is one record per item the device counts.

Commands whose menu the simulator does not have are listed too (absent=True): for them the
check is that the device answers `bad command name`, so a menu added later turns into a
failure here until its command is checked like the others.

Each command prints one JSON line; the last line is a summary. Exit status: 0 when the script
ran (the calling test judges the results), 3 when textfsm or ntc-templates is not installed.
"""

import json
import os
import re
import sys

# (command, template file, key fields, count command, device, absent)
COMMANDS = [
    ("/interface bonding print detail", "interface_bonding_print_detail", ["ID", "NAME"], None, "home", True),
    ("/interface bridge host print terse without-paging", "interface_bridge_host_print_terse_without-paging", ["MAC_ADDRESS"], None, "home", True),
    ("/interface ethernet monitor ether1 once", "interface_ethernet_monitor_name_once", ["NAME", "STATUS"], None, "home", True),
    ("/interface ethernet poe print without-paging", "interface_ethernet_poe_print_without-paging", ["INTERFACE"], None, "home", True),
    ("/interface ethernet print", "interface_ethernet_print", ["ID", "NAME", "MAC_ADDRESS"], "/interface ethernet print count-only", "home", False),
    ("/interface lte apn print terse", "interface_lte_apn_print_terse", ["NAME"], None, "home", True),
    ("/interface print brief", "interface_print_brief", ["ID", "NAME", "TYPE"], "/interface print count-only", "home", False),
    ("/interface print detail", "interface_print_detail", ["ID", "NAME", "TYPE", "MTU"], "/interface print count-only", "home", False),
    ("/interface print terse without-paging", "interface_print_terse_without-paging", ["ID", "NAME", "TYPE"], "/interface print count-only", "home", False),
    ("/interface vlan print detail", "interface_vlan_print_detail", ["ID", "NAME", "VLAN_ID", "PARENT_INTERFACE"], "/interface vlan print count-only", "edge", False),
    ("/interface wireguard peers print terse without-paging", "interface_wireguard_peers_print_terse_without-paging", ["INDEX", "INTERFACE", "PUBLIC_KEY", "ALLOWED_ADDRESS"], "/interface wireguard peers print count-only", "home", False),
    ("/interface wireguard print terse without-paging", "interface_wireguard_print_terse_without-paging", ["INDEX", "NAME", "LISTEN_PORT", "PUBLIC_KEY"], "/interface wireguard print count-only", "home", False),
    ("/ip address export verbose", "ip_address_export_verbose", ["IP", "MASK", "INTERFACE"], "/ip address print count-only where !dynamic", "home", False),
    ("/ip address print", "ip_address_print", ["NUM", "IP", "INTERFACE"], "/ip address print count-only", "home", False),
    ("/ip arp print", "ip_arp_print", ["NUM", "IP_ADDRESS", "INTERFACE"], "/ip arp print count-only", "home", False),
    ("/ip arp print terse without-paging", "ip_arp_print_terse_without-paging", ["INDEX", "ADDRESS", "INTERFACE"], "/ip arp print count-only", "home", False),
    ("/ip arp print without-paging", "ip_arp_print_without-paging", ["INDEX", "IP_ADDRESS", "INTERFACE"], "/ip arp print count-only", "home", False),
    ("/ip dhcp-server lease print", "ip_dhcp-server_lease_print", ["NUMBER", "ADDRESS", "SERVER"], "/ip dhcp-server lease print count-only", "home", False),
    ("/ip dhcp-server lease print terse without-paging", "ip_dhcp-server_lease_print_terse_without-paging", ["INDEX", "ADDRESS", "SERVER", "STATUS"], "/ip dhcp-server lease print count-only", "home", False),
    ("/ip dhcp-server lease print without-paging", "ip_dhcp-server_lease_print_without-paging", ["INDEX", "IP_ADDRESS", "SERVER"], "/ip dhcp-server lease print count-only", "home", False),
    ("/ip dns cache print terse without-paging", "ip_dns_cache_print_terse_without-paging", ["NAME"], None, "home", True),
    ("/ip firewall address-list print terse", "ip_firewall_address-list_print_terse", ["INDEX", "LIST"], "/ip firewall address-list print count-only", "home", False),
    ("/ip firewall connection print terse without-paging", "ip_firewall_connection_print_terse_without-paging", ["INDEX", "PROTOCOL", "SOURCE_ADDRESS", "DESTINATION_ADDRESS"], "/ip firewall connection print count-only", "edge", False),
    ("/ip firewall filter print all without-paging", "ip_firewall_filter_print_all_without-paging", ["INDEX", "CHAIN"], "/ip firewall filter print count-only", "home", False),
    ("/ip firewall nat print all without-paging", "ip_firewall_nat_print_all_without-paging", ["INDEX", "CHAIN"], "/ip firewall nat print count-only", "home", False),
    ("/ip hotspot ip-binding print terse without-paging", "ip_hotspot_ip-binding_print_terse_without-paging", ["INDEX"], None, "home", True),
    ("/ip neighbor print detail", "ip_neighbor_print_detail", ["NUMBER", "INTERFACE", "MAC_ADDRESS", "IDENTITY"], "/ip neighbor print count-only", "edge", False),
    ("/ip route print detail", "ip_route_print_detail", ["NUMBER", "NETWORK", "GATEWAY"], "/ip route print count-only", "home", False),
    ("/ip route print terse", "ip_route_print_terse", ["FLAGS", "DST_ADDRESS", "GATEWAY"], "/ip route print count-only", "home", False),
    ("/ip route print terse without-paging", "ip_route_print_terse_without-paging", ["FLAGS", "DESTINATION_ADDRESS", "GATEWAY"], "/ip route print count-only", "home", False),
    ("/ipv6 neighbor print without-paging", "ipv6_neighbor_print_without-paging", ["INDEX", "IPV6_ADDRESS"], "/ipv6 neighbor print count-only", "home", False),
    ("/log print detail without-paging", "log_print_detail_without-paging", ["TOPIC", "MESSAGE"], "/log print count-only", "home", False),
    ("/ping 192.168.88.1 count=3", "ping", ["SEQ", "HOST"], None, "home", False),
    ("/routing ospf interface print terse", "routing_ospf_interface_print_terse", ["INTERFACE"], None, "edge", False),
    ("/routing ospf neighbor print", "routing_ospf_neighbor_print", ["NEIGHBOR_ID", "ADDRESS", "INTERFACE", "STATE"], "/routing ospf neighbor print count-only", "edge", False),
    ("/routing ospf neighbor print terse without-paging", "routing_ospf_neighbor_print_terse_without-paging", ["INDEX", "ADDRESS", "INTERFACE", "STATE"], "/routing ospf neighbor print count-only", "edge", False),
    ("/snmp community print without-paging", "snmp_community_print_without-paging", ["INDEX", "NAME"], "/snmp community print count-only", "home", False),
    ("/system clock print", "system_clock_print", ["TIME", "DATE", "TIME_ZONE_NAME"], None, "home", False),
    ("/system identity print", "system_identity_print", ["NAME"], None, "home", False),
    ("/system resource print", "system_resource_print", ["UPTIME", "VERSION", "FREE_MEMORY", "CPU_LOAD", "BOARD_NAME"], None, "home", False),
    ("/system routerboard print", "system_routerboard_print", ["BOARD_NAME", "HARDWARE_MODEL", "SERIAL_NUMBER"], None, "home", False),
    ("/tool speed-test address=192.168.88.1", "tool_speed-test_address", ["ADDRESS", "STATUS"], None, "home", True),
    ("/user active print", "user_active_print", ["ID", "NAME", "VIA"], None, "home", False),
    ("/user print", "user_print", ["ID", "NAME", "GROUP"], "/user print count-only", "home", False),
]
# Why a template cannot parse faithful RouterOS 7 output (the simulator's console follows the
# 7.x captures in routeros-fixtures/cli and the 7.x test data of ntc-templates itself). Every
# checked command that does not parse must be listed here; the calling test enforces it.
REASONS = {
    "/interface print brief": "v6 layout: expects the legend 'D - dynamic, X - disabled, R - running, S - slave' and a header without the 'Columns:' line; 7.x prints 'Flags: R - RUNNING; S - SLAVE' and 'Columns: …'",
    "/interface print detail": "needs l2mtu= and mac-address= on every row that has ifname=; 7.x interfaces without layer 2 (WireGuard, PPPoE: row 18 pppoe-out1 of the v7 capture) then give an empty NAME",
    "/interface wireguard print terse without-paging": "allows nothing between the flags and name=; 7.x terse prints comment= first (v7 interface terse capture), and the home profile's WireGuard interface has a comment",
    "/ip address export verbose": "expects each add on one line with a quoted comment; RouterOS wraps export lines near 80 columns with ' \\' and quotes a comment only when it needs quoting",
    "/ip arp print": "v6 layout: fixed six-flag legend and no 'Columns:' line or STATUS column, both of which 7.x prints",
    "/ip arp print terse without-paging": "v6 layout: contiguous flags and published= last; 7.x prints positional flag cells ('HD C') and status=",
    "/ip dhcp-server lease print": "has no rule for the ';;; comment' line 7.x prints above a commented lease (the home profile's static leases have comments)",
    "/ip dhcp-server lease print without-paging": "v6 layout: RATE-LIMIT column and no 'Columns:' line",
    "/ip firewall address-list print terse": "allows nothing between the index and list=; 7.x terse prints comment= first and the profile's block-list entries have comments",
    "/ip route print detail": "v6 layout: expects the v6 route legend 'X - disabled, A - active, D - dynamic, C - connect, S - static, r - rip …'",
    "/ip route print terse": "flag set lacks 7.x's lower-case s (static), so every static route fails",
    "/ip route print terse without-paging": "v6 layout: four flag characters after a mandatory index; 7.x dynamic routes have no number",
    "/log print detail without-paging": "v6 dates (jul/19 14:27:01) and no item number; 7.10+ prints ISO dates",
    "/ping 192.168.88.1 count=3": "accepts whole milliseconds only (157ms); 7.x prints times such as 46us and 12ms389us",
    "/ipv6 neighbor print without-paging": "expects key=value rows (address= interface= status=\"…\") after the Flags line; a 7.x plain print is a table under 'Columns: ADDRESS, INTERFACE, MAC-ADDRESS, STATUS'",
    "/routing ospf neighbor print": "v6 layout: expects detail-style router-id=… state=\"Full\" adjacency=… rows; 7.x prints a table under 'Columns: INSTANCE, AREA, ADDRESS, ROUTER-ID, STATE, STATE-CHANGES'",
    "/routing ospf neighbor print terse without-paging": "v6 layout: instance= router-id= address= interface= then dr-address=/backup-dr-address=/ls-retransmits=/db-summaries= (v6 names, the instance named default as v6 names it) and no area=; 7.x neighbours print instance= area= address= router-id= with dr=/bdr=",
    "/user active print": "v6 layout: expects the legend 'Flags: R - radius, M - by-romon' and a header without 'Columns:'; 7.x prints 'Columns: WHEN, NAME, ADDRESS, VIA'",
    "/snmp community print without-paging": "v6 layout: expects the header ' #  NAME …' without a 'Columns:' line",
    "/system clock print": "v6/7.<10 date (mmm/dd/yyyy); 7.10+ prints date: 2026-12-06",
    "/system resource print": "expects build-time as Dec/20/2023 08:41:00 (7.12.2 captures); the simulated 7.19.4 prints ISO build-time like other 7.10+ dates",
    "/user print": "v6 layout: 'Flags: X - disabled' and an ADDRESS column without 'Columns:'; 7.x prints 'Columns: NAME, GROUP, LAST-LOGGED-IN' and ISO dates",
}

# Not listed: `/routing bgp peer print status` (RouterOS 6 only; 7 has /routing/bgp/connection)
# and `/tool profile` (runs until interrupted; no textual end a template could see).


def emit(**fields):
    print(json.dumps(fields), flush=True)


def main():
    if len(sys.argv) != 7:
        print("usage: ntc_templates_check.py HOME_HOST HOME_PORT EDGE_HOST EDGE_PORT USERNAME PASSWORD", file=sys.stderr)
        return 2
    home_host, home_port, edge_host, edge_port, username, password = sys.argv[1:]
    try:
        import textfsm
        import ntc_templates
        import paramiko
    except ImportError as exc:
        print(f"{exc} (pip install ntc-templates textfsm netmiko)", file=sys.stderr)
        return 3
    templates = os.path.join(os.path.dirname(ntc_templates.__file__), "templates")

    clients = {}
    for name, host, port in (("home", home_host, home_port), ("edge", edge_host, edge_port)):
        c = paramiko.SSHClient()
        c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        c.connect(host, port=int(port), username=username + "+ct511w4098h", password=password,
                  allow_agent=False, look_for_keys=False, timeout=20, banner_timeout=20,
                  auth_timeout=20)
        clients[name] = c

    def run(device, command):
        _, out, _ = clients[device].exec_command(command, timeout=120)
        return out.read().decode("utf-8", "replace").replace("\r\n", "\n")

    parsed = 0
    checked = 0
    for command, template, keys, count_cmd, device, absent in COMMANDS:
        output = run(device, command)
        if absent:
            ok = "bad command name" in output
            emit(command=command, status="absent" if ok else "unexpectedly-present",
                 output=output[:400])
            continue
        checked += 1
        problems = []
        records = []
        path = os.path.join(templates, f"mikrotik_routeros_{template}.textfsm")
        try:
            with open(path) as f:
                fsm = textfsm.TextFSM(f)
            records = [dict(zip(fsm.header, r)) for r in fsm.ParseText(output)]
        except Exception as exc:  # TextFSM raises its own error types on `-> Error` states
            problems.append(f"template error: {str(exc)[:300]}")
        if not problems and not records:
            problems.append("no records")
        for i, r in enumerate(records):
            empty = [k for k in keys if r.get(k) in ("", None, [])]
            if empty:
                problems.append(f"record {i} has empty {','.join(empty)}: {r}")
                break
        expected = None
        if count_cmd and not problems:
            text = run(device, count_cmd).strip()
            if re.fullmatch(r"\d+", text):
                expected = int(text)
                if expected != len(records):
                    problems.append(f"{len(records)} records for {expected} items")
            else:
                problems.append(f"count command answered {text[:200]!r}")
        if not problems:
            parsed += 1
        emit(command=command, status="parsed" if not problems else "failed",
             reason=REASONS.get(command),
             records=len(records), expected=expected, problems=problems,
             output=output[:1500] if problems else "")
    for c in clients.values():
        c.close()
    emit(summary=True, parsed=parsed, checked=checked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
