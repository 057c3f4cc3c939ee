"""A deterministic, realistic Windows Sysmon dataset with known tunnel activity planted in it.

The file looks like Splunk's attack_data replays (`XmlWinEventLog`, one `<Event>` per line, real
Sysmon field layout); `truth.json` lists exactly the planted events each detection must find and the
near misses it must not. One module per subject, in the order data flows:

- `events`: XML escaping, one template per EventID, `EventLog` (a host's channel) renders events.
- `catalogue`: accounts, hosts, executables, process behaviour profiles, DNS names and answers.
- `security`: the Security and Remote Desktop channels (`SecurityLog`) and their background.
- `world`: `Sysmon`, the estate brought to life (live processes per host) and its background events.
- `plan`: `Script` (one scenario on one host, each event checked against the oracles) and `Planner`.
- `scenarios`: the planted ngrok and tunnel-service activity and its near misses.
- `tunnels`: planted protocol tunnelling beyond ngrok (SSH forwards, port proxies, proxy tools, services).
- `writer`: `generate_sysmon`, which writes the logs and truth.json.
"""
