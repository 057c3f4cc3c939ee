"""Readers: decode one log format safely and yield raw records in Arrow batches with provenance.

Every reader keeps the contract of `base.py`: each record it meets becomes a row of a `RawBatch`
(`_source`, `_offset`, the format's own string fields or one `_json` column) or a `QuarantinedRecord`
with file, offset and reason; every batch carries `end`, the `Position` to resume from.

- `detect.py`: picks the reader by content (`sniff` on the first 64 KiB), most specific first;
  `sniffing.py` holds the sniffs of the formats with a module of their own, `lazy.py` stands for their
  readers until one is read.
- `sources.py`: directories, gzip/bzip2/xz and zip members, so readers only see decompressed bytes.
- `lines.py`: bounded text blocks and lines, invalid UTF-8 replaced.
- One module per format: `sysmon_xml.py` (+ `xml_batch.py`, `xml_fast.py`), `evtx_file.py`,
  `sysmon_linux.py`, `zeek_tsv.py`, `jsonl.py` (JSON-lines layouts), `csv_file.py` (CSV layouts).

To add a format: write a class with `format_name`, `offset_kind`, `sniff`, `read` and
`fingerprint_region` (optionally `fits` for a forced `--format`, `cut_points` to split large files
between workers) and add it to `all_readers()` in `detect.py` as a `lazy.LazyReader` (its sniff in
`sniffing.py`: its module loads only when an input of its format is read); give its batches a `sourcetype` that a
mapping in `normalize/` handles. A JSON-lines or CSV export only needs a `JsonLayout` in
`jsonl.LAYOUTS` or a `CsvLayout` in `csv_file.CSV_LAYOUTS`. See docs/extending.md.
"""
