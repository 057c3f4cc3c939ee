"""Synthetic data with a known answer, so detections can be tested and demonstrated without real logs.

Layout: `sysmon/` writes the Windows Sysmon log, the Windows Security log (`windows-security.log`: Security
4624/5156 and RemoteConnectionManager 1149, `sysmon/security.py`) and truth.json (see its docstring for one
module per subject), `unix.py` its Linux and macOS companions, `jsonl.py` the JSON lines form of the Windows log.
The ground truth never comes from running detections: `seed_oracle.py` reads the two seed detections'
SPL by hand, `oracle.py` holds regular expressions written from each tunnel detection's intent.
The same seed and size always give the same bytes, so any change to the stream of random draws (one
more draw, or draws in another order) changes every later event; tests compare with the truth, not
with fixed bytes.

truth.json: `process_matches`, `dns_matches`, `near_misses` (the two seed detections, unchanged shape);
`detections` ({detection name: {"matches", "near_misses"}} for every tunnel detection in oracle.py, each
match in its detection's output row shape: process starts {dest, user, process, process_name[, tool|service]},
lookups {src, query}, loopback RDP logons {dest, user, src, signature_id}, loopback RDP connections {dvc,
src_ip, dest_ip, dest_port, process_name}, port proxy registry values {dest, user, registry_path,
registry_value_name, registry_value_data}; a near miss {host, value} whose value a wrong finding would show);
and `tunnels`, one key per protocol-tunnelling variant of issue 16, each {"positives": [...],
"near_misses": [...]}. A positive is every planted event (Windows, Linux or macOS) the oracle
(`oracle.tunnel_process_hits` / `tunnel_dns_hits`) says shows the variant, stamped with its `time`:
process starts as {dest, user, process, process_name, tool, time}, lookups as {src, query, service,
time}; a near miss is {host, value}, a planted look-alike that must not be found. The keys:

- `ssh_tunnel`: an SSH client (ssh, plink, putty, klink, autossh, dbclient; by file name) opening a port
  forward: `-L`, `-R` or `-D` (case-sensitive, alone or closing a cluster such as `-NfR`, spec attached
  or not) or `-o Local|Remote|DynamicForward`. `tool` is the client. Near misses: `ssh -V`, `ssh -l`, ...
- `ssh_tunnel_high_risk`: those of them with a `-L`/`-R` forward to port 22, 445, 3389, 5985 or 5986, or
  to a loopback target (127.0.0.0/8, localhost, ::1), e.g. `plink ... -R 127.0.0.3:4444:127.0.0.2:3389`.
  Near misses: SOCKS (`-D`) and forwards to other ports on other hosts.
- `port_proxy`: `netsh interface portproxy add|set v4tov4|v4tov6|v6tov4|v6tov6`, every word abbreviable
  (`netsh I p a v l=8001 ...`; `s` alone is ambiguous and not counted). Near misses: `show`, `delete`,
  `netsh interface show interface`, firewall rules.
- `proxy_tool`: tunnel and proxy tools by command-line grammar, whatever the binary is called; `tool`
  names the grammar(s) matched (comma-separated): chisel (`client ... R:...`, `server --reverse`), frp
  (`-c frpc.toml`, `--server_addr`), ligolo-ng (`-connect host:port -ignore-cert`, `-selfcert`), gost
  (`-L`/`-F` with a gost URL), socat (an address pair such as `TCP-LISTEN:... TCP:...`), revsocks,
  rathole (`rathole x.toml`), iodine (`iodine ... -P pass`), dnscat2 (`--dns server=`, `Start-Dnscat2`).
  Near misses: `curl -L .../chisel...`, a word containing chisel, `socat -V`, `frpc --version`.
- `tunnel_service_client`: a tunnel service's client opening a tunnel; `tool` is the service:
  cloudflare-tunnel (`tunnel --url|run`, `service install eyJ...`, `access rdp|tcp|ssh --hostname`),
  microsoft-dev-tunnels (`devtunnel host|connect|create|port create`), vscode-tunnel (`code tunnel`,
  `code-tunnel.exe tunnel ...`), tailscale-funnel (`tailscale funnel <port>`), zrok (`share public|private|
  reserved`, `reserve`, `access private`), localtonet (`localtonet authtoken`), playit (`--secret`,
  `start`), pinggy (`-R ...` to a.pinggy.io). Near misses: `--version`, `tunnel list`, `funnel status`...
- `tunnel_service_dns`: a lookup of a name under a tunnel service zone; `service` names it:
  cloudflare-tunnel (`*.trycloudflare.com`, `*.argotunnel.com`, `*.cfargotunnel.com`),
  microsoft-dev-tunnels (`*.devtunnels.ms`, `*.rel.tunnels.api.visualstudio.com`), zrok
  (`*.share.zrok.io`), ngrok (`crl.ngrok-agent.com`, `update.ngrok-agent.com`, `*.ngrok-free.dev`).
  Near misses: `notcloudflared.com`, bare zones (`share.zrok.io`, `ngrok-free.dev`), `<zone>.example.net`.

Positives of one variant can also be positives of another (`ssh -R0:localhost:3389 tcp@a.pinggy.io` is
all of ssh_tunnel, ssh_tunnel_high_risk and tunnel_service_client) and of an ngrok-era detection.

To add one more event kind (a Sysmon EventID):
1. `sysmon/events.py`: its field names in `EVENT_FIELDS` (Sysmon's order and version), its template in
   `EventLog.__init__` (constants inlined) and one renderer method filling the remaining slots.
2. `sysmon/plan.py`: a `Script` method that checks the value against the oracle and records the truth,
   then `self._add(self.host.log.<renderer>, args, truth)`; `sysmon/world.py` if background events of
   that kind should appear too (a `bg_*` method and a weight in `background_table`).
3. The reader and normaliser must already map it (readers/, normalize/windows.py), or it lands in
   `unmapped`.

To add one more scenario: write a function `(plan: Planner) -> None` in `sysmon/scenarios.py` that
opens `plan.script(host)`, spawns processes, looks names up and connects, naming for each planted
value the detections that must find it (`hits`) and must not (`near`), then `plan.place(s)`; list it
in `_FIXED_SCENARIOS` (every dataset; tunnelling beyond ngrok goes in `sysmon/tunnels.py` and its
`TUNNEL_SCENARIOS`) or call it from `plan_scenarios` in proportion to the size. A new truth key is a
constant in oracle.py added to `TUNNEL_VARIANTS` with its regexes in `tunnel_process_hits` or
`tunnel_dns_hits`; name it in `hits`/`near` like a detection.
Keep the fixed scenarios under `MIN_EVENTS // 2` events. An oracle disagreeing with `hits`/`near`
stops generation with an AssertionError, so a planted value cannot silently be wrong.
"""

from typing import TYPE_CHECKING, Any

from tunnelhunt.generate.sizes import MIN_EVENTS

if TYPE_CHECKING:
    from tunnelhunt.generate.sysmon.writer import GeneratedDataset, generate_sysmon

__all__ = ["MIN_EVENTS", "GeneratedDataset", "generate_sysmon"]


def __getattr__(name: str) -> Any:
    """The generator itself is imported when first used (PEP 562), not with the package."""
    if name in ("GeneratedDataset", "generate_sysmon"):
        from tunnelhunt.generate.sysmon import writer

        return getattr(writer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
